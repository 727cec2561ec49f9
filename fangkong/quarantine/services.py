"""Every write to quarantine sites, rooms, placements and trips.

Who may write: *manage quarantine* on the site's unit for sites, rooms and placing people
in a room; on the person's unit for placing that person (both, for a centralised
placement: the group's quarantine office, holding the role above both, places people
of one enterprise in a site run by another unit); on the trip's unit for trips.
"""

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from fangkong.accounts.actors import Actor, acting_user
from fangkong.accounts.roles import Perm
from fangkong.accounts.selectors import require_perm
from fangkong.core.audit import audit_record, snapshot
from fangkong.core.errors import Conflict, InvalidInput
from fangkong.core.models import AuditLog
from fangkong.core.numbers import to_decimal
from fangkong.core.text import FIRST_DAY, LAST_DAY, clean_cell
from fangkong.health.models import TEMPERATURE_MAX, TEMPERATURE_MIN, OutbreakProfile
from fangkong.ledger import services as ledger
from fangkong.ledger.keys import person_key
from fangkong.ledger.models import Entry, Item
from fangkong.ledger.owners import owners_for
from fangkong.orgs.models import OrgUnit, Person

from . import signals
from .ledger_kind import ACTIVE, CLOSED, CLOSING, KIND, RELEASE_CLOCK
from .models import Level, Mode, Placement, Room, Site, Trip

MAX_DAYS = 60


def _audit(actor: Actor, action: str, obj: Any, scope_path: str, before: Any = None) -> None:
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
    actor: Actor,
    unit: OrgUnit,
    name: str,
    address: str = "",
    contact_name: str = "",
    contact_phone: str = "",
) -> Site:
    """Register a centralised quarantine site run by ``unit``."""
    require_perm(actor, Perm.MANAGE_QUARANTINE, unit.path)
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
    actor: Actor,
    site: Site,
    name: str,
    address: str = "",
    contact_name: str = "",
    contact_phone: str = "",
    is_active: bool = True,
) -> Site:
    """Change a site's name, address, contact or whether it is in use."""
    require_perm(actor, Perm.MANAGE_QUARANTINE, site.unit_path)
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
def room_create(*, actor: Actor, site: Site, number: str, capacity: int, note: str = "") -> Room:
    """Add a room with its number of beds to a site."""
    require_perm(actor, Perm.MANAGE_QUARANTINE, site.unit_path)
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
def room_update(*, actor: Actor, room: Room, capacity: int, note: str = "") -> Room:
    """Change a room's beds; never below the people in it now."""
    require_perm(actor, Perm.MANAGE_QUARANTINE, room.site.unit_path)
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
def room_delete(*, actor: Actor, room: Room) -> None:
    """Delete a room nobody was ever placed in (placements keep their room otherwise)."""
    require_perm(actor, Perm.MANAGE_QUARANTINE, room.site.unit_path)
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


def _start_day(start: dt.date | None) -> dt.date:
    if start is None:
        return timezone.localdate()
    if not FIRST_DAY <= start <= LAST_DAY:  # the window of every date here (core.text)
        raise InvalidInput(
            detail={
                "start": [
                    _("Give a date between %(first)s and %(last)s.")
                    % {"first": FIRST_DAY, "last": LAST_DAY}
                ]
            }
        )
    return start


@transaction.atomic
def placement_start(
    *,
    actor: Actor,
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
    require_perm(actor, Perm.MANAGE_QUARANTINE, person.unit_path)
    site, room = _check_place(mode, site, room, address)
    if site is not None and room is not None:
        require_perm(actor, Perm.MANAGE_QUARANTINE, site.unit_path)
        room = _lock_room_with_a_bed(room, site=site)
    days = planned_days(level, days)
    start = _start_day(start)
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
                created_by=acting_user(actor),
            )
    except IntegrityError:  # a concurrent placement of the same person won
        raise Conflict(_("%(name)s is already in quarantine.") % {"name": person.name}) from None
    _audit(actor, AuditLog.Action.CREATE, placement, placement.unit_path)
    _open_item(actor, placement)
    signals.placement_started.send(sender=Placement, person_id=person.pk, placement_id=placement.pk)
    return placement


