from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "fangkong.core"
    label = "core"
    verbose_name = _("Core")

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from .schedules import ensure_schedules

        post_migrate.connect(ensure_schedules, sender=self)
        self._watch_calendar()
        self._watch_divisions()

    @staticmethod
    def _watch_calendar() -> None:
        """Drop the working-day cache whenever an override or a notice changes."""
        from . import calendar
        from .models import CalendarDay, CalendarNotice

        calendar.overrides.watch([CalendarDay, CalendarNotice])

    @staticmethod
    def _watch_divisions() -> None:
        from .divisions import division_names
        from .models import Division

        division_names.watch([Division])
