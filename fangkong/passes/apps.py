from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PassesConfig(AppConfig):
    name = "fangkong.passes"
    label = "passes"
    verbose_name = _("Passes")

    def ready(self) -> None:
        from . import receivers  # noqa: F401  (path copies, merged people, status changes)
        from .person_section import register_section

        register_section()
