"""API shapes of itineraries, returnee cards, decisions, risk areas and return rules."""

import datetime as dt
from typing import Any

from ninja import Schema

from fangkong.core.schema import Day, ObjectId


class ItineraryIn(Schema):
    division: str
    from_day: Day
    to_day: Day | None = None
    transport: str = "other"
    transport_number: str = ""
    note: str = ""


class ItineraryOut(Schema):
    id: int
    person: ObjectId
    division: str
    division_name: str
    from_day: Day
    to_day: Day
    transport: str
    transport_number: str
    note: str
    source: str
    card: int | None


class DeletedOut(Schema):
    id: int
    deleted: bool


class CardIn(Schema):
    planned_return: Day | None = None
    coming_from: str = ""
    no_travel: bool = False
    fever: bool | None = None
    symptoms: bool | None = None
    contact: str = ""
    note: str = ""
    itineraries: list[ItineraryIn] = []


class DecisionOut(Schema):
    outcome: str
    outcome_label: str
    level: str
    rule_id: ObjectId | None
    rule_label: str
    areas: list[dict[str, Any]]
    quarantine_days: int
    quarantine_until: Day | None
    mode: str
    tests: int
    monitoring_days: int
    explanation: str
    decided_at: dt.datetime


class ReturneeCardOut(Schema):
    id: int
    person: ObjectId
    person_name: str
    unit_id: ObjectId
    planned_return: Day | None
    coming_from: str | None
    no_travel: bool
    fever: bool | None
    symptoms: bool | None
    contact: str
    note: str
    filed_by: str
    is_open: bool
    outcome: str
    decision: DecisionOut | None
    itineraries: list[ItineraryOut] | None = None


class RiskAreaIn(Schema):
    division: str
    level: str
    effective_from: Day
    # Stays from this day count at the level; by default the start of the look-back window.
    stays_since: Day | None = None
    notice: str = ""


class RiskAreaOut(Schema):
    id: int
    division: str
    division_name: str
    level: str
    effective_from: Day
    effective_to: Day | None
    stays_since: Day
    version: int


class ListChangeOut(Schema):
    version: int | None  # None: nothing changed, no version was made
    changed: int
    raised: int
    exposures: int
    redecided: int


class RuleIn(Schema):
    unit_id: ObjectId | None = None
    level: str
    quarantine_days: int | None = None
    mode: str = "centralised"
    tests: int = 0
    monitoring_days: int = 0
    note: str = ""


class RuleOut(Schema):
    id: int
    unit_id: ObjectId | None
    level: str
    quarantine_days: int | None
    mode: str
    tests: int
    monitoring_days: int
    note: str
