"""Keep itineraries and returnee cards with their people when records merge."""

from typing import Any

from django.dispatch import receiver

from fangkong.orgs import signals
from fangkong.orgs.models import Person

from .models import Itinerary, ReturneeCard


@receiver(signals.person_merged)
def merge_travel(*, survivor: Person, duplicate: Person, **kwargs: Any) -> None:
    """Give the duplicate's itineraries and cards to the survivor; the survivor's open card wins."""
    if ReturneeCard.objects.filter(person=survivor, is_open=True).exists():
        ReturneeCard.objects.filter(person=duplicate, is_open=True).update(is_open=False)
    ReturneeCard.objects.filter(person=duplicate).update(person=survivor)
    Itinerary.objects.filter(person=duplicate).update(person=survivor)
