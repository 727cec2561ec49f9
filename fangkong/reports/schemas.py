"""API shapes of daily reports and the roll-up."""

import datetime as dt
from uuid import UUID

from ninja import Schema

from fangkong.core.schema import Day, LocalTime, ObjectId


class ReportOut(Schema):
    id: int
    uuid: UUID
    unit_id: ObjectId
    day: Day
    version: int
    is_current: bool
    headcount: int
    declared: int
    abnormal: int
    fever: int
    symptom: int
    contact: int
    risk_area: int
    positive: int
    quarantine: int
    returnees: int
    is_zero: bool
    is_late: bool
    note: str
    attested_by: str | None
    attested_at: dt.datetime


class ReportIn(Schema):
    unit_id: ObjectId
    day: Day | None = None
    zero: bool = False
    note: str = ""
    uuid: UUID | None = None


class BoardRowOut(Schema):
    unit_id: ObjectId
    code: str
    name: str
    day: Day
    deadline: LocalTime
    state: str
    report: ReportOut | None


class ReportCountsOut(Schema):
    expected: int
    reported: int
    on_time: int
    late: int
    missing: int
    pending: int
    zero: int


class RollupRowOut(Schema):
    unit_id: ObjectId
    code: str
    name: str
    kind: str
    has_children: bool | None
    expected: int
    declared: int
    completeness: float
    abnormal: int
    fever: int
    symptom: int
    contact: int
    risk_area: int
    positive: int
    quarantine: int
    returnees: int
    not_declared: int
    reports: ReportCountsOut


class RollupOut(Schema):
    day: Day
    unit: RollupRowOut
    children: list[RollupRowOut]


class TrendOut(Schema):
    day: Day
    expected: int
    declared: int
    abnormal: int
    reports_expected: int
    reported: int
    late: int
    zero: int
