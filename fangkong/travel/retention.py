"""What travel erases of a past outbreak: the itineraries (stays ending within it) and the
closed returnee cards filed within it, with their decisions. Registered from
``TravelConfig.ready``."""

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from fangkong.core import retention

from .models import Itinerary, ReturneeCard


def _itineraries_due(period: retention.Period) -> QuerySet[Any]:
    return Itinerary.objects.filter(period.days("to_day"))


def _cards_due(period: retention.Period) -> QuerySet[Any]:
    return ReturneeCard.objects.filter(is_open=False).filter(period.instants("created_at"))


def register() -> None:
    retention.register(
        retention.Purger(key="travel.itineraries", label=_("Itineraries"), due=_itineraries_due)
    )
    retention.register(
        retention.Purger(
            key="travel.returnee_cards",
            label=_("Closed returnee cards and their decisions"),
            due=_cards_due,
        )
    )
