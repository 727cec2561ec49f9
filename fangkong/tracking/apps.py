from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TrackingConfig(AppConfig):
    name = "fangkong.tracking"
    label = "tracking"
    verbose_name = _("Tracking")

    def ready(self) -> None:
        from . import kinds, receivers  # noqa: F401  (cards from declarations, travel, quarantine)

        kinds.register_kinds()
        from . import retention

        retention.register()  # erasing cards' follow-ups of a past outbreak
        from .person_section import register_section

        register_section()  # the person page's close contacts
