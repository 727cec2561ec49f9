"""Keep the passes' copies of unit paths in step when units move; follow merged people."""

from typing import Any

from django.db.models import Value
from django.db.models.functions import Concat, Substr
from django.dispatch import receiver

from fangkong.core.paths import subtree_q
from fangkong.orgs import signals
from fangkong.orgs.models import Person

from .models import Pass


@receiver(signals.subtree_moved)
def repath_subtree(*, old_path: str, new_path: str, **kwargs: Any) -> None:
    Pass.objects.filter(subtree_q("unit_path", old_path)).update(
        unit_path=Concat(Value(new_path), Substr("unit_path", len(old_path) + 1))
    )


@receiver(signals.person_merged)
def merge_passes(*, survivor: Person, duplicate: Person, **kwargs: Any) -> None:
    """The duplicate's passes are the survivor's now: a later status change revokes them."""
    Pass.objects.filter(person=duplicate).update(person=survivor)
