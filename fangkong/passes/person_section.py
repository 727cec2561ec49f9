"""The person page's passes: in force and recent, and the printed card for a person
without a phone."""

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy

from fangkong.accounts.actors import Viewer
from fangkong.accounts.roles import Perm
from fangkong.accounts.selectors import scope_for
from fangkong.orgs.models import Person
from fangkong.orgs.person_sections import Entry, Section, register

from .models import Pass

RECENT = 10


def pass_entries(user: Viewer, person: Person) -> list[Entry]:
    now = timezone.now()
    entries = []
    # A pass keeps the unit it was issued under (a person moves, records are merged): only
    # those of the viewer's units show, as the list of passes would.
    rows = scope_for(user, Perm.VIEW_HEALTH).filter(Pass.objects.filter(person=person), "unit_path")
    for row in rows.order_by("-issued_at", "-pk")[:RECENT]:
        live = row.revoked_at is None and row.valid_until > now
        until = timezone.localtime(row.valid_until).strftime("%Y-%m-%d %H:%M")
        kind = gettext("printed card") if row.printed else row.get_kind_display()
        entries.append(
            Entry(
                text=f"{kind} · {until}",
                url=reverse("passes:detail", args=[row.pk]),
                when=row.issued_at,
                badge="green" if live else ("bad" if row.revoked_at else ""),
                badge_text=gettext("In force")
                if live
                else (gettext("Revoked") if row.revoked_at else gettext("Expired")),
            )
        )
    if scope_for(user, Perm.MANAGE_PEOPLE).covers(person.unit_path):
        entries.append(
            Entry(
                text=gettext("Print a long-term pass"),
                url=reverse("passes:printed") + f"?person={person.pk}",
            )
        )
    return entries


def register_section() -> None:
    # A revoked pass tells of a health status change: health data, like the placements.
    register(
        Section(
            key="passes",
            title=gettext_lazy("Passes"),
            perm=Perm.VIEW_HEALTH,
            entries=pass_entries,
            order=60,
        )
    )
