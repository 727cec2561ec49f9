"""/api/v1/quarantine endpoints. Thin: selectors and services do the work."""

from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Router, Status
from ninja.pagination import paginate

from fangkong.accounts.roles import Perm
from fangkong.core.errors import NotFound
from fangkong.core.pagination import MappedQuerySet
from fangkong.core.schema import ObjectId, Pages
from fangkong.ledger.models import Entry
from fangkong.orgs.selectors import unit_get

from . import selectors, services
from .models import Placement, Trip
from .notice import notice_pdf
from .schemas import (
    CheckIn,
    PlacementEntryOut,
    PlacementIn,
    PlacementMoveIn,
    PlacementNoteIn,
    PlacementOut,
    PlacementReasonIn,
    RoomIn,
    RoomOut,
    RoomPatch,
    SiteIn,
    SiteOut,
    TestIn,
    TripIn,
    TripOut,
)

router = Router(tags=["quarantine"])


def room_out(room: selectors.RoomOccupancy) -> dict[str, Any]:
    return {
        "id": room.room.pk,
        "site_id": room.room.site_id,
        "number": room.room.number,
        "capacity": room.capacity,
        "occupied": room.occupied,
        "free": room.free,
        "ending_today": room.ending_today,
        "ending_tomorrow": room.ending_tomorrow,
        "overdue": room.overdue,
        "note": room.room.note,
    }


def site_out(row: selectors.SiteOccupancy) -> dict[str, Any]:
    site = row.site
    return {
        "id": site.pk,
        "name": site.name,
        "unit_id": site.unit_id,
        "unit_name": site.unit.name,
        "address": site.address,
        "is_active": site.is_active,
        "capacity": row.capacity,
        "occupied": row.occupied,
        "free": row.free,
        "ending_today": row.ending_today,
        "ending_tomorrow": row.ending_tomorrow,
        "overdue": row.overdue,
        "rooms": [room_out(room) for room in row.rooms],
    }


def placement_out(placement: Placement, item_id: int | None = None) -> dict[str, Any]:
    return {
        "id": placement.pk,
        "person_id": placement.person_id,
        "person_name": placement.person.name,
        "unit_name": placement.person.unit.name,
        "mode": placement.mode,
        "site_id": placement.site_id,
        "site_name": placement.site.name if placement.site else "",
        "room_id": placement.room_id,
        "room_number": placement.room.number if placement.room else "",
        "level": placement.level,
        "reason": placement.reason,
        "start": placement.start,
        "days": placement.days,
        "planned_end": placement.planned_end,
        "state": placement.state,
        "state_label": str(placement.get_state_display()),
        "released_at": placement.released_at,
        "item_id": item_id,
    }


def entry_out(entry: Entry) -> dict[str, Any]:
    return {
        "id": entry.pk,
        "kind": entry.kind,
        "at": entry.at,
        "text": entry.text,
        "value": entry.value,
        "unit": entry.unit,
        "data": entry.data,
    }


def trip_out(trip: Trip) -> dict[str, Any]:
    return {
        "id": trip.pk,
        "unit_id": trip.unit_id,
        "site_id": trip.site_id,
        "vehicle_plate": trip.vehicle_plate,
        "driver_name": trip.driver_name,
        "driver_phone": trip.driver_phone,
        "origin": trip.origin,
        "destination": trip.destination,
        "departed_at": trip.departed_at,
        "arrived_at": trip.arrived_at,
        "person_ids": sorted(p.pk for p in trip.people.all()),
        "note": trip.note,
    }


def _with_item(placement: Placement) -> dict[str, Any]:
    item = services.placement_item(placement)
    return placement_out(placement, item.pk)


# ------------------------------------------------------------------ sites and rooms


@router.get("/quarantine/sites", response=list[SiteOut])
def list_sites(request: HttpRequest) -> Any:
    """Every visible site with its rooms and occupancy (counts only, no names)."""
    return [site_out(row) for row in selectors.occupancy(request.user)]


