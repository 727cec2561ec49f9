"""/api/v1/rectification/supervision/orders endpoints: list, issue and end supervision orders.

Thin: ``supervision`` reads and writes; errors come back as {code, message, detail}.
"""

import datetime as dt
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Router, Schema, Status
from ninja.pagination import paginate
from pydantic import Field

from fangkong.accounts.roles import Perm
from fangkong.accounts.selectors import user_has_perm_anywhere
from fangkong.core.errors import PermissionDenied
from fangkong.core.pagination import MappedQuerySet
from fangkong.core.schema import Day, ObjectId, Pages
from fangkong.ledger import kinds
from fangkong.ledger import selectors as ledger_selectors
from fangkong.orgs.selectors import unit_get

from . import supervision
from .models import SupervisionOrder

router = Router(tags=["rectification"])


class OrderOut(Schema):
    id: int
    item_id: int
    item_kind: str
    item_title: str
    item_unit_id: int
    item_unit_place: str
    supervising_unit_id: int
    supervising_unit_place: str
    level: str
    level_label: str
    due_on: dt.date
    note: str
    colour: str
    is_active: bool
    ended_at: dt.datetime | None
    created_at: dt.datetime


class OrderIn(Schema):
    item_id: ObjectId
    supervising_unit_id: ObjectId
    level: Literal["general", "key", "listed"] = "general"
    due_on: Day
    note: str = Field("", max_length=supervision.MAX_NOTE)


class EndIn(Schema):
    reason: str = Field(..., max_length=500)


def order_out(order: SupervisionOrder) -> dict[str, Any]:
    return {
        "id": order.pk,
        "item_id": order.item_id,
        "item_kind": order.item.kind,
        "item_title": order.item.title,
        "item_unit_id": order.item.unit_id,
        "item_unit_place": order.item.unit.place,
        "supervising_unit_id": order.supervising_unit_id,
        "supervising_unit_place": order.supervising_unit.place,
        "level": order.level,
        "level_label": str(order.get_level_display()),
        "due_on": order.due_on,
        "note": order.note,
        "colour": order.colour,
        "is_active": order.is_active,
        "ended_at": order.ended_at,
        "created_at": order.created_at,
    }


@router.get("/rectification/supervision/orders", response=list[OrderOut])
@paginate(Pages, page_size=50)
def list_orders(
    request: HttpRequest,
    unit_id: ObjectId | None = None,
    colour: Literal["", "red", "yellow", "blue", "none"] = "",
    level: Literal["", "general", "key", "listed"] = "",
    kind: str = "",
    status: Literal["active", "ended", "all"] = "active",
) -> Any:
    """The orders whose items the caller sees; ``unit_id``: supervised from that subtree or
    about an item in it."""
    unit = unit_get(request.user, unit_id) if unit_id is not None else None
    if not any(
        user_has_perm_anywhere(request.user, p) for p in (Perm.VIEW_PROBLEMS, Perm.SUPERVISE)
    ):
        raise PermissionDenied()
    if kind and kinds.find(kind) is None:
        kind = "-"  # an unknown kind matches nothing
    orders = supervision.orders_search(
        request.user,
        colour=colour or None,
        level=level or None,
        unit=unit,
        kind=kind or None,
        status=status,
    )
    return MappedQuerySet(orders, order_out)


@router.post("/rectification/supervision/orders", response={201: OrderOut})
def post_order(request: HttpRequest, payload: OrderIn) -> Any:
    """Put an open ledger item under supervision; 409 when it already is."""
    item = ledger_selectors.item_get(request.user, payload.item_id)
    unit = unit_get(request.user, payload.supervising_unit_id)
    order = supervision.order_issue(
        actor=request.user,
        item=item,
        supervising_unit=unit,
        level=payload.level,
        due_on=payload.due_on,
        note=payload.note,
    )
    return Status(201, order_out(supervision.order_get(request.user, order.pk)))


@router.post("/rectification/supervision/orders/{order_id}/end", response=OrderOut)
def post_end(request: HttpRequest, order_id: ObjectId, payload: EndIn) -> Any:
    """End an active order by hand, with the reason."""
    order = supervision.order_get(request.user, order_id)
    supervision.order_end(actor=request.user, order=order, reason=payload.reason)
    return order_out(supervision.order_get(request.user, order_id))
