"""Keep the checkpoints' copies of site paths in step when units move."""

from typing import Any

from django.db.models import Value
from django.db.models.functions import Concat, Substr
from django.dispatch import receiver

from fangkong.core.paths import subtree_q
from fangkong.orgs import signals

from .models import Checkpoint, GateEvent, Post, SitePolicy, Visitor, WatchEntry


@receiver(signals.subtree_moved)
def repath_subtree(*, old_path: str, new_path: str, **kwargs: Any) -> None:
    for model, field in (
        (SitePolicy, "site_path"),
        (Checkpoint, "site_path"),
        (Visitor, "site_path"),
        (GateEvent, "site_path"),
        (Post, "site_path"),
        (WatchEntry, "unit_path"),
    ):
        model.objects.filter(subtree_q(field, old_path)).update(
            **{field: Concat(Value(new_path), Substr(field, len(old_path) + 1))}
        )
