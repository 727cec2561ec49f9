"""Every write to quarantine sites, rooms, placements and trips.

Who may write: *manage quarantine* on the site's unit for sites, rooms and placing people
in a room; on the person's unit for placing that person (both, for a centralised
placement: the group's quarantine office, holding the role above both, places people
of one enterprise in a site run by another unit); on the trip's unit for trips.
"""

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.accounts.roles import Perm
from fangkong.accounts.selectors import scope_for
from fangkong.core.audit import audit_record, snapshot
from fangkong.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from fangkong.core.models import AuditLog
from fangkong.core.text import clean_cell
from fangkong.health.models import OutbreakProfile
from fangkong.orgs.models import OrgUnit, Person

from . import signals
from .models import Level, Mode, Placement, Room, Site, Trip

MAX_DAYS = 60


def _require(actor: Any, perm: Perm, path: str) -> None:
    """Raise NotFound unless the actor holds ``perm`` on the node at ``path``.

    Visible (the actor may see the unit) but not allowed answers PermissionDenied. System
    writes (actor None) are allowed: they come from seeding and tasks.
    """
    if actor is None:
        return
    if not scope_for(actor, perm).covers(path):
        if scope_for(actor, Perm.VIEW_UNITS).covers(path):
            raise PermissionDenied()
        raise NotFound()


def _audit(actor: Any, action: str, obj: Any, scope_path: str, before: Any = None) -> None:
    audit_record(
        actor=actor,
        action=action,
        obj=obj,
        scope_path=scope_path,
        before=before,
        after=snapshot(obj) if action != AuditLog.Action.DELETE else None,
    )


# ------------------------------------------------------------------ sites and rooms


def _site_fields(name: str, address: str, contact_name: str, contact_phone: str) -> dict[str, str]:
    fields = {
        "name": clean_cell(name),
        "address": clean_cell(address),
        "contact_name": clean_cell(contact_name),
        "contact_phone": clean_cell(contact_phone).replace(" ", ""),
    }
    if not fields["name"]:
        raise InvalidInput(detail={"name": [_("The name is required.")]})
    return fields


@transaction.atomic
def site_create(
    *,
    actor: Any,
    unit: OrgUnit,
    name: str,
    address: str = "",
    contact_name: str = "",
    contact_phone: str = "",
) -> Site:
    """Register a centralised quarantine site run by ``unit``."""
    _require(actor, Perm.MANAGE_QUARANTINE, unit.path)
    site = Site.objects.create(
        unit=unit,
        unit_path=unit.path,
        **_site_fields(name, address, contact_name, contact_phone),
    )
    _audit(actor, AuditLog.Action.CREATE, site, site.unit_path)
    return site


@transaction.atomic
def site_update(
    *,
    actor: Any,
    site: Site,
    name: str,
    address: str = "",
    contact_name: str = "",
    contact_phone: str = "",
    is_active: bool = True,
) -> Site:
    """Change a site's name, address, contact or whether it is in use."""
    _require(actor, Perm.MANAGE_QUARANTINE, site.unit_path)
    before = snapshot(site)
    for name_, value in _site_fields(name, address, contact_name, contact_phone).items():
        setattr(site, name_, value)
    if not is_active and site.placements.filter(state__in=Placement.OPEN_STATES).exists():
        raise Conflict(_("People are still in quarantine at this site."))
    site.is_active = is_active
    site.save(
        update_fields=[
            "name",
            "address",
            "contact_name",
            "contact_phone",
            "is_active",
            "updated_at",
        ]
    )
    _audit(actor, AuditLog.Action.UPDATE, site, site.unit_path, before)
    return site


def _room_capacity(capacity: Any) -> int:
    try:
        value = int(capacity)
    except (TypeError, ValueError):
        value = 0
    if not 1 <= value <= 50:
        raise InvalidInput(detail={"capacity": [_("A room has 1 to 50 beds.")]})
    return value


def _occupied(room: Room) -> int:
    return room.placements.filter(state__in=Placement.OPEN_STATES).count()


@transaction.atomic
def room_create(*, actor: Any, site: Site, number: str, capacity: int, note: str = "") -> Room:
    """Add a room with its number of beds to a site."""
    _require(actor, Perm.MANAGE_QUARANTINE, site.unit_path)
    number = clean_cell(number)
    if not number:
        raise InvalidInput(detail={"number": [_("The room number is required.")]})
    if site.rooms.filter(number=number).exists():
        raise InvalidInput(
            detail={"number": [_("Room %(number)s already exists.") % {"number": number}]}
        )
    room = Room.objects.create(
        site=site, number=number, capacity=_room_capacity(capacity), note=clean_cell(note)
    )
    _audit(actor, AuditLog.Action.CREATE, room, site.unit_path)
    return room


