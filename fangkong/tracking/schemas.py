import datetime as dt

from ninja import Schema

from fangkong.core.schema import Day, ObjectId


class CardOpenIn(Schema):
    person_id: ObjectId
    reason: str


class TrackingCardOut(Schema):
    id: int
    kind: str
    title: str
    state: str
    person_id: ObjectId | None
    unit_id: ObjectId
    is_open: bool
    next_due_at: dt.datetime | None
    follow_up_every_hours: int | None
    owner_ids: list[int]
    created: bool = False


class ReadinessOut(Schema):
    ready: bool
    normal_days: int
    needed: int
    message: str
    observe_until: Day | None


class CardReasonIn(Schema):
    reason: str


class ContactIn(Schema):
    person_id: ObjectId
    case_id: ObjectId
    last_contact_day: Day
    relation: str = "other"
    note: str = ""


class ContactOut(Schema):
    id: int
    person_id: ObjectId
    person_name: str
    case_id: ObjectId
    case_name: str
    relation: str
    last_contact_day: Day
    observe_until: Day
    card_id: ObjectId | None = None


class NodeOut(Schema):
    person_id: ObjectId
    name: str
    unit: str
    hidden: bool
    relation: str
    last_contact_day: Day | None
    children: list["NodeOut"]


class CaseTreeOut(Schema):
    root: NodeOut
    exposed_by: list[NodeOut]
    size: int
