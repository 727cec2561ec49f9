"""Every write of the ledger: opening items, follow-ups, transitions, close-out, the sweep.

Each service checks the actor's permission in the item's unit (``actor=None`` is the
system: receivers and the sweep), changes the item, appends a history entry and an audit
row, all in one transaction. Deadlines are computed once, when a clock starts, and stored.

Callers import this package (``from fangkong.ledger import services``); the modules hold
one concern each: ``opening``, ``items`` (working an open item), ``close_out``, ``sweep``,
``clocks`` and what they share (``common``). Permissions are checked by
``accounts.selectors.require_perm`` at the item's unit path, ``seen_with`` the kind's
``view_perm``: 404 for an item the actor cannot see, 403 with the ledger's message else.
"""

from .clocks import clock_due, item_clock_meet, item_clock_set, refresh_due
from .close_out import item_approve_close, item_reject_close, item_reopen, item_request_close
from .common import item_link, kind_link
from .items import (
    MAX_CADENCE_HOURS,
    item_assign,
    item_escalate,
    item_follow_up,
    item_set_cadence,
    item_transition,
)
from .opening import NewItem, item_open, items_open_bulk
from .sweep import overdue_sweep, sweep_notices_send

__all__ = [
    "MAX_CADENCE_HOURS",
    "NewItem",
    "clock_due",
    "item_approve_close",
    "item_assign",
    "item_clock_meet",
    "item_clock_set",
    "item_escalate",
    "item_follow_up",
    "item_link",
    "item_open",
    "item_reject_close",
    "item_reopen",
    "item_request_close",
    "item_set_cadence",
    "item_transition",
    "items_open_bulk",
    "kind_link",
    "overdue_sweep",
    "refresh_due",
    "sweep_notices_send",
]