@transaction.atomic
def room_update(*, actor: Any, room: Room, capacity: int, note: str = "") -> Room:
    """Change a room's beds; never below the people in it now."""
    _require(actor, Perm.MANAGE_QUARANTINE, room.site.unit_path)
    room = Room.objects.select_for_update().select_related("site").get(pk=room.pk)
    before = snapshot(room)
    capacity = _room_capacity(capacity)
    occupied = _occupied(room)
    if capacity < occupied:
        raise Conflict(
            _("Room %(number)s has %(n)d people in it; it needs at least that many beds.")
            % {"number": room.number, "n": occupied}
        )
    room.capacity, room.note = capacity, clean_cell(note)
    room.save(update_fields=["capacity", "note", "updated_at"])
    _audit(actor, AuditLog.Action.UPDATE, room, room.site.unit_path, before)
    return room


@transaction.atomic
def room_delete(*, actor: Any, room: Room) -> None:
    """Delete a room nobody was ever placed in (placements keep their room otherwise)."""
    _require(actor, Perm.MANAGE_QUARANTINE, room.site.unit_path)
    if room.placements.exists():
        raise Conflict(_("People have stayed in this room; it is kept for the records."))
    before = snapshot(room)
    scope_path = room.site.unit_path
    room.delete()
    audit_record(
        actor=actor,
        action=AuditLog.Action.DELETE,
        object_type="quarantine.room",
        object_id=str(before["id"]),
        object_repr=str(before["number"]),
        scope_path=scope_path,
        before=before,
    )


# ------------------------------------------------------------------ placements


def planned_days(level: str, days: int | None) -> int:
    """Return the quarantine days: given, or the outbreak profile's for the risk level."""
    if level not in Level.values:
        raise InvalidInput(detail={"level": [_("Choose the reason for quarantine.")]})
    if days is None:
        if level == Level.OTHER:
            raise InvalidInput(detail={"days": [_("Give the number of days.")]})
        days = OutbreakProfile.current().quarantine_days(level)
        if days < 1:
            raise InvalidInput(
                detail={
                    "days": [
                        _(
                            "The outbreak profile asks for no quarantine after this level; "
                            "give the number of days to place the person anyway."
                        )
                    ]
                }
            )
    if not 1 <= days <= MAX_DAYS:
        raise InvalidInput(detail={"days": [_("Give 1 to %(n)d days.") % {"n": MAX_DAYS}]})
    return days


def _lock_room_with_a_bed(room: Room, *, site: Site) -> Room:
    """Lock the room row and check a bed is free (the lock orders concurrent placements)."""
    if room.site_id != site.pk:
        raise InvalidInput(detail={"room": [_("The room is not at this site.")]})
    locked = Room.objects.select_for_update().get(pk=room.pk)
    if _occupied(locked) >= locked.capacity:
        raise Conflict(
            _("Room %(number)s is full (%(capacity)d beds).")
            % {"number": locked.number, "capacity": locked.capacity}
        )
    return locked


def _check_place(
    mode: str, site: Site | None, room: Room | None, address: str
) -> tuple[Site | None, Room | None]:
    if mode not in Mode.values:
        raise InvalidInput(detail={"mode": [_("Choose centralised or at home.")]})
    if mode == Mode.HOME:
        if not clean_cell(address):
            raise InvalidInput(detail={"address": [_("Give the home address.")]})
        return None, None
    if site is None or room is None:
        raise InvalidInput(detail={"room": [_("Choose the site and the room.")]})
    if not site.is_active:
        raise Conflict(_("This site is not in use."))
    return site, room


@transaction.atomic
def placement_start(
    *,
    actor: Any,
    person: Person,
    mode: str,
    level: str,
    start: dt.date | None = None,
    days: int | None = None,
    site: Site | None = None,
    room: Room | None = None,
    address: str = "",
    reason: str = "",
) -> Placement:
    """Place a person in quarantine, centrally (in a room with a free bed) or at home.

    The planned release is ``start + days``; days come from the outbreak profile for the
    risk level unless given. A person has at most one open placement (Conflict).
    """
    _require(actor, Perm.MANAGE_QUARANTINE, person.unit_path)
    site, room = _check_place(mode, site, room, address)
    if site is not None and room is not None:
        _require(actor, Perm.MANAGE_QUARANTINE, site.unit_path)
        room = _lock_room_with_a_bed(room, site=site)
    days = planned_days(level, days)
    start = start or timezone.localdate()
    if Placement.objects.filter(person=person, state__in=Placement.OPEN_STATES).exists():
        raise Conflict(_("%(name)s is already in quarantine.") % {"name": person.name})
    try:
        with transaction.atomic():
            placement = Placement.objects.create(
                person=person,
                unit_path=person.unit_path,
                mode=mode,
                site=site,
                site_path=site.unit_path if site else "",
                room=room,
                address=clean_cell(address) if mode == Mode.HOME else "",
                level=level,
                reason=clean_cell(reason),
                start=start,
                days=days,
                planned_end=start + dt.timedelta(days=days),
                created_by=actor if getattr(actor, "is_authenticated", False) else None,
            )
    except IntegrityError:  # a concurrent placement of the same person won
        raise Conflict(_("%(name)s is already in quarantine.") % {"name": person.name}) from None
    _audit(actor, AuditLog.Action.CREATE, placement, placement.unit_path)
    signals.placement_started.send(sender=Placement, person_id=person.pk, placement_id=placement.pk)
    return placement


