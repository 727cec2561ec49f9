"""The nightly colour computation: every open problem and active supervision order, set-based.

The rule is ``colours.colour_of``; here it is the same rule written once as SQL over all
rows, with the day thresholds computed once in Python:

- red: due before today (past the end of the due day);
- yellow: a milestone past its day undone, or a target whose share done is below the share
  of the whole days gone — ``done / target < (today − start) / (due − start + 1)``, tested
  without division as ``done × (due − start + 1) < (today − start) × target``;
- blue: due before the 4th working day after today (3 working days or fewer left), the
  working day taken from the calendar once;
- none otherwise, and for work accepted, closed, or an ended order.

Each table gets one ``UPDATE … FROM (SELECT … CASE …)`` that writes only the rows whose
colour changes (stamping ``colour_since`` with the run's instant). The changes are then
grouped by unit and colour and told once per group by one job queued after commit — never
one notice per item. Last, the day's ``ColourCount`` rows (open problems per unit path and
colour) are replaced, so a second run of the same night writes the same rows and tells
nobody.
"""

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping, Sequence
from functools import partial
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django_q.tasks import async_task

from fangkong.accounts.models import RoleAssignment, User
from fangkong.core import calendar
from fangkong.core.audit import audit_record
from fangkong.core.models import AuditLog
from fangkong.ledger.models import Item
from fangkong.notify.models import Event
from fangkong.notify.services import notify
from fangkong.orgs.models import OrgUnit, place_related

from .colours import BLUE_WORKING_DAYS
from .ledger_kind import KIND
from .models import ColourCount, Milestone, Problem, SupervisionOrder, Target
from .services import COLOURED_STATES
from .supervision import ASSIGNING_ROLES, SUPERVISING_ROLES, colour_label


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _days(later: str, earlier: str) -> str:
    """SQL for the whole days from ``earlier`` to ``later`` (date expressions)."""
    if connection.vendor == "postgresql":
        return f"({later} - {earlier})"
    return f"CAST(julianday({later}) - julianday({earlier}) AS INTEGER)"


def _day_param() -> str:
    return "CAST(%s AS date)" if connection.vendor == "postgresql" else "%s"


def thresholds(now: dt.datetime) -> dict[str, dt.date]:
    """The days the rule compares with, computed once per run."""
    today = now.astimezone(calendar.LOCAL_TZ).date()
    # colour_of is red after 23:59:59 of the due day; a run in the last second counts today.
    red_before = today + dt.timedelta(days=1) if now > calendar.end_of_day(today) else today
    return {
        "today": today,
        "red_before": red_before,
        "blue_before": calendar.add_working_days(today, BLUE_WORKING_DAYS + 1),
    }


def _late_milestones() -> str:
    """SQL: the ids of problems with a milestone past its day undone (one %s: today)."""
    milestones = _q(Milestone._meta.db_table)
    return (
        f"SELECT m.problem_id FROM {milestones} m "  # noqa: S608
        f"WHERE m.done_at IS NULL AND m.due_on < {_day_param()}"
    )


def _behind_targets(what: str) -> str:
    """SQL: the ids of problems ("p") or active orders ("o") with a target behind the
    pro-rata schedule up to their due day (one %s: today).

    Uncorrelated, so each database computes the set once and probes it per row (a hashed
    subplan, an ephemeral index) instead of searching the targets row by row.
    """
    targets, problems = _q(Target._meta.db_table), _q(Problem._meta.db_table)
    orders = _q(SupervisionOrder._meta.db_table)
    if what == "p":
        key, due, rows = "q.id", "q.due_on", f"{problems} q"
    else:
        key, due = "r.id", "r.due_on"
        rows = f"{orders} r JOIN {problems} q ON q.item_id = r.item_id AND r.is_active"
    return (
        f"SELECT {key} FROM {rows} JOIN {targets} t ON t.problem_id = q.id "  # noqa: S608
        f"WHERE t.target > 0 AND {due} >= q.starts_on AND t.done * "
        f"({_days(due, 'q.starts_on')} + 1) < {_days(_day_param(), 'q.starts_on')} * t.target"
    )


