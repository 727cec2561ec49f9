"""/api/v1/ledger endpoints: items, their history, follow-ups, transitions and close-out.

Thin: selectors read and services write; errors come back as {code, message, detail}.
"""

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Status
from ninja.pagination import paginate

from fangkong.accounts.roles import Perm
from fangkong.core.errors import NotFound
from fangkong.core.paths import subtree_q
from fangkong.core.schema import ObjectId, Pages
from fangkong.orgs.models import OrgUnit
from fangkong.orgs.selectors import unit_get

from . import kinds, selectors, services
from .kinds import FOLLOW_UP_CLOCK
from .models import Entry, Item
from .schemas import (
    CountsOut,
    EntryOut,
    FollowUpIn,
    ItemDetailOut,
    ItemOut,
    NoteIn,
    ReasonIn,
    TransitionIn,
)

router = Router(tags=["ledger"])


def item_out(item: Item) -> dict[str, Any]:
    spec = kinds.get(item.kind)
    person = item.person
    return {
        "id": item.pk,
        "kind": item.kind,
        "kind_label": str(spec.label),
        "title": item.title,
        "subject_type": f"{item.content_type.app_label}.{item.content_type.model}",
        "subject_id": item.object_id,
        "person_id": item.person_id,
        "person_name": person.name if person else "",
        "unit_id": item.unit_id,
        "unit_name": item.unit.name,
        "state": item.state,
        "state_label": str(spec.state_label(item.state)),
        "is_open": item.is_open,
        "owners": [user.username for user in item.owners.all()],
        "follow_up_every_hours": item.follow_up_every_hours,
        "opened_at": item.opened_at,
        "closed_at": item.closed_at,
        "close_reason": item.close_reason,
        "next_due_at": item.next_due_at,
        "next_due_estimated": item.next_due_estimated,
        "is_overdue": item.is_overdue,
        "data": item.data,
    }


def item_detail_out(item: Item) -> dict[str, Any]:
    spec = kinds.get(item.kind)
    clocks = []
    for clock in selectors.item_clocks(item):
        definition = spec.clock(clock.key)
        label = definition.label if definition else clock.key
        clocks.append(
            {
                "key": clock.key,
                "label": str(label) if clock.key != FOLLOW_UP_CLOCK else _("Next follow-up"),
                "due_at": clock.due_at,
                "estimated": clock.estimated,
                "met_at": clock.met_at,
                "warned_at": clock.warned_at,
                "breached_at": clock.breached_at,
            }
        )
    transitions = [
        {"target": t.target, "label": str(t.label), "perm": str(t.perm)}
        for t in spec.transitions_from(item.state)
        if item.is_open
    ]
    return {**item_out(item), "clocks": clocks, "transitions": transitions}


def entry_out(entry: Entry) -> dict[str, Any]:
    return {
        "id": entry.pk,
        "kind": entry.kind,
        "kind_label": str(entry.get_kind_display()),
        "author": entry.author.username if entry.author else None,
        "at": entry.at,
        "text": entry.text,
        "value": entry.value,
        "unit": entry.unit,
        "file_url": entry.file.url if entry.file else None,
        "data": entry.data,
    }


class ItemPage:
    """Items converted to their API shape one page at a time."""

    def __init__(self, items: Any) -> None:
        self.items = items

    def __len__(self) -> int:
        return self.items.count()

    def __getitem__(self, window: slice) -> list[dict[str, Any]]:
        page = self.items[window].select_related("content_type")
        return [item_out(item) for item in page]


@router.get("/ledger/items", response=list[ItemOut])
@paginate(Pages, page_size=50)
def list_items(
    request: HttpRequest,
    kind: str,
    unit_id: ObjectId | None = None,
    state: str = "open",
    overdue: bool | None = None,
    mine: bool = False,
    q: str = "",
) -> Any:
    """The 台账 of ``kind``: ``state`` is a state key, "open", "closed" or "" for all."""
    spec = kinds.get(kind)
    unit = unit_get(request.user, unit_id, spec.view_perm) if unit_id is not None else None
    items = selectors.items_for(
        request.user,
        kind=kind,
        unit=unit,
        state=state or None,
        overdue=overdue,
        owner=request.user if mine else None,
        q=q or None,
    )
    return ItemPage(items)


