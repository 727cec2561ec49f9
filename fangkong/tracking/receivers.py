"""Open and adjust cards when lower apps report events (declarations, quarantine, travel).

Each receiver runs inside the sender's transaction: if opening a card fails, the event
(the declaration, the placement, the risk-area raise) is rolled back with it.
"""

from typing import Any

from django.dispatch import receiver

from fangkong.health.models import Declaration
from fangkong.health.signals import abnormal_declared
from fangkong.quarantine.signals import placement_released, placement_started
from fangkong.travel import services as travel_services
from fangkong.travel.signals import Exposure, exposures_found

from . import services


@receiver(abnormal_declared)
def open_cards_for_abnormal(*, declarations: list[Declaration], **kwargs: Any) -> None:
    services.cards_for_declarations(declarations=declarations)


@receiver(exposures_found)
def open_cards_for_exposures(*, exposures: list[Exposure], **kwargs: Any) -> None:
    services.cards_for_exposures(exposures=exposures)


@receiver(placement_started)
def twice_daily_in_quarantine(*, person_id: int, **kwargs: Any) -> None:
    services.cadence_follow_quarantine(person_id=person_id, in_quarantine=True)


@receiver(placement_released)
def daily_after_quarantine(*, person_id: int, **kwargs: Any) -> None:
    services.cadence_follow_quarantine(person_id=person_id, in_quarantine=False)


@receiver(placement_started)
@receiver(placement_released)
def redecide_returnee_card(*, person_id: int, **kwargs: Any) -> None:
    """A person in a room may not return to post: the returnee card follows the placement."""
    travel_services.cards_redecide_for(person_ids=[person_id])