def _states() -> str:
    return ", ".join(f"'{state}'" for state in sorted(COLOURED_STATES))


CHANGES = "rect_colour_changes"  # a temporary table: the run's changes, kind + id + colour


def _problem_colour() -> str:
    """SQL for a problem's colour (p: the problem, i: its item); params: see ``_params``."""
    day = _day_param()
    return (
        f"CASE WHEN NOT (i.is_open AND i.state IN ({_states()})) THEN '' "
        f"WHEN p.due_on < {day} THEN 'red' "
        f"WHEN p.id IN ({_late_milestones()}) OR p.id IN ({_behind_targets('p')}) "
        "THEN 'yellow' "
        f"WHEN p.due_on < {day} THEN 'blue' ELSE '' END"
    )


def _order_colour() -> str:
    """SQL for an order's colour (o, its item i, the item's problem p if any)."""
    day = _day_param()
    return (
        "CASE WHEN NOT i.is_open THEN '' "
        f"WHEN p.id IS NOT NULL AND i.state NOT IN ({_states()}) THEN '' "
        f"WHEN o.due_on < {day} THEN 'red' "
        f"WHEN p.id IN ({_late_milestones()}) OR o.id IN ({_behind_targets('o')}) "
        "THEN 'yellow' "
        f"WHEN o.due_on < {day} THEN 'blue' ELSE '' END"
    )


def _changes_sql(what: str) -> str:
    """INSERT into the changes table the problems ("p") or orders ("o") whose colour
    differs from the one stored."""
    items, problems = _q(Item._meta.db_table), _q(Problem._meta.db_table)
    orders = _q(SupervisionOrder._meta.db_table)
    if what == "p":
        rows = (
            f"SELECT p.id, p.item_id, p.colour AS old, {_problem_colour()} AS new "  # noqa: S608
            f"FROM {problems} p JOIN {items} i ON i.id = p.item_id "
            "WHERE i.is_open OR p.colour <> ''"
        )
    else:
        rows = (
            f"SELECT o.id, o.item_id, o.colour AS old, {_order_colour()} AS new "  # noqa: S608
            f"FROM {orders} o JOIN {items} i ON i.id = o.item_id "
            f"LEFT JOIN {problems} p ON p.item_id = o.item_id WHERE o.is_active"
        )
    # PostgreSQL would evaluate the CASE twice (filter and value) unless fenced; SQLite
    # flattens the subquery and computes it once, and is slower materialised (measured).
    fence = "MATERIALIZED " if connection.vendor == "postgresql" else ""
    computed = f"WITH computed AS {fence}({rows})"
    return (
        f"INSERT INTO {CHANGES} (what, id, item_id, colour) "  # noqa: S608
        f"{computed} SELECT '{what}', id, item_id, new FROM computed WHERE old <> new"
    )


def _apply_sql(table: str, what: str) -> str:
    return (
        f"UPDATE {_q(table)} SET colour = c.colour, colour_since = %s "  # noqa: S608
        f"FROM {CHANGES} c WHERE c.what = '{what}' AND {_q(table)}.id = c.id"
    )


def _params(days: Mapping[str, dt.date]) -> list[Any]:
    iso = {key: value.isoformat() for key, value in days.items()}
    # red; milestones late; days gone (today − start); blue.
    return [iso["red_before"], iso["today"], iso["today"], iso["blue_before"]]


def _run(sql: str, params: Sequence[Any]) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def _rows(sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())


# ------------------------------------------------------------------ the run