@router.get("/ledger/today", response=list[ItemOut])
def list_due_today(request: HttpRequest, unit_id: ObjectId | None = None) -> Any:
    """The caller's own items due by tonight or opened today, the most urgent first (at most
    200).
    """
    items = selectors.my_due_today(request.user)
    if unit_id is not None:
        unit = unit_get(request.user, unit_id, Perm.TRACK)
        items = items.filter(subtree_q("unit_path", unit.path))
    return [item_out(item) for item in items[:200]]


@router.get("/ledger/counts", response=list[CountsOut])
def unit_counts(request: HttpRequest, kind: str, unit_id: ObjectId) -> Any:
    """Open, overdue and awaiting-approval counts for a unit and each of its children."""
    unit = OrgUnit.objects.filter(pk=unit_id).first()
    if unit is None:
        raise NotFound()
    counts = selectors.open_counts_by_unit(request.user, kind=kind, unit=unit)
    return [{"unit_id": pk, **row} for pk, row in counts.items()]


@router.get("/ledger/items/{item_id}", response=ItemDetailOut)
def get_item(request: HttpRequest, item_id: ObjectId) -> Any:
    return item_detail_out(selectors.item_get(request.user, item_id))


@router.get("/ledger/items/{item_id}/history", response=list[EntryOut])
def get_history(request: HttpRequest, item_id: ObjectId) -> Any:
    item = selectors.item_get(request.user, item_id)
    return [entry_out(entry) for entry in selectors.item_history(item)]


@router.post("/ledger/items/{item_id}/follow-ups", response={201: EntryOut})
def post_follow_up(request: HttpRequest, item_id: ObjectId, payload: FollowUpIn) -> Any:
    item = selectors.item_get(request.user, item_id)
    selectors.require_generic_steps(item)
    entry = services.item_follow_up(actor=request.user, item=item, **payload.dict())
    return Status(201, entry_out(entry))


@router.post("/ledger/items/{item_id}/transition", response=ItemDetailOut)
def post_transition(request: HttpRequest, item_id: ObjectId, payload: TransitionIn) -> Any:
    item = selectors.item_get(request.user, item_id)
    selectors.require_generic_steps(item)
    item = services.item_transition(
        actor=request.user, item=item, target=payload.target, note=payload.note
    )
    return item_detail_out(item)


@router.post("/ledger/items/{item_id}/close", response=ItemDetailOut)
def post_close(request: HttpRequest, item_id: ObjectId, payload: ReasonIn) -> Any:
    """Request the close-out (销号): closed at once, or waiting for approval."""
    item = selectors.item_get(request.user, item_id)
    selectors.require_generic_steps(item)
    item = services.item_request_close(actor=request.user, item=item, reason=payload.reason)
    return item_detail_out(item)


@router.post("/ledger/items/{item_id}/approve", response=ItemDetailOut)
def post_approve(request: HttpRequest, item_id: ObjectId, payload: NoteIn) -> Any:
    item = selectors.item_get(request.user, item_id)
    selectors.require_generic_steps(item)
    item = services.item_approve_close(actor=request.user, item=item, note=payload.note)
    return item_detail_out(item)


@router.post("/ledger/items/{item_id}/reject", response=ItemDetailOut)
def post_reject(request: HttpRequest, item_id: ObjectId, payload: ReasonIn) -> Any:
    item = selectors.item_get(request.user, item_id)
    selectors.require_generic_steps(item)
    item = services.item_reject_close(actor=request.user, item=item, reason=payload.reason)
    return item_detail_out(item)


@router.post("/ledger/items/{item_id}/reopen", response=ItemDetailOut)
def post_reopen(request: HttpRequest, item_id: ObjectId, payload: ReasonIn) -> Any:
    item = selectors.item_get(request.user, item_id)
    selectors.require_generic_steps(item)
    item = services.item_reopen(actor=request.user, item=item, reason=payload.reason)
    return item_detail_out(item)


@router.post("/ledger/items/{item_id}/escalate", response=ItemDetailOut)
def post_escalate(request: HttpRequest, item_id: ObjectId, payload: ReasonIn) -> Any:
    item = selectors.item_get(request.user, item_id)
    selectors.require_generic_steps(item)
    item = services.item_escalate(actor=request.user, item=item, reason=payload.reason)
    return item_detail_out(item)
