import datetime as dt

from ninja import Schema

from fangkong.core.schema import ObjectId


class InboxItemOut(Schema):
    id: int  # the notification's id: each notification appears once in an inbox
    event: str
    event_label: str
    unit_id: ObjectId
    unit_name: str
    subject: str
    body: str
    link: str
    created_at: dt.datetime
    read_at: dt.datetime | None


class InboxReadOut(Schema):
    id: int
    read_at: dt.datetime | None
    unread: int
