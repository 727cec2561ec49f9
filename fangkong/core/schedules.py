"""Periodic jobs, created after every migrate so a fresh database has them."""

from typing import Any

# (task path, minutes between runs); later apps add deadline checks and reminders here.
PERIODIC_JOBS = [
    ("fangkong.core.tasks.queue_heartbeat", 1),
    ("fangkong.core.throttle.sweep", 15),  # rate-limit windows that have ended
    ("fangkong.notify.tasks.deliver_due", 1),
    ("fangkong.reports.tasks.deadline_sweep", 5),  # report reminders and escalations
    ("fangkong.ledger.tasks.overdue_sweep", 5),  # ledger deadlines: warnings and breaches
    ("fangkong.health.tasks.purge_personal_data", 1440),  # personal data past retention (daily)
]


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
