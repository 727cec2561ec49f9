"""Keep the passes' copies of unit paths in step when units move; follow merged people;
revoke a holder's passes when the holder's status stops admitting them."""

from typing import Any

from django.db.models import Value
from django.db.models.functions import Concat, Substr
from django.dispatch import receiver
from django.utils.translation import gettext_lazy as _

from fangkong.core.paths import subtree_q
from fangkong.health.models import Declaration
from fangkong.health.signals import abnormal_declared
from fangkong.ledger.models import Item
from fangkong.ledger.signals import items_opened
from fangkong.orgs import signals
from fangkong.orgs.models import Person
from fangkong.quarantine.signals import placement_started
from fangkong.tracking.rules import ABNORMAL, CONTACT

from . import daily
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


# ---------------------------------------------------------------- the holder's status
# Each receiver runs inside the sender's transaction: the revocation commits with the
# declaration, placement or card that caused it, and online verification sees it at once.

FEVER_OR_RED = _("The holder's health declaration no longer admits a pass.")
PLACED = _("The holder was placed in quarantine.")
CARD_OPENED = _("An abnormal-person or close-contact card was opened for the holder.")


@receiver(abnormal_declared)
def revoke_for_abnormal_declarations(*, declarations: list[Declaration], **kwargs: Any) -> None:
    admitted = daily.admit_statuses()
    daily.revoke_for_people(
        (row.person_id for row in declarations if row.status not in admitted), FEVER_OR_RED
    )


@receiver(placement_started)
def revoke_for_placement(*, person_id: int, **kwargs: Any) -> None:
    daily.revoke_for_people([person_id], PLACED)


@receiver(items_opened)
def revoke_for_blocking_cards(*, kind: str, items: list[Item], **kwargs: Any) -> None:
    if kind not in (ABNORMAL, CONTACT):
        return
    daily.revoke_for_people(
        (item.person_id for item in items if item.person_id is not None), CARD_OPENED
    )
