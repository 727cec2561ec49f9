from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TravelConfig(AppConfig):
    name = "fangkong.travel"
    label = "travel"
    verbose_name = _("Travel and return to post")

    def ready(self) -> None:
        from fangkong.accounts.audit_display import register_object_page
        from fangkong.accounts.roles import Perm

        register_object_page("travel.returneecard", "travel:card", Perm.VIEW_HEALTH)
        from . import (
            receivers,  # noqa: F401  (keeps itineraries and cards with merged people)
            retention,
        )

        retention.register()  # erasing itineraries of a past outbreak
        from .person_section import register_section

        register_section()  # the person page's itineraries and returnee cards
