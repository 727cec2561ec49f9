"""The person page's cards: the ledger items about the person, open ones first."""

from django.urls import reverse
from django.utils.translation import gettext_lazy

from fangkong.accounts.actors import Viewer
from fangkong.accounts.roles import Perm
from fangkong.accounts.selectors import scope_for
from fangkong.orgs.models import Person
from fangkong.orgs.person_sections import Entry, Section, register

from . import kinds
from .models import Item


def card_entries(user: Viewer, person: Person) -> list[Entry]:
    """Items about ``person`` of every kind whose items the user may see at the item's unit."""
    entries = []
    items = Item.objects.filter(person=person).order_by("-is_open", "-opened_at", "-id")
    for item in items:
        kind = kinds.find(item.kind)
        if kind is None or not scope_for(user, kind.view_perm).covers(item.unit_path):
            continue
        entries.append(
            Entry(
                text=f"{kind.label} · {item.title}",
                url=reverse("ledger:item", args=[item.pk]),
                when=item.opened_at,
                badge="bad"
                if item.is_overdue and item.is_open
                else ("" if item.is_open else "green"),
                badge_text=str(kind.state_label(item.state)),
            )
        )
    return entries


def register_section() -> None:
    # Every kind so far shows its items with health data; each entry checks its own kind.
    register(
        Section(
            key="ledger",
            title=gettext_lazy("Tracking ledgers"),
            perm=Perm.VIEW_HEALTH,
            entries=card_entries,
            order=20,
        )
    )
