"""A rectification problem accepted moves its bad reviews on to the follow-up review."""

from typing import Any

from django.dispatch import receiver

from fangkong.ledger.models import Item
from fangkong.ledger.signals import item_state_changed
from fangkong.rectification.ledger_kind import ACCEPTED
from fangkong.rectification.ledger_kind import KIND as PROBLEM

from . import services


@receiver(item_state_changed, sender=Item)
def bad_reviews_follow_their_problem(sender: Any, item: Item, previous: str, **kwargs: Any) -> None:
    if item.kind == PROBLEM and item.state == ACCEPTED:
        services.problem_accepted(item)
