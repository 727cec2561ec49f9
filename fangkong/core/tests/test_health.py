import datetime as dt

import pytest
from django.utils import timezone

from fangkong.core.models import QueueHeartbeat
from fangkong.core.tasks import queue_heartbeat


@pytest.mark.django_db
def test_healthz_reports_database_and_queue(client):
    response = client.get("/healthz")
    body = response.json()
    assert response.status_code == 200
    assert body["database"]["ok"] is True
    assert body["queue"]["ok"] is True


@pytest.mark.django_db
def test_queue_with_workers_is_unhealthy_without_a_recent_heartbeat(client, settings):
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "sync": False}
    assert client.get("/healthz").status_code == 503
    queue_heartbeat()
    assert client.get("/healthz").json()["queue"]["ok"] is True
    QueueHeartbeat.objects.update(beat_at=timezone.now() - dt.timedelta(minutes=10))
    assert client.get("/healthz").status_code == 503


@pytest.mark.django_db
def test_migrate_creates_the_heartbeat_schedule():
    from django_q.models import Schedule

    assert Schedule.objects.filter(func="fangkong.core.tasks.queue_heartbeat").exists()


def test_every_page_has_an_icon_and_favicon_ico_is_no_404(client, django_user_model):
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response["Location"].endswith("img/favicon.svg")
    page = client.get("/accounts/login/").content.decode()
    assert 'rel="icon"' in page and "favicon.svg" in page