@router.get("/quarantine/sites/{site_id}", response=SiteOut)
def get_site(request: HttpRequest, site_id: ObjectId) -> Any:
    site = selectors.site_get(request.user, site_id)
    [row] = selectors.occupancy(request.user, sites=[site])
    return site_out(row)


@router.post("/quarantine/sites", response={201: SiteOut})
def create_site(request: HttpRequest, payload: SiteIn) -> Any:
    unit = unit_get(request.user, payload.unit_id, Perm.MANAGE_QUARANTINE)
    site = services.site_create(
        actor=request.user,
        unit=unit,
        name=payload.name,
        address=payload.address,
        contact_name=payload.contact_name,
        contact_phone=payload.contact_phone,
    )
    [row] = selectors.occupancy(request.user, sites=[site])
    return Status(201, site_out(row))


def _room_row(request: HttpRequest, room: Any) -> dict[str, Any]:
    [row] = selectors.occupancy(request.user, sites=[room.site])
    return next(room_out(r) for r in row.rooms if r.room.pk == room.pk)


@router.post("/quarantine/sites/{site_id}/rooms", response={201: RoomOut})
def create_room(request: HttpRequest, site_id: ObjectId, payload: RoomIn) -> Any:
    site = selectors.site_get(request.user, site_id)
    room = services.room_create(
        actor=request.user,
        site=site,
        number=payload.number,
        capacity=payload.capacity,
        note=payload.note,
    )
    return Status(201, _room_row(request, room))


@router.patch("/quarantine/rooms/{room_id}", response=RoomOut)
def update_room(request: HttpRequest, room_id: ObjectId, payload: RoomPatch) -> Any:
    room = selectors.room_get(request.user, room_id)
    room = services.room_update(
        actor=request.user, room=room, capacity=payload.capacity, note=payload.note
    )
    return _room_row(request, room)


# ------------------------------------------------------------------ placements


@router.get("/quarantine/placements", response=list[PlacementOut])
@paginate(Pages, page_size=50)
def list_placements(
    request: HttpRequest,
    q: str = "",
    state: str = "open",
    mode: str = "",
    site_id: ObjectId | None = None,
    ending: str = "",
) -> Any:
    """Placements in scope; ``state`` "open" (default), "" for all, or one state."""
    site = selectors.site_get(request.user, site_id) if site_id else None
    selectors.require_placement_access(request.user)
    rows = selectors.placements_for(
        request.user, q=q, state=state, mode=mode, site=site, ending=ending
    )
    return MappedQuerySet(rows, placement_out)


@router.get("/quarantine/placements/{placement_id}", response=PlacementOut)
def get_placement(request: HttpRequest, placement_id: ObjectId) -> Any:
    return _with_item(selectors.placement_get(request.user, placement_id))


@router.post("/quarantine/placements", response={201: PlacementOut})
def create_placement(request: HttpRequest, payload: PlacementIn) -> Any:
    found = selectors.people_to_place(request.user, ids=[payload.person_id])
    if not found:
        raise NotFound()
    room = selectors.room_get(request.user, payload.room_id) if payload.room_id else None
    placement = services.placement_start(
        actor=request.user,
        person=found[0],
        mode=payload.mode,
        level=payload.level,
        start=payload.start,
        days=payload.days,
        site=room.site if room else None,
        room=room,
        address=payload.address,
        reason=payload.reason,
    )
    return Status(201, _with_item(placement))


@router.post("/quarantine/placements/{placement_id}/move", response=PlacementOut)
def move_placement(request: HttpRequest, placement_id: ObjectId, payload: PlacementMoveIn) -> Any:
    placement = selectors.placement_get(request.user, placement_id)
    room = selectors.room_get(request.user, payload.room_id)
    return _with_item(services.placement_move(actor=request.user, placement=placement, room=room))


@router.post("/quarantine/placements/{placement_id}/checks", response={201: PlacementEntryOut})
def add_check(request: HttpRequest, placement_id: ObjectId, payload: CheckIn) -> Any:
    """Record a twice-daily check: temperature (°C) and a note."""
    placement = selectors.placement_get(request.user, placement_id)
    entry = services.placement_check(
        actor=request.user,
        placement=placement,
        temperature=payload.temperature,
        note=payload.note,
        at=payload.at,
    )
    return Status(201, entry_out(entry))


