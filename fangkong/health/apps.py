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
        _name_links_in_the_audit_log()
        self._watch_catalogue()

    @staticmethod
    def _watch_catalogue() -> None:
        from .models import HealthRule, OutbreakProfile, Symptom
        from .selectors import catalogue

        catalogue.watch([OutbreakProfile, Symptom, HealthRule])


def _name_links_in_the_audit_log() -> None:
    """Link rows were stored as "<name>: declaration link(s)" in English; the type's label
    already says what they are, so the log shows the person, or the unit and the count."""
    import re
    from typing import Any

    from django.utils.translation import ngettext

    from fangkong.accounts.audit_display import register_object_text

    one = re.compile(r"^(.*): declaration link$")
    many = re.compile(r"^(.*): (\d+) declaration links$")

    def link_text(entry: Any) -> str | None:
        if match := one.match(entry.object_repr):
            return match.group(1)
        if match := many.match(entry.object_repr):
            count = int(match.group(2))
            return ngettext("%(unit)s: %(count)d link", "%(unit)s: %(count)d links", count) % {
                "unit": match.group(1),
                "count": count,
            }
        return None

    register_object_text("health.personlink", link_text)
