"""API shapes of quarantine sites, rooms, placements and trips."""

import datetime as dt
from decimal import Decimal

from ninja import Schema

from fangkong.core.schema import Day, ObjectId


class SiteIn(Schema):
    unit_id: ObjectId
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
    site_id: ObjectId
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
    unit_id: ObjectId
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
    person_id: ObjectId
    mode: str
    level: str
    room_id: ObjectId | None = None
    address: str = ""
    start: Day | None = None
    days: int | None = None
    reason: str = ""


class PlacementMoveIn(Schema):
    room_id: ObjectId


class PlacementOut(Schema):
    id: int
    person_id: ObjectId
    person_name: str
    unit_name: str
    mode: str
    site_id: ObjectId | None
    site_name: str
    room_id: ObjectId | None
    room_number: str
    level: str
    reason: str
    start: Day
    days: int
    planned_end: Day
    state: str
    state_label: str
    released_at: dt.datetime | None
    item_id: ObjectId | None


class CheckIn(Schema):
    temperature: Decimal
    note: str = ""
    at: dt.datetime | None = None


class TestIn(Schema):
    result: str  # negative / positive / pending
    kind: str = ""  # e.g. nucleic acid, antibody
    note: str = ""
    at: dt.datetime | None = None


class PlacementEntryOut(Schema):
    id: int
    kind: str
    at: dt.datetime
    text: str
    value: Decimal | None
    unit: str
    data: dict


class PlacementReasonIn(Schema):
    reason: str


class PlacementNoteIn(Schema):
    note: str = ""


class TripIn(Schema):
    unit_id: ObjectId
    site_id: ObjectId | None = None
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
    unit_id: ObjectId
    site_id: ObjectId | None
    vehicle_plate: str
    driver_name: str
    driver_phone: str
    origin: str
    destination: str
    departed_at: dt.datetime
    arrived_at: dt.datetime | None
    person_ids: list[int]
    note: str
