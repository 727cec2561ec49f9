from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

SWEEP_JOB = ("fangkong.reports.tasks.deadline_sweep", 5)


class ReportsConfig(AppConfig):
    name = "fangkong.reports"
    label = "reports"
    verbose_name = _("Daily reports")

    def ready(self) -> None:
        from fangkong.core.schedules import PERIODIC_JOBS

        if SWEEP_JOB not in PERIODIC_JOBS:
            PERIODIC_JOBS.append(SWEEP_JOB)  # every 5 minutes: reminders and escalations
