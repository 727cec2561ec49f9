"""The person page's travel: itineraries and returnee cards with their decisions."""

from django.urls import reverse
from django.utils.translation import gettext, gettext_lazy

from fangkong.accounts.actors import Viewer
from fangkong.accounts.roles import Perm
from fangkong.orgs.models import Person
from fangkong.orgs.person_sections import Entry, Section, register

from .models import Itinerary, Outcome, ReturneeCard


def travel_entries(user: Viewer, person: Person) -> list[Entry]:
    """Returnee cards (each with its decision) first, then itineraries, newest first."""
    entries = []
    for card in ReturneeCard.objects.filter(person=person).order_by("-created_at", "-id"):
        decided = card.outcome != Outcome.WAITING
        entries.append(
            Entry(
                text=gettext("Returnee card"),
                url=reverse("travel:card", args=[card.pk]),
                when=card.created_at,
                badge=("green" if card.outcome == Outcome.MAY_RETURN else "bad") if decided else "",
                badge_text=card.get_outcome_display(),
            )
        )
    # The itinerary page is for active people (it adds trips); a former one's stays listed.
    url = reverse("travel:itineraries", args=[person.pk]) if person.is_active else ""
    itineraries = Itinerary.objects.filter(person=person).select_related("division")
    for trip in itineraries.order_by("-from_day", "-id"):
        text = f"{trip.from_day:%Y-%m-%d} – {trip.to_day:%Y-%m-%d} · {trip.division.full_name}"
        if trip.transport_number:
            text += f" · {trip.transport_number}"
        entries.append(Entry(text=text, url=url, when=trip.from_day))
    return entries


def register_section() -> None:
    register(
        Section(
            key="travel",
            title=gettext_lazy("Travel and return to post"),
            perm=Perm.VIEW_HEALTH,
            entries=travel_entries,
            order=30,
        )
    )
