"""Keep items' unit paths in step when orgs moves units or people, or merges records."""

from typing import Any

from django.db.models import Value
from django.db.models.functions import Concat, Substr
from django.dispatch import receiver

from fangkong.core.paths import subtree_q
from fangkong.orgs import signals
from fangkong.orgs.models import Person

from .models import Item


@receiver(signals.subtree_moved)
def repath_subtree(*, old_path: str, new_path: str, **kwargs: Any) -> None:
    Item.objects.filter(subtree_q("unit_path", old_path)).update(
        unit_path=Concat(Value(new_path), Substr("unit_path", len(old_path) + 1))
    )


@receiver(signals.person_moved)
def follow_person(*, person: Person, **kwargs: Any) -> None:
    """Open items about the person move with the person; closed ones stay where they were."""
    Item.objects.filter(person=person, is_open=True).update(
        unit_id=person.unit_id, unit_path=person.unit_path
    )


@receiver(signals.person_merged)
def merge_items(*, survivor: Person, duplicate: Person, **kwargs: Any) -> None:
    Item.objects.filter(person=duplicate).update(person=survivor)
