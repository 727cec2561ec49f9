"""API shapes of rectification problems and their steps."""

import datetime as dt
from decimal import Decimal
from typing import Annotated

from ninja import Field, Schema

from fangkong.core.schema import Day, ObjectId

from .models import ProblemClass, Severity, Source

Quantity = Annotated[Decimal, Field(gt=0, lt=Decimal("1e10"), max_digits=12, decimal_places=2)]
Amount = Annotated[Decimal, Field(ge=0, lt=Decimal("1e12"), max_digits=14, decimal_places=2)]
Reason = Annotated[str, Field(max_length=2000)]


class TargetIn(Schema):
    label: Annotated[str, Field(min_length=1, max_length=100)]
    unit_of_measure: Annotated[str, Field(max_length=16)] = ""
    quantity: Quantity


class MilestoneIn(Schema):
    title: Annotated[str, Field(min_length=1, max_length=200)]
    due_on: Day


class ProblemIn(Schema):
    title: Annotated[str, Field(max_length=200)]
    unit_id: ObjectId
    assigning_unit_id: ObjectId
    source: Source = Source.SELF_FOUND
    source_ref: Annotated[str, Field(max_length=100)] = ""
    description: Annotated[str, Field(max_length=10000)] = ""
    category: Annotated[str, Field(max_length=64)] = ""
    severity: Severity = Severity.GENERAL
    problem_class: ProblemClass = ProblemClass.DEADLINE
    due_on: Day | None = None
    due_working_days: Annotated[int, Field(ge=1, le=250)] | None = None
    responsible_name: Annotated[str, Field(max_length=64)] = ""
    leader_name: Annotated[str, Field(max_length=64)] = ""
    effect_check_days: Annotated[int, Field(ge=1, le=365)] | None = None
    targets: Annotated[list[TargetIn], Field(max_length=20)] = []
    milestones: Annotated[list[MilestoneIn], Field(max_length=50)] = []


class AssignIn(Schema):
    owner_ids: Annotated[list[ObjectId], Field(min_length=1, max_length=20)]
    responsible_name: Annotated[str, Field(max_length=64)] = ""


class DoneIn(Schema):
    target_id: ObjectId
    done: Amount


class ProgressIn(Schema):
    note: Reason = ""
    done: Annotated[list[DoneIn], Field(max_length=20)] = []
    milestone_ids: Annotated[list[ObjectId], Field(max_length=50)] = []


class SubmitIn(Schema):
    measures: Reason
    root_cause: Reason = ""
    preventive: Reason = ""
    note: Reason = ""


class NoteIn(Schema):
    note: Reason = ""


class ReasonIn(Schema):
    reason: Reason


class CheckIn(Schema):
    effective: bool
    note: Reason = ""


class RecurIn(Schema):
    reason: Reason
    due_on: Day | None = None


class SavingIn(Schema):
    label: Annotated[str, Field(max_length=100)]
    unit_of_measure: Annotated[str, Field(max_length=16)] = ""
    baseline: Amount
    current: Amount


class TargetOut(Schema):
    id: int
    label: str
    unit_of_measure: str
    target: Decimal
    done: Decimal
    percent: int


class MilestoneOut(Schema):
    id: int
    title: str
    due_on: dt.date
    done_at: dt.datetime | None


class EvidenceOut(Schema):
    id: int
    name: str
    sha256: str
    size: int
    uploaded_at: dt.datetime


class SavingOut(Schema):
    id: int
    label: str
    unit_of_measure: str
    baseline: Decimal
    current: Decimal
    saved_percent: Decimal | None


class ProblemOut(Schema):
    id: int
    item_id: int
    title: str
    source: str
    source_ref: str
    category: str
    severity: str
    problem_class: str
    unit_id: int
    unit_place: str
    assigning_unit_id: int
    responsible_name: str
    leader_name: str
    state: str
    state_label: str
    is_open: bool
    colour: str
    starts_on: dt.date
    due_on: dt.date
    overdue: bool
    on_time: bool | None
    recurrences: int
    owner_ids: list[int]
    targets: list[TargetOut]


class ProblemDetailOut(ProblemOut):
    description: str
    measures: str
    root_cause: str
    preventive: str
    submitted_at: dt.datetime | None
    accepted_at: dt.datetime | None
    effect_checked_at: dt.datetime | None
    effect_check_from: dt.date | None
    closed_at: dt.datetime | None
    close_reason: str
    milestones: list[MilestoneOut]
    evidence: list[EvidenceOut]
    savings: list[SavingOut]


class SavingRecordedOut(SavingOut):
    problem_id: int
