"""Close-out (销号): request, approval, rejection, reopening."""

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.accounts.actors import Actor
from fangkong.accounts.selectors import require_perm
from fangkong.core.errors import Conflict
from fangkong.core.models import AuditLog

from .. import kinds
from ..kinds import Kind
from ..models import Entry, Item
from .clocks import _restart_clocks, _stop_clocks, refresh_due
from .common import (
    _audit,
    _entry,
    _locked,
    _reason,
    _require_open,
    _set_state,
    _state_snapshot,
)

# ------------------------------------------------------------------ close-out (销号)


def _close(item: Item, reason: str, at: dt.datetime) -> None:
    spec = kinds.get(item.kind)
    _set_state(item, spec.close_state, is_open=False, closed_at=at, close_reason=reason)
    _stop_clocks(item, at)
    refresh_due(item)


@transaction.atomic
def item_request_close(*, actor: Actor, item: Item, reason: str) -> Item:
    """Ask to close ``item`` out; it closes at once unless the kind needs an approval."""
    spec = kinds.get(item.kind)
    require_perm(
        actor,
        spec.close_perm,
        item.unit_path,
        seen_with=spec.view_perm,
        message=_("Your role may not close out this item."),
    )
    reason = _reason(reason)
    item = _locked(item)
    _require_open(item)
    if item.state == spec.closing_state and spec.close_needs_approval:
        raise Conflict(_("A close-out is already waiting for approval."))
    if spec.close_check is not None:
        spec.close_check(item)
    before = _state_snapshot(item)
    now = timezone.now()
    previous = item.state
    _entry(item, Entry.Kind.CLOSE_REQUEST, actor, now, reason, data={"from": previous})
    if spec.close_needs_approval:
        _set_state(item, spec.closing_state, close_reason=reason)
        _audit(actor, AuditLog.Action.UPDATE, item, before, _state_snapshot(item))
    else:
        _close(item, reason, now)
        _audit(actor, AuditLog.Action.CLOSE, item, before, _state_snapshot(item))
    return item


def _waiting_close(item: Item, spec: Kind) -> Entry:
    if item.state != spec.closing_state or not item.is_open:
        raise Conflict(_("No close-out is waiting for approval."))
    request = item.entries.filter(kind=Entry.Kind.CLOSE_REQUEST).order_by("-at", "-id").first()
    if request is None:
        raise Conflict(_("No close-out is waiting for approval."))
    return request


@transaction.atomic
def item_approve_close(*, actor: Actor, item: Item, note: str = "") -> Item:
    """Approve the waiting close-out of ``item``: it is closed out with the requested reason."""
    spec = kinds.get(item.kind)
    require_perm(
        actor,
        spec.approve_perm,
        item.unit_path,
        seen_with=spec.view_perm,
        message=_("Your role may not approve close-outs."),
    )
    item = _locked(item)
    request = _waiting_close(item, spec)
    if spec.close_check is not None:
        spec.close_check(item)
    before = _state_snapshot(item)
    now = timezone.now()
    _entry(
        item, Entry.Kind.APPROVAL, actor, now, (note or "").strip(), data={"request": request.pk}
    )
    _close(item, request.text, now)
    _audit(actor, AuditLog.Action.CLOSE, item, before, _state_snapshot(item))
    return item


@transaction.atomic
def item_reject_close(*, actor: Actor, item: Item, reason: str) -> Item:
    """Refuse the waiting close-out: the item goes back to the state it was in."""
    spec = kinds.get(item.kind)
    require_perm(
        actor,
        spec.approve_perm,
        item.unit_path,
        seen_with=spec.view_perm,
        message=_("Your role may not approve close-outs."),
    )
    reason = _reason(reason)
    item = _locked(item)
    request = _waiting_close(item, spec)
    before = _state_snapshot(item)
    _set_state(item, request.data.get("from") or spec.initial, close_reason="")
    _entry(item, Entry.Kind.REJECTION, actor, timezone.now(), reason, data={"request": request.pk})
    _audit(actor, AuditLog.Action.UPDATE, item, before, _state_snapshot(item))
    return item


@transaction.atomic
def item_reopen(*, actor: Actor, item: Item, reason: str) -> Item:
    """Reopen a closed-out item: its clocks start again from now."""
    spec = kinds.get(item.kind)
    require_perm(
        actor,
        spec.approve_perm,
        item.unit_path,
        seen_with=spec.view_perm,
        message=_("Your role may not reopen items."),
    )
    reason = _reason(reason)
    item = _locked(item)
    if item.is_open:
        raise Conflict(_("This item is open."))
    if (
        item.open_key
        and Item.objects.filter(kind=item.kind, open_key=item.open_key, is_open=True).exists()
    ):
        raise Conflict(_("Another open item covers the same case; work on that one."))
    before = _state_snapshot(item)
    now = timezone.now()
    _set_state(
        item, spec.reopen_state or spec.initial, is_open=True, closed_at=None, close_reason=""
    )
    _restart_clocks(item, spec, now)
    refresh_due(item)
    _entry(item, Entry.Kind.REOPEN, actor, now, reason, data={"to": item.state})
    _audit(actor, AuditLog.Action.UPDATE, item, before, _state_snapshot(item))
    return item