def _end_of_day(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(23, 59, 59), timezone.get_current_timezone())


def _open_item(actor: Actor, placement: Placement) -> Item:
    """Open the placement's ledger item: checks every 12 h, release due on the planned day.

    Owners: as for every new item (``ledger.owners``), else whoever placed them.
    """
    person = placement.person
    owners = owners_for(person.unit_path)
    if not owners and (user := acting_user(actor)) is not None:
        owners = [user]
    item, created = ledger.item_open(
        actor=actor,
        kind=KIND,
        subject=placement,
        unit=person.unit,
        title=f"{person.name} · {placement.where}",
        person=person,
        owners=owners,
        open_key=person_key(person.pk),
        data={
            "placement": placement.pk,
            "mode": placement.mode,
            "planned_end": placement.planned_end.isoformat(),
        },
        clock_starts={RELEASE_CLOCK: _end_of_day(placement.planned_end)},
    )
    if not created:  # an item left open without its placement: work on that one first
        raise Conflict(_("%(name)s is already in quarantine.") % {"name": person.name})
    return item


def placement_item(placement: Placement) -> Item:
    """Return the placement's ledger item (the newest, should there be several)."""
    item = (
        Item.objects.filter(kind=KIND, object_id=placement.pk, person_id=placement.person_id)
        .order_by("-id")
        .first()
    )
    if item is None:
        raise Conflict(_("This placement has no ledger card."))
    return item


def placement_check(
    *,
    actor: Actor,
    placement: Placement,
    temperature: Any,
    note: str = "",
    at: dt.datetime | None = None,
) -> Entry:
    """Record a twice-daily check (temperature and a note) as a follow-up of the item."""
    try:
        value = to_decimal(temperature, places=1)
    except ValueError:
        value = Decimal(0)
    if not TEMPERATURE_MIN <= value <= TEMPERATURE_MAX:  # the same range as a declaration
        raise InvalidInput(
            detail={
                "temperature": [
                    _("Give a temperature between %(low)d and %(high)d °C.")
                    % {"low": TEMPERATURE_MIN, "high": TEMPERATURE_MAX}
                ]
            }
        )
    return ledger.item_follow_up(
        actor=actor,
        item=placement_item(placement),
        text=clean_cell(note) or _("Health check"),
        value=value,
        unit="°C",
        at=at,
        data={"check": "temperature"},
    )


# Stored as codes (entry data "test"); pages read them in the reader's language.
TEST_RESULTS = {
    "negative": gettext_lazy("Negative"),
    "positive": gettext_lazy("Positive"),
    "pending": gettext_lazy("Awaiting result"),  # "Pending" reads 待发送, a notification's word
}


def placement_test(
    *,
    actor: Actor,
    placement: Placement,
    result: str,
    test_kind: str = "",
    note: str = "",
    at: dt.datetime | None = None,
) -> Entry:
    """Record a test result as a follow-up entry with data {"test": result}."""
    if result not in TEST_RESULTS:
        raise InvalidInput(detail={"result": [_("Choose the test result.")]})
    kind = test_kind
    test_kind = clean_cell(test_kind) or _("Nucleic acid test")
    text = f"{test_kind}: {TEST_RESULTS[result]}"
    if clean_cell(note):
        text += f" — {clean_cell(note)}"
    return ledger.item_follow_up(
        actor=actor,
        item=placement_item(placement),
        text=text,
        at=at,
        # The default kind is left empty: the pages name it in the reader's language.
        data={"test": result, "test_kind": clean_cell(kind), "note": clean_cell(note)},
    )


def placement_release_request(*, actor: Actor, placement: Placement, reason: str) -> Placement:
    """Propose the person's release: a close-out that waits for approval."""
    if placement.state != Placement.State.ACTIVE:
        raise Conflict(_("Only a person in quarantine can be proposed for release."))
    ledger.item_request_close(actor=actor, item=placement_item(placement), reason=reason)
    placement.refresh_from_db()
    return placement


