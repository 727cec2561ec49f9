"""API shapes of ledger items, their clocks and history."""

import datetime as dt
from decimal import Decimal
from typing import Any

from ninja import Schema

from fangkong.core.schema import ObjectId


class ClockOut(Schema):
    key: str
    label: str
    due_at: dt.datetime
    estimated: bool
    met_at: dt.datetime | None
    warned_at: dt.datetime | None
    breached_at: dt.datetime | None


class ItemOut(Schema):
    id: int
    kind: str
    kind_label: str
    title: str
    subject_type: str
    subject_id: ObjectId
    person_id: ObjectId | None
    person_name: str
    unit_id: ObjectId
    unit_name: str
    state: str
    state_label: str
    is_open: bool
    owners: list[str]
    follow_up_every_hours: int | None
    opened_at: dt.datetime
    closed_at: dt.datetime | None
    close_reason: str
    next_due_at: dt.datetime | None
    next_due_estimated: bool
    is_overdue: bool
    data: dict[str, Any]


class ItemDetailOut(ItemOut):
    clocks: list[ClockOut]
    transitions: list[dict[str, str]]


class EntryOut(Schema):
    id: int
    kind: str
    kind_label: str
    author: str | None
    at: dt.datetime
    text: str
    value: Decimal | None
    unit: str
    file_url: str | None
    data: dict[str, Any]


class FollowUpIn(Schema):
    text: str = ""
    value: Decimal | None = None
    unit: str = ""
    at: dt.datetime | None = None
    data: dict[str, Any] | None = None


class TransitionIn(Schema):
    target: str
    note: str = ""


class ReasonIn(Schema):
    reason: str = ""


class NoteIn(Schema):
    note: str = ""


class CountsOut(Schema):
    unit_id: ObjectId
    open: int
    overdue: int
    closing: int
