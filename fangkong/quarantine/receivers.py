"""Keep the quarantine copies of unit paths in step when units move, people move or merge."""

from typing import Any

from django.db.models import Value
from django.db.models.functions import Concat, Substr
from django.dispatch import receiver

from fangkong.core.paths import subtree_q
from fangkong.ledger import signals as ledger_signals
from fangkong.ledger.models import Item
from fangkong.orgs import signals
from fangkong.orgs.models import Person

from .ledger_kind import KIND
from .models import Placement, Site, Trip


def _repath(model: Any, field: str, old_path: str, new_path: str) -> None:
    model.objects.filter(subtree_q(field, old_path)).update(
        **{field: Concat(Value(new_path), Substr(field, len(old_path) + 1))}
    )


@receiver(signals.subtree_moved)
def repath_subtree(*, old_path: str, new_path: str, **kwargs: Any) -> None:
    for model, field in (
        (Site, "unit_path"),
        (Trip, "unit_path"),
        (Placement, "unit_path"),
        (Placement, "site_path"),
    ):
        _repath(model, field, old_path, new_path)


@receiver(signals.person_moved)
def follow_person(*, person: Person, **kwargs: Any) -> None:
    Placement.objects.filter(person=person).update(unit_path=person.unit_path)


@receiver(signals.person_merged)
def merge_placements(*, survivor: Person, duplicate: Person, **kwargs: Any) -> None:
    """Give the duplicate's placements and trips to the survivor.

    Should both records be in quarantine, the survivor's placement stands and the
    duplicate's is cancelled, so one person never has two open placements.
    """
    if Placement.objects.filter(person=survivor, state__in=Placement.OPEN_STATES).exists():
        Placement.objects.filter(person=duplicate, state__in=Placement.OPEN_STATES).update(
            state=Placement.State.CANCELLED
        )
    Placement.objects.filter(person=duplicate).update(person=survivor, unit_path=survivor.unit_path)
    for trip in Trip.objects.filter(people=duplicate):
        trip.people.remove(duplicate)
        trip.people.add(survivor)


@receiver(ledger_signals.item_state_changed)
def follow_item(*, item: Item, **kwargs: Any) -> None:
    """Keep a placement in the state of its ledger item, wherever the item was worked on."""
    if item.kind != KIND:
        return
    from .services import placement_follow_item

    placement_follow_item(item)
