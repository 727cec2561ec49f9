"""API shapes of units, people and import jobs."""

import datetime as dt

from ninja import Field, Schema

from fangkong.core.schema import Day, ObjectId


class UnitOut(Schema):
    id: int
    code: str
    name: str
    place: str = Field(description="The name after its nearest ancestors: 氧化铝厂 › 一车间 › 甲班")
    kind: str
    kind_label: str
    parent_id: ObjectId | None
    depth: int
    path: str
    valid_from: Day
    valid_to: Day | None


class UnitIn(Schema):
    code: str
    name: str
    kind: str
    parent_id: ObjectId
    valid_from: Day | None = None


class UnitPatch(Schema):
    name: str


class UnitMoveIn(Schema):
    parent_id: ObjectId


class UnitCloseIn(Schema):
    on: Day | None = None


class HeadcountOut(Schema):
    unit_id: ObjectId
    headcount: int
    units: int


class ChildOut(UnitOut):
    headcount: int
    child_count: int


class PersonOut(Schema):
    id: int
    name: str
    gender: str
    birth_date: Day | None
    id_type: str
    id_number: str
    phone: str
    category: str
    unit_id: ObjectId
    unit_name: str
    household_id: ObjectId | None
    is_party_member: bool
    joined_on: Day | None
    is_active: bool
    merged_into_id: ObjectId | None
    masked: bool


class PersonIn(Schema):
    name: str
    id_type: str = "resident_id"
    id_number: str
    phone: str = ""
    gender: str = "unknown"  # taken from a resident ID when unknown; checked against it
    birth_date: Day | None = None  # likewise
    category: str = "employee"
    unit_id: ObjectId
    household_id: ObjectId | None = None
    is_party_member: bool = False
    joined_on: Day | None = None


class PersonPatch(Schema):
    name: str | None = None
    phone: str | None = None
    gender: str | None = None
    birth_date: Day | None = None
    category: str | None = None
    unit_id: ObjectId | None = None
    is_party_member: bool | None = None
    joined_on: Day | None = None


class MergeIn(Schema):
    duplicate_id: ObjectId


class ImportErrorOut(Schema):
    row: int
    column: str
    value: str
    message: str


class ImportJobOut(Schema):
    id: int
    kind: str
    status: str
    status_label: str
    unit_id: ObjectId
    original_name: str
    rows_total: int
    rows_done: int
    rows_bad: int
    rows_imported: int
    progress_percent: int
    message: str
    skip_bad_rows: bool
    errors: list[ImportErrorOut]
    header_row: int
    ignored_columns: list[str]
    created_at: dt.datetime


class CommitIn(Schema):
    skip_bad_rows: bool = False
