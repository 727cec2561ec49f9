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
        from .person_section import register_section

        register_section()  # the person page's health status
