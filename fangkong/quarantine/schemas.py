"""API shapes of quarantine sites, rooms, placements and trips."""

import datetime as dt
from decimal import Decimal

from ninja import Schema


class SiteIn(Schema):
    unit_id: int
    name: str
    address: str = ""
    contact_name: str = ""
    contact_phone: str = ""


class RoomIn(Schema):
    number: str
    capacity: int
    note: str = ""


class RoomPatch(Schema):
    capacity: int
    note: str = ""


class RoomOut(Schema):
    id: int
    site_id: int
    number: str
    capacity: int
    occupied: int
    free: int
    ending_today: int
    ending_tomorrow: int
    overdue: int
    note: str


class SiteOut(Schema):
    id: int
    name: str
    unit_id: int
    unit_name: str
    address: str
    is_active: bool
    capacity: int
    occupied: int
    free: int
    ending_today: int
    ending_tomorrow: int
    overdue: int
    rooms: list[RoomOut]


class PlacementIn(Schema):
    person_id: int
    mode: str
    level: str
    room_id: int | None = None
    address: str = ""
    start: dt.date | None = None
    days: int | None = None
    reason: str = ""


class PlacementMoveIn(Schema):
    room_id: int


class PlacementOut(Schema):
    id: int
    person_id: int
    person_name: str
    unit_name: str
    mode: str
    site_id: int | None
    site_name: str
    room_id: int | None
    room_number: str
    level: str
    reason: str
    start: dt.date
    days: int
    planned_end: dt.date
    state: str
    state_label: str
    released_at: dt.datetime | None
    item_id: int | None


class CheckIn(Schema):
    temperature: Decimal
    note: str = ""
    at: dt.datetime | None = None


class TestIn(Schema):
    result: str  # negative / positive / pending
    kind: str = ""  # e.g. nucleic acid, antibody
    note: str = ""
    at: dt.datetime | None = None


class EntryOut(Schema):
    id: int
    kind: str
    at: dt.datetime
    text: str
    value: Decimal | None
    unit: str
    data: dict


class ReasonIn(Schema):
    reason: str


class NoteIn(Schema):
    note: str = ""


class TripIn(Schema):
    unit_id: int
    site_id: int | None = None
    vehicle_plate: str
    driver_name: str
    driver_phone: str = ""
    origin: str
    destination: str
    departed_at: dt.datetime
    arrived_at: dt.datetime | None = None
    person_ids: list[int]
    note: str = ""


class TripOut(Schema):
    id: int
    unit_id: int
    site_id: int | None
    vehicle_plate: str
    driver_name: str
    driver_phone: str
    origin: str
    destination: str
    departed_at: dt.datetime
    arrived_at: dt.datetime | None
    person_ids: list[int]
    note: str
