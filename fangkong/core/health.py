"""Health of the database and the task queue, for /healthz and monitoring."""

from typing import Any

from django.conf import settings
from django.db import connection
from django.utils import timezone
from django_q.models import OrmQ

from .models import QueueHeartbeat
from .tasks import HEARTBEAT_NAME


def database_health() -> dict[str, Any]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any driver error means "down"
        return {"ok": False, "vendor": connection.vendor, "error": exc.__class__.__name__}
    return {"ok": True, "vendor": connection.vendor}


def queue_health() -> dict[str, Any]:
    """The queue is healthy when a worker beat recently; report the backlog either way."""
    try:
        waiting = OrmQ.objects.count()
        beat = QueueHeartbeat.objects.filter(name=HEARTBEAT_NAME).first()
    except Exception as exc:
        return {"ok": False, "error": exc.__class__.__name__}
    if settings.Q_CLUSTER.get("sync"):
        return {"ok": True, "mode": "sync", "waiting": waiting}
    age = (timezone.now() - beat.beat_at).total_seconds() if beat else None
    ok = age is not None and age <= settings.QUEUE_HEARTBEAT_STALE_SECONDS
    return {
        "ok": ok,
        "mode": "workers",
        "waiting": waiting,
        "last_heartbeat_seconds_ago": round(age) if age is not None else None,
    }
