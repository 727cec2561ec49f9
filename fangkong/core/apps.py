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

    @staticmethod
    def _watch_calendar() -> None:
        """Drop the working-day cache whenever an override or a notice changes."""
        from django.db.models.signals import post_delete, post_save

        from . import calendar
        from .models import CalendarDay, CalendarNotice

        def drop(**kwargs: object) -> None:
            calendar.invalidate()

        for model in (CalendarDay, CalendarNotice):
            post_save.connect(drop, sender=model, weak=False)
            post_delete.connect(drop, sender=model, weak=False)
