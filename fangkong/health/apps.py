from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HealthConfig(AppConfig):
    name = "fangkong.health"
    label = "health"
    verbose_name = _("Health card")

    def ready(self) -> None:
        from . import (
            receivers,  # noqa: F401  (keeps declarations with their people)
            retention,
        )

        retention.register()  # erasing declarations of a past outbreak
        self._watch_catalogue()

    @staticmethod
    def _watch_catalogue() -> None:
        from .models import HealthRule, OutbreakProfile, Symptom
        from .selectors import catalogue

        catalogue.watch([OutbreakProfile, Symptom, HealthRule])
