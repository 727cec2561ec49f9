"""Periodic jobs, created after every migrate so a fresh database has them."""

import datetime as dt
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from .calendar import LOCAL_TZ

# (task path, minutes between runs); later apps add deadline checks and reminders here.
PERIODIC_JOBS = [
    ("fangkong.core.tasks.queue_heartbeat", 1),
    ("fangkong.core.throttle.sweep", 15),  # rate-limit windows that have ended
    ("fangkong.notify.tasks.deliver_due", 1),
    ("fangkong.reports.tasks.deadline_sweep", 5),  # report reminders and escalations
    ("fangkong.ledger.tasks.overdue_sweep", 5),  # ledger deadlines: warnings and breaches
    ("fangkong.health.tasks.purge_personal_data", 1440),  # personal data past retention (daily)
    ("fangkong.checkpoints.tasks.unstaffed_sweep", 5),  # duty posts without a guard at shift start
    ("fangkong.passes.tasks.trust_list_refresh", 60),  # the scanners' trust list, 48 h ahead
    ("fangkong.evaluation.tasks.follow_ups_expire", 60),  # bad reviews whose 追评 never came
    # Monday 07:00 Asia/Shanghai: the weekly bulletins' drafts (the job checks the hour).
    ("fangkong.rectification.bulletin.weekly_drafts", 5),
]

# (task path, local time "HH:MM" in Asia/Shanghai): jobs that run once a day at a set hour.
DAILY_JOBS = [
    ("fangkong.rectification.tasks.colours_recompute", "01:00"),  # supervision colours
    # On the 1st (the job checks the day): the monthly reports and the ranking alerts.
    ("fangkong.evaluation.tasks.monthly_publication", "06:00"),
]


# What the jobs page calls each job: its readers are prevention-office admins, not coders.
JOB_NAMES = {
    "fangkong.core.tasks.queue_heartbeat": _("Queue heartbeat"),
    "fangkong.core.throttle.sweep": _("Clear ended rate-limit windows"),
    "fangkong.notify.tasks.deliver_due": _("Send due notifications"),
    "fangkong.reports.tasks.deadline_sweep": _("Daily report reminders and escalations"),
    "fangkong.ledger.tasks.overdue_sweep": _("Ledger deadline warnings and breaches"),
    "fangkong.health.tasks.purge_personal_data": _("Purge personal data past retention"),
    "fangkong.checkpoints.tasks.unstaffed_sweep": _("Duty posts without a guard"),
    "fangkong.passes.tasks.trust_list_refresh": _("Re-sign the pass trust list"),
    "fangkong.evaluation.tasks.follow_ups_expire": _("Close bad reviews without a follow-up"),
    "fangkong.rectification.bulletin.weekly_drafts": _("Monday's weekly bulletin drafts"),
    "fangkong.rectification.tasks.colours_recompute": _("Supervision colours, nightly"),
    "fangkong.evaluation.tasks.monthly_publication": _(
        "Monthly evaluation reports and ranking alerts"
    ),
}


def job_name(func: str) -> str:
    """The job's display name in the reader's language; an unknown task keeps its path."""
    name = JOB_NAMES.get(func)
    return str(name) if name is not None else func


def every(minutes: int) -> str:
    """How often a job runs, in the largest whole unit: "every day" rather than 1440 minutes."""
    if minutes == 1440:
        return gettext("Every day")
    if minutes % 1440 == 0:
        days = minutes // 1440
        return ngettext("Every %(days)d day", "Every %(days)d days", days) % {"days": days}
    if minutes == 60:
        return gettext("Every hour")
    if minutes % 60 == 0:
        hours = minutes // 60
        return ngettext("Every %(hours)d hour", "Every %(hours)d hours", hours) % {"hours": hours}
    return ngettext("Every %(minutes)d minute", "Every %(minutes)d minutes", minutes) % {
        "minutes": minutes
    }


def next_local_time(hhmm: str, now: dt.datetime) -> dt.datetime:
    """The next instant at ``hhmm`` Asia/Shanghai after ``now`` (today's, else tomorrow's)."""
    hour, minute = (int(part) for part in hhmm.split(":"))
    local = now.astimezone(LOCAL_TZ)
    due = local.replace(hour=hour, minute=minute, second=0, microsecond=0)
    return due if due > local else due + dt.timedelta(days=1)


def ensure_schedules(**kwargs: Any) -> None:
    from django_q.models import Schedule

    for func, minutes in PERIODIC_JOBS:
        Schedule.objects.update_or_create(
            name=func,
            defaults={
                "func": func,
                "schedule_type": Schedule.MINUTES,
                "minutes": minutes,
                "repeats": -1,
            },
        )
    now = timezone.now()
    for func, hhmm in DAILY_JOBS:
        # A daily schedule keeps its hour from next_run; set it only when it is created.
        Schedule.objects.update_or_create(
            name=func,
            defaults={"func": func, "schedule_type": Schedule.DAILY, "repeats": -1},
            create_defaults={
                "func": func,
                "schedule_type": Schedule.DAILY,
                "repeats": -1,
                "next_run": next_local_time(hhmm, now),
            },
        )