def placement_release_approve(*, actor: Actor, placement: Placement, note: str = "") -> Placement:
    """Approve the release: the item is closed out and the bed becomes free."""
    ledger.item_approve_close(actor=actor, item=placement_item(placement), note=note)
    placement.refresh_from_db()
    return placement


def placement_release_reject(*, actor: Actor, placement: Placement, reason: str) -> Placement:
    """Refuse the release: the person stays in quarantine."""
    ledger.item_reject_close(actor=actor, item=placement_item(placement), reason=reason)
    placement.refresh_from_db()
    return placement


_STATE_OF_ITEM = {
    ACTIVE: Placement.State.ACTIVE,
    CLOSING: Placement.State.RELEASING,
    CLOSED: Placement.State.RELEASED,
}


@transaction.atomic
def placement_follow_item(item: Item) -> Placement | None:
    """Bring the placement in step with its ledger item's state (called on every change).

    A release approved anywhere frees the bed and sends ``placement_released``; a release
    reopened takes the bed back, refused (Conflict) when the room has filled meanwhile.
    """
    placement = Placement.objects.select_for_update().filter(pk=item.object_id).first()
    if placement is None or placement.state == Placement.State.CANCELLED:
        return None
    target = _STATE_OF_ITEM.get(item.state, Placement.State.ACTIVE)
    if target == placement.state:
        return placement
    before = snapshot(placement)
    if placement.state == Placement.State.RELEASED:  # the release was reopened
        if placement.room is not None:
            _lock_room_with_a_bed(placement.room, site=placement.room.site)
        placement.released_at = None
    if target == Placement.State.RELEASED:
        placement.released_at = item.closed_at or timezone.now()
    placement.state = target
    placement.save(update_fields=["state", "released_at", "updated_at"])
    _audit(None, AuditLog.Action.UPDATE, placement, placement.unit_path, before)
    if target == Placement.State.RELEASED:
        signals.placement_released.send(
            sender=Placement, person_id=placement.person_id, placement_id=placement.pk
        )
    return placement


@transaction.atomic
def placement_move(*, actor: Actor, placement: Placement, room: Room) -> Placement:
    """Move a person in centralised quarantine to another room (with a free bed)."""
    require_perm(actor, Perm.MANAGE_QUARANTINE, placement.unit_path)
    if not placement.is_open or placement.mode != Mode.CENTRALISED:
        raise Conflict(_("Only a person in centralised quarantine can change rooms."))
    require_perm(actor, Perm.MANAGE_QUARANTINE, room.site.unit_path)
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
    actor: Actor,
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
    require_perm(actor, Perm.MANAGE_QUARANTINE, unit.path)
    if site is not None:
        require_perm(actor, Perm.MANAGE_QUARANTINE, site.unit_path)
    fields = _trip_fields(vehicle_plate, driver_name, origin, destination)
    if not people:
        raise InvalidInput(detail={"people": [_("Name at least one person carried.")]})
    for person in people:
        require_perm(actor, Perm.MANAGE_QUARANTINE, person.unit_path)
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
        created_by=acting_user(actor),
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
def trip_arrive(*, actor: Actor, trip: Trip, arrived_at: dt.datetime | None = None) -> Trip:
    """Record when the vehicle arrived."""
    require_perm(actor, Perm.MANAGE_QUARANTINE, trip.unit_path)
    arrived_at = arrived_at or timezone.now()
    if arrived_at < trip.departed_at:
        raise InvalidInput(detail={"arrived_at": [_("The arrival is before the departure.")]})
    before = snapshot(trip)
    trip.arrived_at = arrived_at
    trip.save(update_fields=["arrived_at", "updated_at"])
    _audit(actor, AuditLog.Action.UPDATE, trip, trip.unit_path, before)
    return trip
