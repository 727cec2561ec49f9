"""Deadline clocks: computed once when a clock starts, and stored."""

import datetime as dt
from collections.abc import Mapping
from typing import Any

from fangkong.core import calendar

from .. import kinds
from ..kinds import FOLLOW_UP_CLOCK, Kind
from ..models import Item, ItemClock

# ------------------------------------------------------------------ clocks


def clock_due(
    *, kind: Kind, key: str, start: dt.datetime, every_hours: int | None = None
) -> calendar.Deadline:
    """Return when clock ``key`` of ``kind`` started at ``start`` falls due."""
    if key == FOLLOW_UP_CLOCK:
        return calendar.Deadline(start + dt.timedelta(hours=every_hours or 24), False)
    clock = kind.clock(key)
    if clock is None:
        raise ValueError(f"kind {kind.key} has no clock {key}")
    if clock.hours is not None:
        return calendar.Deadline(start + dt.timedelta(hours=clock.hours), False)
    return calendar.working_deadline(start, clock.working_days or 0)


def _deadlines(
    kind: Kind,
    opened_at: dt.datetime,
    every_hours: int | None,
    clock_starts: Mapping[str, dt.datetime] | None,
    known: dict[tuple[Any, ...], calendar.Deadline],
) -> list[tuple[str, calendar.Deadline]]:
    """Return (clock key, deadline) of a new item; ``known`` remembers them across items."""
    starts = clock_starts or {}
    keys = [clock.key for clock in kind.clocks]
    if every_hours:
        keys.append(FOLLOW_UP_CLOCK)
    found = []
    for key in keys:
        start = starts.get(key, opened_at)
        deadline = known.get((key, start, every_hours))
        if deadline is None:
            deadline = clock_due(kind=kind, key=key, start=start, every_hours=every_hours)
            known[(key, start, every_hours)] = deadline
        found.append((key, deadline))
    return found


def _clock_rows(
    kind: Kind,
    item_id: int,
    opened_at: dt.datetime,
    every_hours: int | None,
    clock_starts: Mapping[str, dt.datetime] | None,
) -> list[ItemClock]:
    warn = dt.timedelta(hours=kind.warn_before_hours)
    return [
        ItemClock(
            item_id=item_id,
            key=key,
            due_at=deadline.due_at,
            warn_at=deadline.due_at - warn,
            estimated=deadline.estimated,
        )
        for key, deadline in _deadlines(kind, opened_at, every_hours, clock_starts, {})
    ]


def _set_clock(item: Item, kind: Kind, key: str, deadline: calendar.Deadline) -> None:
    """Start (or restart) clock ``key`` of ``item`` at ``deadline``."""
    ItemClock.objects.update_or_create(
        item=item,
        key=key,
        defaults={
            "due_at": deadline.due_at,
            "warn_at": deadline.due_at - dt.timedelta(hours=kind.warn_before_hours),
            "estimated": deadline.estimated,
            "met_at": None,
            "stopped": False,
            "warned_at": None,
            "breached_at": None,
        },
    )


def refresh_due(item: Item) -> None:
    """Copy the earliest unmet clock onto the item: next due, estimated, overdue."""
    pending = list(
        ItemClock.objects.filter(item=item, met_at__isnull=True)
        .order_by("due_at")
        .values_list("due_at", "estimated", "breached_at")
    )
    item.next_due_at = pending[0][0] if pending else None
    item.next_due_estimated = pending[0][1] if pending else False
    item.is_overdue = any(breached is not None for _due, _est, breached in pending)
    item.save(update_fields=["next_due_at", "next_due_estimated", "is_overdue"])


def _stop_clocks(item: Item, at: dt.datetime) -> None:
    ItemClock.objects.filter(item=item, met_at__isnull=True).update(met_at=at, stopped=True)


def _restart_clocks(item: Item, kind: Kind, at: dt.datetime) -> None:
    """Start every clock of the kind again from ``at`` (a reopened item)."""
    for row in _clock_rows(kind, item.pk, at, item.follow_up_every_hours, None):
        _set_clock(item, kind, row.key, calendar.Deadline(row.due_at, row.estimated))


def item_clock_meet(*, item: Item, key: str, at: dt.datetime) -> None:
    """Mark clock ``key`` met at ``at`` (a kind's own step meets it: an acceptance)."""
    ItemClock.objects.filter(item=item, key=key, met_at__isnull=True).update(met_at=at)
    refresh_due(item)


def item_clock_set(*, item: Item, key: str, due_at: dt.datetime, estimated: bool = False) -> None:
    """Start clock ``key`` of ``item`` again, due at ``due_at`` (a new or moved deadline)."""
    _set_clock(item, kinds.get(item.kind), key, calendar.Deadline(due_at, estimated))
    refresh_due(item)