@router.post("/quarantine/placements/{placement_id}/tests", response={201: PlacementEntryOut})
def add_test(request: HttpRequest, placement_id: ObjectId, payload: TestIn) -> Any:
    """Record a test result: negative, positive or pending."""
    placement = selectors.placement_get(request.user, placement_id)
    entry = services.placement_test(
        actor=request.user,
        placement=placement,
        result=payload.result,
        test_kind=payload.kind,
        note=payload.note,
        at=payload.at,
    )
    return Status(201, entry_out(entry))


@router.post("/quarantine/placements/{placement_id}/release", response=PlacementOut)
def request_release(
    request: HttpRequest, placement_id: ObjectId, payload: PlacementReasonIn
) -> Any:
    """Propose the release (a close-out waiting for approval)."""
    placement = selectors.placement_get(request.user, placement_id)
    return _with_item(
        services.placement_release_request(
            actor=request.user, placement=placement, reason=payload.reason
        )
    )


@router.post("/quarantine/placements/{placement_id}/release/approve", response=PlacementOut)
def approve_release(request: HttpRequest, placement_id: ObjectId, payload: PlacementNoteIn) -> Any:
    placement = selectors.placement_get(request.user, placement_id)
    return _with_item(
        services.placement_release_approve(
            actor=request.user, placement=placement, note=payload.note
        )
    )


@router.post("/quarantine/placements/{placement_id}/release/reject", response=PlacementOut)
def reject_release(request: HttpRequest, placement_id: ObjectId, payload: PlacementReasonIn) -> Any:
    placement = selectors.placement_get(request.user, placement_id)
    return _with_item(
        services.placement_release_reject(
            actor=request.user, placement=placement, reason=payload.reason
        )
    )


@router.get("/quarantine/placements/{placement_id}/notice.pdf")
def placement_notice(request: HttpRequest, placement_id: ObjectId) -> HttpResponse:
    """The quarantine notice as PDF (document number masked)."""
    placement = selectors.placement_get(request.user, placement_id)
    response = HttpResponse(notice_pdf(placement), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="quarantine-notice-{placement.pk}.pdf"'
    return response


# ------------------------------------------------------------------ trips


@router.get("/quarantine/trips", response=list[TripOut])
@paginate(Pages, page_size=50)
def list_trips(request: HttpRequest, q: str = "", site_id: ObjectId | None = None) -> Any:
    site = selectors.site_get(request.user, site_id) if site_id else None
    selectors.require_placement_access(request.user)
    rows = selectors.trips_for(request.user, q=q, site=site).prefetch_related("people")
    return MappedQuerySet(rows, trip_out)


@router.get("/quarantine/trips/{trip_id}", response=TripOut)
def get_trip(request: HttpRequest, trip_id: ObjectId) -> Any:
    return trip_out(selectors.trip_get(request.user, trip_id))


@router.post("/quarantine/trips", response={201: TripOut})
def create_trip(request: HttpRequest, payload: TripIn) -> Any:
    unit = unit_get(request.user, payload.unit_id, Perm.MANAGE_QUARANTINE)
    site = selectors.site_get(request.user, payload.site_id) if payload.site_id else None
    people = selectors.people_to_place(request.user, ids=payload.person_ids, limit=500)
    if len(people) != len(set(payload.person_ids)):
        raise NotFound()
    trip = services.trip_create(
        actor=request.user,
        unit=unit,
        site=site,
        vehicle_plate=payload.vehicle_plate,
        driver_name=payload.driver_name,
        driver_phone=payload.driver_phone,
        origin=payload.origin,
        destination=payload.destination,
        departed_at=payload.departed_at,
        arrived_at=payload.arrived_at,
        people=people,
        note=payload.note,
    )
    return Status(201, trip_out(trip))
