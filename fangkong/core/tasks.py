"""Periodic jobs of the core app."""

from django.utils import timezone

from .models import QueueHeartbeat

HEARTBEAT_NAME = "default"


def queue_heartbeat() -> None:
    """Record that a queue worker ran a scheduled job just now (read by /healthz)."""
    QueueHeartbeat.objects.update_or_create(
        name=HEARTBEAT_NAME, defaults={"beat_at": timezone.now()}
    )
