"""The person page's quarantine: the person's placements, newest first."""

from django.urls import reverse
from django.utils.translation import gettext_lazy

from fangkong.accounts.actors import Viewer
from fangkong.accounts.roles import Perm
from fangkong.orgs.models import Person
from fangkong.orgs.person_sections import Entry, Section, register

from .models import Placement


def placement_entries(user: Viewer, person: Person) -> list[Entry]:
    placements = Placement.objects.filter(person=person).select_related("site", "room")
    entries = []
    for placement in placements.order_by("-start", "-id"):
        where = placement.get_mode_display()
        if placement.site:
            where = placement.site.name + (f" {placement.room.number}" if placement.room else "")
        span = f"{placement.start:%Y-%m-%d} – {placement.planned_end:%Y-%m-%d}"
        entries.append(
            Entry(
                text=f"{where} · {span} · {placement.get_level_display()}",
                url=reverse("quarantine:placement", args=[placement.pk]),
                when=placement.start,
                badge="bad" if placement.state in Placement.OPEN_STATES else "",
                badge_text=placement.get_state_display(),
            )
        )
    return entries


def register_section() -> None:
    # Placements are health data: the site's staff see them on the quarantine pages.
    register(
        Section(
            key="quarantine",
            title=gettext_lazy("Quarantine placements"),
            perm=Perm.VIEW_HEALTH,
            entries=placement_entries,
            order=40,
        )
    )
