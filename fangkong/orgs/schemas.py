"""API shapes of units, people and import jobs."""

import datetime as dt

from ninja import Schema


class UnitOut(Schema):
    id: int
    code: str
    name: str
    kind: str
    kind_label: str
    parent_id: int | None
    depth: int
    path: str
    valid_from: dt.date
    valid_to: dt.date | None


class UnitIn(Schema):
    code: str
    name: str
    kind: str
    parent_id: int
    valid_from: dt.date | None = None


class UnitPatch(Schema):
    name: str


class UnitMoveIn(Schema):
    parent_id: int


class UnitCloseIn(Schema):
    on: dt.date | None = None


class HeadcountOut(Schema):
    unit_id: int
    headcount: int
    units: int


class ChildOut(UnitOut):
    headcount: int
    child_count: int


class PersonOut(Schema):
    id: int
    name: str
    gender: str
    id_type: str
    id_number: str
    phone: str
    category: str
    unit_id: int
    unit_name: str
    household_id: int | None
    is_party_member: bool
    joined_on: dt.date | None
    is_active: bool
    merged_into_id: int | None
    masked: bool


class PersonIn(Schema):
    name: str
    id_type: str = "resident_id"
    id_number: str
    phone: str = ""
    gender: str = "unknown"
    category: str = "employee"
    unit_id: int
    household_id: int | None = None
    is_party_member: bool = False
    joined_on: dt.date | None = None


class PersonPatch(Schema):
    name: str | None = None
    phone: str | None = None
    gender: str | None = None
    category: str | None = None
    unit_id: int | None = None
    is_party_member: bool | None = None
    joined_on: dt.date | None = None


class MergeIn(Schema):
    duplicate_id: int


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
    unit_id: int
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
