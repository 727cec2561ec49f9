"""Sites with rooms for the quarantine tests."""

from typing import Any

from django.utils import timezone

from fangkong.orgs.models import OrgUnit, UnitKind
from fangkong.orgs.services import unit_create

from ..models import Mode, Placement, Room, Site, Trip
from ..services import (
    placement_release_request,
    placement_start,
    room_create,
    site_create,
    trip_create,
)


def make_site(
    parent: OrgUnit, *, code: str = "", rooms: dict[str, int] | None = None, name: str = ""
) -> tuple[Site, dict[str, Room]]:
    """Create a quarantine-site unit under ``parent``, its Site and rooms {number: beds}."""
    unit: Any = unit_create(
        actor=None,
        code=code or f"{parent.code}-QS",
        name=name or "铝城宾馆集中隔离观察点",
        kind=UnitKind.QUARANTINE_SITE,
        parent=parent,
    )
    site = site_create(actor=None, unit=unit, name=unit.name, address="张店区铝城路1号")
    made = {
        number: room_create(actor=None, site=site, number=number, capacity=beds)
        for number, beds in (rooms or {"101": 1, "102": 2}).items()
    }
    return site, made


# ------------------------------------------------------------------ permission matrix
# The matrix sends each request inside a savepoint that is rolled back, so these build
# their objects afresh for every request (no state leaks between cases).


def matrix_site(side: Any) -> Site:
    site, _rooms = make_site(side.enterprise, code=f"{side.enterprise.code}-MQS")
    return site


def matrix_room(side: Any) -> Room:
    return Room.objects.filter(site=matrix_site(side)).order_by("number").first()  # type: ignore[return-value]


def matrix_placement(side: Any, *, releasing: bool = False) -> Placement:
    """An open centralised placement of the side's person (awaiting release if asked)."""
    room = matrix_room(side)
    placement = placement_start(
        actor=None,
        person=side.person,
        mode=Mode.CENTRALISED,
        level="high",
        site=room.site,
        room=room,
    )
    if releasing:
        placement_release_request(actor=None, placement=placement, reason="期满")
    return placement


def matrix_move(side: Any) -> tuple[int, int]:
    """A placement and another room of its site: (placement id, room id)."""
    placement = matrix_placement(side)
    rooms = Room.objects.filter(site=placement.site).exclude(
        pk=placement.room.pk if placement.room else 0
    )
    return placement.pk, rooms.get().pk


def matrix_trip(side: Any) -> Trip:
    return trip_create(
        actor=None,
        unit=side.enterprise,
        vehicle_plate="鲁C12345",
        driver_name="刘师傅",
        origin="淄博北站",
        destination="隔离点",
        departed_at=timezone.now(),
        people=[side.person],
    )
