"""The jobs page over the task queue: who sees it, and running a schedule now."""

import pytest
from django.urls import reverse

from fangkong.core.models import AuditLog, QueueHeartbeat

pytestmark = pytest.mark.django_db


def test_jobs_page_only_for_group_admins(client, org, login_as):
    login_as("unit_admin", org.group)
    assert client.get(reverse("jobs")).status_code == 403
    login_as("group_admin", org.group)
    assert client.get(reverse("jobs")).status_code == 200


def test_jobs_page_names_each_job_and_says_how_often_in_words(client, org, login_as):
    from fangkong.core.schedules import PERIODIC_JOBS, ensure_schedules

    ensure_schedules()
    login_as("group_admin", org.group)
    page = client.get(reverse("jobs"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Send due notifications" in page and "Purge personal data past retention" in page
    assert "Every day" in page and "1440" not in page and "Every 15 minutes" in page
    assert not any(func in page for func, _minutes in PERIODIC_JOBS)


def test_every_periodic_job_has_a_display_name():
    from fangkong.core.schedules import JOB_NAMES, PERIODIC_JOBS

    assert {func for func, _minutes in PERIODIC_JOBS} <= set(JOB_NAMES)


def test_how_often_reads_in_the_largest_whole_unit():
    from django.utils import translation

    from fangkong.core.schedules import every

    with translation.override("en"):
        assert [every(m) for m in (1, 5, 60, 120, 1440, 2880)] == [
            "Every 1 minute",
            "Every 5 minutes",
            "Every hour",
            "Every 2 hours",
            "Every day",
            "Every 2 days",
        ]


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
    page = client.get(
        reverse("jobs"), {"outcome": "success"}, HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()
    # The finished task shows as its job, not as a function path and a random task name.
    assert "Queue heartbeat" in page and "fangkong.core.tasks" not in page
    # Its audit row names the job too, not "run now: <function path>".
    from django.utils import translation

    from fangkong.accounts.audit_display import audit_changes, object_text

    row = AuditLog.objects.get(object_type="django_q.task")
    with translation.override("en"):
        assert object_text(row) == "Queue heartbeat"
    assert audit_changes(row.object_type, row.before, row.after) == []
