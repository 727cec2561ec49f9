import datetime as dt

from ninja import Schema


class CardOpenIn(Schema):
    person_id: int
    reason: str


class CardOut(Schema):
    id: int
    kind: str
    title: str
    state: str
    person_id: int | None
    unit_id: int
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
    observe_until: dt.date | None


class ReasonIn(Schema):
    reason: str


class ContactIn(Schema):
    person_id: int
    case_id: int
    last_contact_day: dt.date
    relation: str = "other"
    note: str = ""


class ContactOut(Schema):
    id: int
    person_id: int
    person_name: str
    case_id: int
    case_name: str
    relation: str
    last_contact_day: dt.date
    observe_until: dt.date
    card_id: int | None = None


class NodeOut(Schema):
    person_id: int
    name: str
    unit: str
    hidden: bool
    relation: str
    last_contact_day: dt.date | None
    children: list["NodeOut"]


class CaseTreeOut(Schema):
    root: NodeOut
    exposed_by: list[NodeOut]
    size: int
