"""The person page's health section: the day-by-day status of the last 30 days."""

from django.urls import reverse
from django.utils.translation import gettext_lazy

from fangkong.accounts.actors import Viewer
from fangkong.accounts.roles import Perm
from fangkong.orgs.models import Person
from fangkong.orgs.person_sections import Entry, Section, register

from .selectors import person_status_history
from .status import reason_labels


def declaration_entries(user: Viewer, person: Person) -> list[Entry]:
    """Each day's current declaration, newest first; each opens the person's health page."""
    url = reverse("health:person", args=[person.pk]) if person.is_active else ""
    entries = []
    for row in person_status_history(person).filter(is_current=True):
        text = " · ".join(
            [f"{row.day:%Y-%m-%d}", f"{row.temperature} °C", *reason_labels(row.reasons)]
        )
        entries.append(
            Entry(
                text=text,
                url=url,
                when=row.created_at,
                badge=row.status,
                badge_text=row.get_status_display(),
            )
        )
    return entries


def register_section() -> None:
    register(
        Section(
            key="health",
            title=gettext_lazy("Health status"),
            perm=Perm.VIEW_HEALTH,
            entries=declaration_entries,
            order=10,
        )
    )
