"""API shapes of checkpoints, gate scans, visitors and rosters."""

import datetime as dt
import uuid
from decimal import Decimal

from ninja import Field, Schema
from pydantic import BaseModel

from fangkong.core.schema import Day, LocalTime, ObjectId

from .services import BATCH_LIMIT


class GatePolicyOut(Schema):
    """What a pass must show at a checkpoint (``passes.verify.Policy``), and the fever
    threshold the gate applies on entry."""

    zones: list[str] = Field(description="The checkpoint's code, its site's code and zones")
    admit_statuses: list[str]
    refuse_printed: bool
    refuse_without_device_key: bool
    outsiders_banned: bool
    fever_threshold: Decimal


class CheckpointOut(Schema):
    id: int
    site_id: int
    site_name: str
    code: str
    name: str
    zones: list[str]
    is_mobile: bool
    is_active: bool
    policy: GatePolicyOut


# A batch carries up to 500 scans and as many results: plain pydantic models, because
# ninja's Schema reads every field through a getter meant for ORM objects (a fifth of a
# batch's time in the server). The JSON and the OpenAPI schema are the same.
class ScanIn(BaseModel):
    client_uuid: uuid.UUID
    checkpoint_id: ObjectId
    direction: str
    verdict: str = Field(description="The verifier's code (ok, expired, …) or the gate's own")
    reason: str = Field("", max_length=255)
    at: dt.datetime | None = Field(None, description="When the scan was made (offline scans)")
    person_id: ObjectId | None = None
    visitor_id: ObjectId | None = None
    plate: str = Field("", max_length=16)
    driver: str = Field("", max_length=64)
    pass_id_hash: str = Field("", max_length=64)
    temperature: Decimal | None = Field(None, ge=30, le=45, decimal_places=1)
    disinfected: bool | None = None
    cargo: str = Field("", max_length=200)


class PassScanIn(Schema):
    client_uuid: uuid.UUID | None = None
    checkpoint_id: ObjectId
    direction: str
    code: str = Field(..., max_length=2000, description="What the scanner read: FK1: or FK1P:")
    temperature: Decimal | None = Field(None, ge=30, le=45, decimal_places=1)
    plate: str = Field("", max_length=16, description="A vehicle's plate typed at the gate")
    disinfected: bool | None = None
    cargo: str = Field("", max_length=200)


class ManualEntryIn(Schema):
    client_uuid: uuid.UUID | None = None
    checkpoint_id: ObjectId
    direction: str
    id_number: str = Field("", max_length=32)
    plate: str = Field("", max_length=16)
    driver: str = Field("", max_length=64)
    temperature: Decimal | None = Field(None, ge=30, le=45, decimal_places=1)
    disinfected: bool | None = None
    cargo: str = Field("", max_length=200)


class ScanBatchIn(BaseModel):
    scans: list[ScanIn] = Field(..., min_length=1, max_length=BATCH_LIMIT)


class ScanResult(BaseModel):
    client_uuid: uuid.UUID
    status: str = Field(description="created, duplicate or rejected")
    id: int | None = None
    admitted: bool | None = None
    verdict: str = ""
    reason: str = ""
    error: dict[str, object] | None = None


class ScanBatchOut(BaseModel):
    results: list[ScanResult]


class EventOut(Schema):
    id: int
    checkpoint_id: int
    direction: str
    at: dt.datetime
    kind: str
    source: str
    name: str
    holder_masked: str = Field(description="The name or plate as a pass shows it: 张*伟")
    id_number: str
    plate: str
    verdict: str
    verdict_label: str
    reason: str
    admitted: bool
    temperature: Decimal | None
    disinfected: bool | None
    cargo: str
    overridden: bool


class OverrideIn(Schema):
    reason: str = Field(..., max_length=255)


class VisitorIn(Schema):
    site_id: ObjectId
    name: str = Field(..., max_length=64)
    id_number: str = Field(..., max_length=32)
    purpose: str = Field(..., max_length=200)
    day: Day
    phone: str = Field("", max_length=20)
    plate: str = Field("", max_length=16)
    start: LocalTime | None = None
    end: LocalTime | None = None
    walk_in: bool = False


class VisitorCancelIn(Schema):
    reason: str = Field(
        "", max_length=200, description="Shown to the visitor on the link's page; optional"
    )


class VisitorOut(Schema):
    id: int
    site_id: int
    name: str
    id_number: str
    phone: str
    plate: str
    purpose: str
    day: dt.date
    valid_from: dt.datetime
    valid_until: dt.datetime
    source: str
    pass_issued: bool
    link_url: str = Field(
        description="The visitor link (the visitor's pass page): for the visit's host or a "
        "site admin, else empty"
    )
    cancelled: bool


class SlotOut(Schema):
    day_index: int
    guard_id: int
    guard_name: str


class PostOut(Schema):
    id: int
    checkpoint_id: int
    name: str
    starts_at: LocalTime
    hours: int
    period_days: int
    anchor: dt.date
    today_index: int
    slots: list[SlotOut]


class SlotIn(Schema):
    day_index: int = Field(..., ge=0, le=13)
    guard_id: ObjectId | None = None


class RosterIn(Schema):
    slots: list[SlotIn] = Field(..., max_length=14)


class ShiftOut(Schema):
    post_id: int
    post_name: str
    checkpoint_id: int
    checkpoint_name: str
    site_name: str
    starts: dt.datetime
    ends: dt.datetime