@transaction.atomic
def colours_recompute(now: dt.datetime | None = None) -> dict[str, Any]:
    """Recompute every open problem's and active order's colour; count the day's colours.

    Returns the numbers of problems and orders whose colour changed, the notices queued
    and the day's counts per colour.
    """
    now = now or timezone.now()
    days = thresholds(now)
    params = _params(days)
    stamp = connection.ops.adapt_datetimefield_value(now)
    if connection.vendor == "postgresql":
        # The plan's cost over 100,000 rows wakes the JIT, whose compiling takes seconds
        # more than running the plain plan (this transaction only).
        _run("SET LOCAL jit = off", [])
    _run(
        f"CREATE TEMPORARY TABLE {CHANGES} "
        "(what char(1), id bigint, item_id bigint, colour varchar(8))",
        [],
    )
    try:
        changed_problems = _run(_changes_sql("p"), params)
        changed_orders = _run(_changes_sql("o"), params)
        if connection.vendor == "postgresql" and changed_problems + changed_orders > 1000:
            _run(f"ANALYZE {CHANGES}", [])  # a temporary table has no statistics of its own
        if changed_problems:
            _run(_apply_sql(Problem._meta.db_table, "p"), [stamp])
        if changed_orders:
            _run(_apply_sql(SupervisionOrder._meta.db_table, "o"), [stamp])
        batches = _batches() if changed_problems or changed_orders else []
    finally:
        _run(f"DROP TABLE {CHANGES}", [])
    counts = _count_the_day(days["today"])
    if batches:
        audit_record(
            actor=None,
            action=AuditLog.Action.UPDATE,
            object_type="rectification.colours",
            object_id=now.isoformat(),
            object_repr=f"{changed_problems} problems, {changed_orders} orders recoloured",
            after={"problems": changed_problems, "orders": changed_orders},
        )
        # Queued after commit (a rolled-back run tells nobody), so the run holds its
        # transaction only for the set-based writes; the job sends one notice per group.
        transaction.on_commit(
            partial(
                async_task,
                "fangkong.rectification.tasks.send_colour_notices",
                batches,
                task_name="rectification-colours",
            ),
            robust=True,
        )
    return {
        "problems": changed_problems,
        "orders": changed_orders,
        "notifications": len(batches),
        "counts": counts,
    }


def _batches() -> list[dict[str, Any]]:
    """Group the run's changes by the item's unit and the new colour (JSON-friendly):
    counts, the items' owners, and the units above that hear of them with their roles."""
    groups: dict[tuple[int, str], dict[str, Any]] = defaultdict(
        lambda: {"problems": 0, "orders": 0, "owners": set(), "above": set()}
    )
    items, problems = _q(Item._meta.db_table), _q(Problem._meta.db_table)
    orders, owners = _q(SupervisionOrder._meta.db_table), _q(Item.owners.through._meta.db_table)
    active = f"SELECT 1 FROM {orders} o WHERE o.item_id = c.item_id AND o.is_active"  # noqa: S608
    for unit_id, colour, assigning_id, supervised, n in _rows(
        f"SELECT i.unit_id, c.colour, p.assigning_unit_id, EXISTS ({active}), COUNT(*) "  # noqa: S608
        f"FROM {CHANGES} c JOIN {items} i ON i.id = c.item_id "
        f"JOIN {problems} p ON p.id = c.id WHERE c.what = 'p' "
        "GROUP BY i.unit_id, c.colour, p.assigning_unit_id, 4"
    ):
        group = groups[(unit_id, colour)]
        group["problems"] += n
        if not supervised:
            group["above"].add(("a", assigning_id))
    for unit_id, colour, supervising_id in _rows(
        f"SELECT DISTINCT i.unit_id, c.colour, o.supervising_unit_id "  # noqa: S608
        f"FROM {CHANGES} c JOIN {items} i ON i.id = c.item_id "
        f"JOIN {orders} o ON o.item_id = c.item_id AND o.is_active"
    ):
        groups[(unit_id, colour)]["above"].add(("s", supervising_id))
    for unit_id, colour, n in _rows(
        f"SELECT i.unit_id, c.colour, COUNT(*) FROM {CHANGES} c "  # noqa: S608
        f"JOIN {items} i ON i.id = c.item_id WHERE c.what = 'o' GROUP BY i.unit_id, c.colour"
    ):
        groups[(unit_id, colour)]["orders"] += n
    for unit_id, colour, user_id in _rows(
        f"SELECT DISTINCT i.unit_id, c.colour, w.user_id FROM {CHANGES} c "  # noqa: S608
        f"JOIN {items} i ON i.id = c.item_id JOIN {owners} w ON w.item_id = c.item_id"
    ):
        groups[(unit_id, colour)]["owners"].add(user_id)
    return [
        {
            "unit": unit_id,
            "colour": colour,
            "problems": group["problems"],
            "orders": group["orders"],
            "owners": sorted(group["owners"]),
            "above": [list(pair) for pair in sorted(group["above"])],
        }
        for (unit_id, colour), group in sorted(groups.items())
        if group["problems"] or group["orders"]
    ]


