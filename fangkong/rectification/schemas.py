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


class ProblemTargetIn(Schema):
    label: Annotated[str, Field(min_length=1, max_length=100)]
    unit_of_measure: Annotated[str, Field(max_length=16)] = ""
    quantity: Quantity


class ProblemMilestoneIn(Schema):
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
    targets: Annotated[list[ProblemTargetIn], Field(max_length=20)] = []
    milestones: Annotated[list[ProblemMilestoneIn], Field(max_length=50)] = []


class ProblemAssignIn(Schema):
    owner_ids: Annotated[list[ObjectId], Field(min_length=1, max_length=20)]
    responsible_name: Annotated[str, Field(max_length=64)] = ""


class ProblemDoneIn(Schema):
    target_id: ObjectId
    done: Amount


class ProblemProgressIn(Schema):
    note: Reason = ""
    done: Annotated[list[ProblemDoneIn], Field(max_length=20)] = []
    milestone_ids: Annotated[list[ObjectId], Field(max_length=50)] = []


class ProblemSubmitIn(Schema):
    measures: Reason
    root_cause: Reason = ""
    preventive: Reason = ""
    note: Reason = ""


class ProblemNoteIn(Schema):
    note: Reason = ""


class ProblemReasonIn(Schema):
    reason: Reason


class ProblemCheckIn(Schema):
    effective: bool
    note: Reason = ""


class ProblemRecurIn(Schema):
    reason: Reason
    due_on: Day | None = None


class ProblemSavingIn(Schema):
    label: Annotated[str, Field(max_length=100)]
    unit_of_measure: Annotated[str, Field(max_length=16)] = ""
    baseline: Amount
    current: Amount


class ProblemTargetOut(Schema):
    id: int
    label: str
    unit_of_measure: str
    target: Decimal
    done: Decimal
    percent: int


class ProblemMilestoneOut(Schema):
    id: int
    title: str
    due_on: dt.date
    done_at: dt.datetime | None


class ProblemEvidenceOut(Schema):
    id: int
    name: str
    sha256: str
    size: int
    uploaded_at: dt.datetime


class ProblemSavingOut(Schema):
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
    targets: list[ProblemTargetOut]


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
    milestones: list[ProblemMilestoneOut]
    evidence: list[ProblemEvidenceOut]
    savings: list[ProblemSavingOut]


class ProblemSavingRecordedOut(ProblemSavingOut):
    problem_id: int
