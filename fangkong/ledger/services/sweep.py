"""The overdue sweep: warn about clocks due soon, mark breached ones, notify per unit."""

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_q.tasks import async_task

from fangkong.accounts.models import User
from fangkong.accounts.roles import Role
from fangkong.core.audit import audit_record
from fangkong.core.models import AuditLog
from fangkong.notify.models import Event
from fangkong.notify.services import notify
from fangkong.orgs.models import OrgUnit, place_related

from .. import kinds
from ..models import Item, ItemClock
from .common import _CHUNK, kind_link

# ------------------------------------------------------------------ overdue sweep


def _returning_item_ids(sql: str, params: list[Any]) -> list[int]:
    """Run an UPDATE … RETURNING item_id (SQLite ≥ 3.35 and PostgreSQL) and return the ids."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]


def _chunks(ids: Sequence[int]) -> Iterable[Sequence[int]]:
    for start in range(0, len(ids), _CHUNK):
        yield ids[start : start + _CHUNK]


def _by_ids(sql: str, ids: Sequence[int]) -> list[tuple[Any, ...]]:
    """Run ``sql`` whose ``{ids}`` names the id list: one array parameter on PostgreSQL
    (one statement for 10,000 ids), chunks of ``IN (…)`` on SQLite; return all rows.
    """
    rows: list[tuple[Any, ...]] = []
    if not ids:
        return rows
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(sql.format(ids="= ANY(%s)"), [list(ids)])
            return list(cursor.fetchall()) if cursor.description else rows
        for chunk in _chunks(ids):
            cursor.execute(sql.format(ids=f"IN ({', '.join(['%s'] * len(chunk))})"), chunk)
            if cursor.description:
                rows.extend(cursor.fetchall())
    return rows


@transaction.atomic
def overdue_sweep(now: dt.datetime | None = None) -> dict[str, Any]:
    """Warn about clocks due soon, mark breached clocks and their items overdue, notify.

    Set-based: two UPDATE … RETURNING statements over the pending-clock partial indexes
    claim the clocks (a concurrent sweep gets none of them); the items are grouped by unit
    and one queued job sends one notification per unit and event with the counts per
    kind (``sweep_notices_send``). Returns the counts and the number of notifications.
    """
    now = now or timezone.now()
    table = connection.ops.quote_name(ItemClock._meta.db_table)
    stamp = connection.ops.adapt_datetimefield_value(now)
    warned = _returning_item_ids(
        f"UPDATE {table} SET warned_at = %s "  # noqa: S608
        "WHERE met_at IS NULL AND warned_at IS NULL AND warn_at <= %s AND due_at > %s "
        "RETURNING item_id",
        [stamp, stamp, stamp],
    )
    # A breached clock is warned too: it leaves the warning index however late the sweep.
    breached = _returning_item_ids(
        f"UPDATE {table} SET breached_at = %s, warned_at = COALESCE(warned_at, %s) "  # noqa: S608
        "WHERE met_at IS NULL AND breached_at IS NULL AND due_at <= %s "
        "RETURNING item_id",
        [stamp, stamp, stamp],
    )
    breached_items = sorted(set(breached))
    items = connection.ops.quote_name(Item._meta.db_table)
    _by_ids(
        f"UPDATE {items} SET is_overdue = TRUE WHERE id {{ids}} AND NOT is_overdue",  # noqa: S608
        breached_items,
    )
    batches = [
        *_unit_batches(sorted(set(warned)), Event.ITEM_DUE_SOON),
        *_unit_batches(breached_items, Event.ITEM_OVERDUE),
    ]
    if batches:
        audit_record(
            actor=None,
            action=AuditLog.Action.UPDATE,
            object_type="ledger.sweep",
            object_id=now.isoformat(),
            object_repr=f"{len(set(warned))} warned, {len(breached_items)} overdue",
            after={"warned": len(set(warned)), "overdue": len(breached_items)},
        )
        # Sent by the queue (the same database carries it: the job appears with these rows),
        # so a sweep holds its transaction only for the set-based marking.
        async_task("fangkong.ledger.tasks.send_sweep_notices", batches, task_name="ledger-sweep")
    return {
        "warned": len(set(warned)),
        "overdue": len(breached_items),
        "notifications": len(batches),
    }


def _unit_batches(item_ids: Sequence[int], event: str) -> list[dict[str, Any]]:
    """Group items by unit: counts per kind and owners, as JSON for the queued job."""
    counts: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    owners: dict[int, set[int]] = defaultdict(set)
    quote = connection.ops.quote_name
    by_unit = _by_ids(
        f"SELECT unit_id, kind, COUNT(*) FROM {quote(Item._meta.db_table)} "  # noqa: S608
        "WHERE id {ids} GROUP BY unit_id, kind",
        item_ids,
    )
    for unit_id, kind, count in by_unit:
        counts[unit_id][kind] += count
    through = Item.owners.through._meta.db_table
    owned = _by_ids(
        f"SELECT DISTINCT i.unit_id, o.user_id FROM {quote(through)} o "  # noqa: S608
        f"JOIN {quote(Item._meta.db_table)} i ON i.id = o.item_id WHERE o.item_id {{ids}}",
        item_ids,
    )
    for unit_id, user_id in owned:
        owners[unit_id].add(user_id)
    return [
        {
            "event": event,
            "unit": unit_id,
            "counts": dict(counts[unit_id]),
            "owners": sorted(owners[unit_id]),
        }
        for unit_id in sorted(counts)
    ]


def sweep_notices_send(*, batches: Sequence[Mapping[str, Any]]) -> int:
    """Send one notification per unit batch of a sweep; return how many were sent.

    Due-soon goes to the unit's trackers and the items' owners; overdue to the parent
    unit's admins (a root's own admins) and the owners.
    """
    if not batches:
        return 0
    units = OrgUnit.objects.select_related(place_related()).in_bulk([b["unit"] for b in batches])
    users = User.objects.in_bulk(sorted({pk for b in batches for pk in b["owners"]}))
    sent = 0
    for batch in batches:
        unit = units.get(batch["unit"])
        if unit is None:
            continue
        parts = []
        for key, count in sorted(batch["counts"].items()):
            spec = kinds.find(key)
            parts.append(f"{spec.label_plural if spec else key} {count}")
        names = {
            "unit": unit.place,
            "count": sum(batch["counts"].values()),
            "detail": "，".join(parts),
        }
        breached = batch["event"] == Event.ITEM_OVERDUE
        only_kind = next(iter(batch["counts"])) if len(batch["counts"]) == 1 else None
        link = kind_link(only_kind, unit.pk, overdue=breached) if only_kind else ""
        owners = [users[pk] for pk in batch["owners"] if pk in users]
        if breached:
            notify(
                event=Event.ITEM_OVERDUE,
                unit=unit.parent or unit,
                subject=_("%(unit)s: %(count)d ledger item(s) overdue") % names,
                body=_("%(count)d item(s) of %(unit)s passed a deadline: %(detail)s.") % names,
                link=link,
                to_roles=[Role.UNIT_ADMIN],
                to_users=owners,
            )
        else:
            notify(
                event=Event.ITEM_DUE_SOON,
                unit=unit,
                subject=_("%(unit)s: %(count)d ledger item(s) due soon") % names,
                body=_("%(count)d item(s) of %(unit)s fall due soon: %(detail)s.") % names,
                link=link,
                to_roles=[Role.TRACKER],
                to_users=owners,
            )
        sent += 1
    return sent
