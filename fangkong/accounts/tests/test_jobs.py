"""The jobs page over the task queue: who sees it, and running a schedule now."""

import pytest
from django.urls import reverse

from fangkong.core.models import AuditLog, QueueHeartbeat

pytestmark = pytest.mark.django_db


def test_jobs_page_only_for_group_admins(client, org, login_as):
    login_as("unit_admin", org.group)
    assert client.get(reverse("jobs")).status_code == 403
    login_as("group_admin", org.group)
    page = client.get(reverse("jobs")).content.decode()
    assert "fangkong.notify.tasks.deliver_due" in page


def test_jobs_page_runs_a_schedule_now_and_lists_the_outcome(
    client, org, login_as, django_capture_on_commit_callbacks
):
    from django_q.models import Schedule

    from fangkong.core.schedules import ensure_schedules

    ensure_schedules()
    schedule = Schedule.objects.get(func="fangkong.core.tasks.queue_heartbeat")
    login_as("unit_admin", org.ent_a)
    assert client.post(reverse("schedule_run", args=[schedule.pk])).status_code == 403
    login_as("group_admin", org.group)
    with django_capture_on_commit_callbacks(execute=True):  # the queue is sync under test
        client.post(reverse("schedule_run", args=[schedule.pk]))
    assert QueueHeartbeat.objects.exists()
    assert AuditLog.objects.filter(object_type="django_q.task").exists()
    page = client.get(reverse("jobs"), {"outcome": "success"}).content.decode()
    assert "fangkong.core.tasks.queue_heartbeat" in page
