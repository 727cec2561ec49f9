"""Keep declarations with their people when units move, people move or records merge.

A person's declarations follow the person: the roll-up counts a person, and everything
that person declared, in the unit the person belongs to now. So a subtree never shows
more declarations than people (completeness stays within 100%).
"""

from typing import Any

from django.db.models import Value
from django.db.models.functions import Concat, Substr
from django.dispatch import receiver

from fangkong.core.paths import subtree_q
from fangkong.orgs import signals
from fangkong.orgs.models import Person

from . import tally
from .models import DayTally, Declaration


@receiver(signals.subtree_moved)
def repath_subtree(*, old_path: str, new_path: str, **kwargs: Any) -> None:
    """Rewrite the path prefix of the subtree's declarations and tallies alike."""
    repathed = Concat(Value(new_path), Substr("unit_path", len(old_path) + 1))
    for model in (Declaration, DayTally):
        model.objects.filter(subtree_q("unit_path", old_path)).update(unit_path=repathed)


@receiver(signals.person_moved)
def follow_person(*, person: Person, **kwargs: Any) -> None:
    declarations = Declaration.objects.filter(person=person)
    _move_counts(tally.current_rows(declarations), to_path=person.unit_path)
    declarations.update(unit_path=person.unit_path)


@receiver(signals.person_merged)
def merge_declarations(*, survivor: Person, duplicate: Person, **kwargs: Any) -> None:
    """Give the duplicate's declarations to the survivor; the survivor's own day wins."""
    days_taken = Declaration.objects.filter(person=survivor, is_current=True).values("day")
    overlapping = Declaration.objects.filter(person=duplicate, is_current=True, day__in=days_taken)
    deltas = tally.Deltas()
    deltas.add_rows(tally.current_rows(overlapping), sign=-1)
    deltas.apply()
    overlapping.update(is_current=False)
    declarations = Declaration.objects.filter(person=duplicate)
    _move_counts(tally.current_rows(declarations), to_path=survivor.unit_path)
    declarations.update(person=survivor, unit_path=survivor.unit_path)


def _move_counts(rows: list[Any], *, to_path: str) -> None:
    deltas = tally.Deltas()
    deltas.add_rows(rows, sign=-1)
    deltas.add_rows(rows, path=to_path)
    deltas.apply()