def _above_users(batches: Sequence[Mapping[str, Any]]) -> dict[tuple[str, int], set[int]]:
    """(who, unit id) → the active holders of that side's roles on exactly the unit."""
    wanted = {(who, unit_id) for batch in batches for who, unit_id in batch["above"]}
    unit_ids = {unit_id for _who, unit_id in wanted}
    holders: dict[tuple[str, int], set[int]] = defaultdict(set)
    rows = RoleAssignment.objects.filter(
        unit_id__in=unit_ids,
        role__in=set(ASSIGNING_ROLES) | set(SUPERVISING_ROLES),
        user__is_active=True,
    ).values_list("unit_id", "role", "user_id")
    for unit_id, role, user_id in rows:
        if ("a", unit_id) in wanted and role in ASSIGNING_ROLES:
            holders[("a", unit_id)].add(user_id)
        if ("s", unit_id) in wanted and role in SUPERVISING_ROLES:
            holders[("s", unit_id)].add(user_id)
    return holders


def colour_notices_send(*, batches: Sequence[Mapping[str, Any]]) -> int:
    """Send one notice per unit and colour of a night's changes; return how many.

    To the items' owners and, above them, the supervising units' supervisors (the assigning
    units' acceptors and supervisors for problems without an order). Counts only: the link
    opens the list, which checks the reader's scope.
    """
    if not batches:
        return 0
    units = OrgUnit.objects.select_related(place_related()).in_bulk([b["unit"] for b in batches])
    above = _above_users(batches)
    sent = 0
    with translation.override(settings.LANGUAGE_CODE):
        for batch in batches:
            unit = units.get(batch["unit"])
            if unit is None:
                continue
            user_ids = set(batch["owners"])
            for who, unit_id in batch["above"]:
                user_ids |= above.get((who, unit_id), set())
            count = batch["problems"] + batch["orders"]
            names = {
                "unit": unit.place,
                "count": count,
                "colour": colour_label(batch["colour"]),
                "problems": batch["problems"],
                "orders": batch["orders"],
            }
            subject = (
                ngettext(
                    "%(unit)s: %(count)d supervised item is now %(colour)s",
                    "%(unit)s: %(count)d supervised items are now %(colour)s",
                    count,
                )
                % names
            )
            body = (
                _(
                    "Tonight's colour check of %(unit)s: %(problems)d problem(s) and "
                    "%(orders)d supervision order(s) are now %(colour)s."
                )
                % names
            )
            query = f"?colour={batch['colour'] or 'none'}&unit={unit.pk}"
            notify(
                event=Event.COLOUR_CHANGED,
                unit=unit,
                subject=subject,
                body=body,
                link=reverse("rectification:supervision_list") + query,
                to_users=User.objects.filter(pk__in=sorted(user_ids)),
            )
            sent += 1
    return sent


def _count_the_day(day: dt.date) -> dict[str, int]:
    """Replace the day's open problems per unit path and colour; return the totals."""
    ColourCount.objects.filter(day=day).delete()
    counts, items = _q(ColourCount._meta.db_table), _q(Item._meta.db_table)
    problems = _q(Problem._meta.db_table)
    day_param = _day_param()
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {counts} (day, unit_path, colour, n) "  # noqa: S608
            f"SELECT {day_param}, i.unit_path, p.colour, COUNT(*) FROM {problems} p "
            f"JOIN {items} i ON i.id = p.item_id WHERE i.is_open AND i.kind = %s "
            "GROUP BY i.unit_path, p.colour",
            [day.isoformat(), KIND],
        )
    totals: dict[str, int] = defaultdict(int)
    for colour, n in ColourCount.objects.filter(day=day).values_list("colour", "n"):
        totals[colour] += n
    return dict(totals)
