"""Keep the reports' copies of their units' paths in step when orgs moves a subtree."""

from typing import Any

from django.db.models import Value
from django.db.models.functions import Concat, Substr
from django.dispatch import receiver

from fangkong.core.paths import subtree_q
from fangkong.orgs import signals

from .models import UnitReport


@receiver(signals.subtree_moved)
def repath_subtree(*, old_path: str, new_path: str, **kwargs: Any) -> None:
    UnitReport.objects.filter(subtree_q("unit_path", old_path)).update(
        unit_path=Concat(Value(new_path), Substr("unit_path", len(old_path) + 1))
    )
