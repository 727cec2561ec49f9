"""The /api/v1 endpoints of the notify app: the caller's own inbox."""

from typing import Any

from django.http import HttpRequest
from ninja import Router
from ninja.pagination import paginate

from fangkong.core.pagination import MappedQuerySet
from fangkong.core.schema import ObjectId, Pages
from fangkong.orgs.selectors import unit_get

from . import selectors, services
from .models import InboxItem
from .schemas import InboxItemOut, InboxReadOut

router = Router(tags=["notify"])


def inbox_item_out(item: InboxItem) -> dict[str, Any]:
    notification = item.notification
    return {
        "id": notification.pk,
        "event": notification.event,
        "event_label": str(notification.get_event_display()),
        "unit_id": notification.unit_id,
        "unit_name": notification.unit.name,
        "subject": notification.subject,
        "body": notification.body,
        "link": notification.link,
        "created_at": notification.created_at,
        "read_at": item.read_at,
    }


@router.get("/inbox", response=list[InboxItemOut])
@paginate(Pages, page_size=50)
def list_inbox(request: HttpRequest, unread: bool = False, unit_id: ObjectId | None = None) -> Any:
    """The caller's notifications, unread first; optionally only about one unit's subtree."""
    unit = unit_get(request.user, unit_id) if unit_id else None
    items = selectors.inbox_items(request.user, unread_only=unread, unit=unit)
    return MappedQuerySet(items, inbox_item_out)


@router.post("/inbox/{notification_id}/read", response=InboxReadOut)
def read_inbox_item(request: HttpRequest, notification_id: ObjectId) -> Any:
    """Mark one notification read in the caller's inbox (404 if it is not there)."""
    services.inbox_mark_read(user=request.user, notification_id=notification_id)
    item = selectors.inbox_item_get(request.user, notification_id)
    return {
        "id": notification_id,
        "read_at": item.read_at,
        "unread": selectors.inbox_unread_count(request.user),
    }
