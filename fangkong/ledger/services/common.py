"""What every ledger service shares: reasons, history, audit, state, the 403 message."""

import datetime as dt
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from fangkong.accounts.actors import Actor, acting_user
from fangkong.core.audit import audit_record
from fangkong.core.errors import Conflict, InvalidInput

from .. import signals
from ..models import Entry, Item

_CHUNK = 500  # ids per IN (...) list: under SQLite's variable limit
# The 403 of an item write whose kind names no message of its own (require_perm's message).
NOT_ON_ITEM = gettext_lazy("Your role may not do this on this item.")


# ------------------------------------------------------------------ checks


def _reason(text: str, field_name: str = "reason") -> str:
    text = (text or "").strip()
    if not text:
        raise InvalidInput.at(field_name, _("Give a reason."))
    return text


def _require_open(item: Item) -> None:
    if not item.is_open:
        raise Conflict(_("This item is closed out; reopen it first."))


def _item_repr(item: Item) -> str:
    """How an audit row names an item."""
    return f"{item.kind} #{item.pk} {item.title}"


def _audit(actor: Actor, action: str, item: Item, before: Any, after: Any) -> None:
    audit_record(
        actor=actor,
        action=action,
        obj=item,
        object_repr=_item_repr(item),
        scope_path=item.unit_path,
        before=before,
        after=after,
    )


def _entry(item: Item, kind: str, actor: Actor, at: dt.datetime, text: str = "", **fields: Any):
    return Entry.objects.create(
        item=item, kind=kind, author=acting_user(actor), at=at, text=text, **fields
    )


def _locked(item: Item) -> Item:
    """Re-read the item under a row lock: concurrent clicks act on the current state."""
    return Item.objects.select_for_update().get(pk=item.pk)


def _set_state(item: Item, state: str, **fields: Any) -> None:
    """Save ``item`` in ``state`` (with ``fields``) and tell the kind's app when it changed."""
    previous = item.state
    item.state = state
    for name, value in fields.items():
        setattr(item, name, value)
    item.save(update_fields=["state", *fields])
    if state != previous:
        signals.item_state_changed.send(sender=Item, item=item, previous=previous)


def _state_snapshot(item: Item) -> dict[str, Any]:
    return {
        "state": item.state,
        "is_open": item.is_open,
        "next_due_at": item.next_due_at.isoformat() if item.next_due_at else None,
        "is_overdue": item.is_overdue,
    }


def item_link(pk: int) -> str:
    from django.urls import reverse

    return reverse("ledger:item", args=[pk])


def kind_link(kind: str, unit_id: int, *, overdue: bool = False) -> str:
    from django.urls import reverse

    url = f"{reverse('ledger:list', args=[kind])}?unit={unit_id}"
    return url + "&overdue=1" if overdue else url