@transaction.atomic
def placement_move(*, actor: Any, placement: Placement, room: Room) -> Placement:
    """Move a person in centralised quarantine to another room (with a free bed)."""
    _require(actor, Perm.MANAGE_QUARANTINE, placement.unit_path)
    if not placement.is_open or placement.mode != Mode.CENTRALISED:
        raise Conflict(_("Only a person in centralised quarantine can change rooms."))
    _require(actor, Perm.MANAGE_QUARANTINE, room.site.unit_path)
    if room.pk == placement.room_id:
        return placement
    before = snapshot(placement)
    room = _lock_room_with_a_bed(room, site=room.site)
    placement.site, placement.room, placement.site_path = room.site, room, room.site.unit_path
    placement.save(update_fields=["site", "room", "site_path", "updated_at"])
    _audit(actor, AuditLog.Action.MOVE, placement, placement.unit_path, before)
    return placement


# ------------------------------------------------------------------ trips


def _trip_fields(
    vehicle_plate: str, driver_name: str, origin: str, destination: str
) -> dict[str, str]:
    fields = {
        "vehicle_plate": clean_cell(vehicle_plate).replace(" ", "").upper(),
        "driver_name": clean_cell(driver_name),
        "origin": clean_cell(origin),
        "destination": clean_cell(destination),
    }
    required = {
        "vehicle_plate": _("The vehicle plate is required."),
        "driver_name": _("The driver is required."),
        "origin": _("Where the trip starts is required."),
        "destination": _("Where the trip goes is required."),
    }
    errors = {name: [str(message)] for name, message in required.items() if not fields[name]}
    if errors:
        raise InvalidInput(detail=errors)
    return fields


@transaction.atomic
def trip_create(
    *,
    actor: Any,
    unit: OrgUnit,
    vehicle_plate: str,
    driver_name: str,
    origin: str,
    destination: str,
    departed_at: dt.datetime,
    people: Sequence[Person],
    driver_phone: str = "",
    arrived_at: dt.datetime | None = None,
    site: Site | None = None,
    note: str = "",
) -> Trip:
    """Record a transport run and who was carried (each must be in the actor's scope)."""
    _require(actor, Perm.MANAGE_QUARANTINE, unit.path)
    if site is not None:
        _require(actor, Perm.MANAGE_QUARANTINE, site.unit_path)
    fields = _trip_fields(vehicle_plate, driver_name, origin, destination)
    if not people:
        raise InvalidInput(detail={"people": [_("Name at least one person carried.")]})
    for person in people:
        _require(actor, Perm.MANAGE_QUARANTINE, person.unit_path)
    if arrived_at is not None and arrived_at < departed_at:
        raise InvalidInput(detail={"arrived_at": [_("The arrival is before the departure.")]})
    trip = Trip.objects.create(
        unit=unit,
        unit_path=unit.path,
        site=site,
        driver_phone=clean_cell(driver_phone).replace(" ", ""),
        departed_at=departed_at,
        arrived_at=arrived_at,
        note=clean_cell(note),
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
        **fields,
    )
    trip.people.set(people)
    audit_record(
        actor=actor,
        action=AuditLog.Action.CREATE,
        obj=trip,
        scope_path=trip.unit_path,
        after={**snapshot(trip), "people": sorted(p.pk for p in people)},
    )
    return trip


@transaction.atomic
def trip_arrive(*, actor: Any, trip: Trip, arrived_at: dt.datetime | None = None) -> Trip:
    """Record when the vehicle arrived."""
    _require(actor, Perm.MANAGE_QUARANTINE, trip.unit_path)
    arrived_at = arrived_at or timezone.now()
    if arrived_at < trip.departed_at:
        raise InvalidInput(detail={"arrived_at": [_("The arrival is before the departure.")]})
    before = snapshot(trip)
    trip.arrived_at = arrived_at
    trip.save(update_fields=["arrived_at", "updated_at"])
    _audit(actor, AuditLog.Action.UPDATE, trip, trip.unit_path, before)
    return trip
