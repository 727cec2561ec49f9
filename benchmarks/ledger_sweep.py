"""Benchmark: the ledger's overdue sweep over a million open items.

Claim: with 1,000,000 open ledger items of which 10,000 have passed their deadline (and
5,000 more fall due within the warning hours), one ``overdue_sweep`` marks the breached
clocks and items overdue, claims the warnings and queues the job that sends one
notification per affected unit and event, in at most 2 s. The job's own time (400
notifications over 200 units) is reported beside it. A second sweep right after finds
nothing and is cheap.

The data set is built set-based: one ``INSERT … SELECT`` over a generated series for the
items and one for their clocks (column lists from ``core.bulk.insert_target``), spread over
the leaf units of a group → enterprises → plants tree with a unit admin on each enterprise.
Run: ``.venv/bin/python benchmarks/ledger_sweep.py`` (SQLite) or inside
``bash scripts/with-postgres.sh`` (PostgreSQL). The last stdout line is JSON.
"""

import datetime as dt
import os
import time
from typing import Any

from _support import analyze, database_version, emit, machine, setup_django, throwaway_database

ITEMS = int(os.environ.get("BENCH_ITEMS", "1000000"))
OVERDUE = 10_000
DUE_SOON = 5_000
ENTERPRISES = 20
PLANTS_PER_ENTERPRISE = 10
GOAL_SECONDS = 2.0


def register_kind() -> None:
    from fangkong.ledger.kinds import Clock, Kind, State, register

    register(
        Kind(
            key="bench",
            label="Benchmark card",
            label_plural="Benchmark cards",
            states=(State("open", "Open"), State("closed", "Closed")),
            initial="open",
            closed_states=frozenset({"closed"}),
            clocks=(Clock("resolution", "Resolution", hours=48),),
            warn_before_hours=2,
            escalated_state=None,
        )
    )


def build_tree() -> list[tuple[int, str]]:
    """Create the units and one unit admin per enterprise; return (id, path) of the plants."""
    from fangkong.accounts.models import RoleAssignment, User
    from fangkong.accounts.roles import Role
    from fangkong.orgs.models import UnitKind
    from fangkong.orgs.services import unit_create

    group = unit_create(actor=None, code="G", name="集团", kind=UnitKind.GROUP, parent=None)
    plants = []
    for e in range(ENTERPRISES):
        enterprise = unit_create(
            actor=None, code=f"E{e}", name=f"企业{e}", kind=UnitKind.ENTERPRISE, parent=group
        )
        admin = User.objects.create_user(username=f"admin{e}", password=None)
        RoleAssignment.objects.create(user=admin, role=Role.UNIT_ADMIN, unit=enterprise)
        for p in range(PLANTS_PER_ENTERPRISE):
            plant = unit_create(
                actor=None,
                code=f"E{e}P{p}",
                name=f"企业{e}分厂{p}",
                kind=UnitKind.PLANT,
                parent=enterprise,
            )
            plants.append((plant.pk, plant.path))
    return plants


def _series(connection: Any) -> str:
    """Return a FROM clause yielding n = 0 … ITEMS-1 on this database."""
    if connection.vendor == "postgresql":
        return f"generate_series(0, {ITEMS - 1}) AS seq(n)"
    return (
        f"(WITH RECURSIVE seq(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM seq "
        f"WHERE n < {ITEMS - 1}) SELECT n FROM seq) AS seq"
    )


def load(plants: list[tuple[int, str]], now: dt.datetime) -> None:
    """Insert the items and their clocks with two INSERT … SELECT statements."""
    from django.contrib.contenttypes.models import ContentType
    from django.db import connection, transaction

    from fangkong.core.bulk import insert_target
    from fangkong.ledger.models import Item, ItemClock
    from fangkong.orgs.models import OrgUnit

    ops = connection.ops
    stamp = ops.adapt_datetimefield_value
    content_type = ContentType.objects.get_for_model(OrgUnit).pk
    json_empty = "CAST('{}' AS jsonb)" if connection.vendor == "postgresql" else "'{}'"
    # Item n: plant n % len(plants); the first OVERDUE are past due, the next DUE_SOON
    # fall due within the warning hours, the rest in two days.
    past, soon = now - dt.timedelta(hours=1), now + dt.timedelta(hours=1)
    later = now + dt.timedelta(days=2)
    opened = now - dt.timedelta(hours=49)
    due = f"CASE WHEN n < {OVERDUE} THEN %s WHEN n < {OVERDUE + DUE_SOON} THEN %s ELSE %s END"
    item_fields = [
        Item._meta.get_field(name)
        for name in (
            "id", "kind", "content_type", "object_id", "unit", "unit_path", "title", "state",
            "is_open", "follow_up_every_hours", "data", "opened_at", "close_reason",
            "next_due_at", "next_due_estimated", "is_overdue",
        )
    ]  # fmt: skip
    clock_fields = [
        ItemClock._meta.get_field(name)
        for name in ("item", "key", "due_at", "warn_at", "estimated", "stopped")
    ]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("CREATE TEMPORARY TABLE bench_plant (idx integer, id bigint, path text)")
        cursor.executemany(
            "INSERT INTO bench_plant VALUES (%s, %s, %s)",
            [(i, pk, path) for i, (pk, path) in enumerate(plants)],
        )
        started = time.perf_counter()
        cursor.execute(
            f"INSERT INTO {insert_target(Item, item_fields, connection)} "
            f"SELECT n + 1, 'bench', %s, p.id, p.id, p.path, 'bench ' || n, 'open', %s, NULL, "
            f"{json_empty}, %s, '', {due}, %s, %s "
            f"FROM {_series(connection)} JOIN bench_plant p ON p.idx = n %% {len(plants)}",
            [
                content_type,
                True,
                stamp(opened),
                stamp(past),
                stamp(soon),
                stamp(later),
                False,
                False,
            ],
        )
        warn = dt.timedelta(hours=2)
        cursor.execute(
            f"INSERT INTO {insert_target(ItemClock, clock_fields, connection)} "
            f"SELECT n + 1, 'resolution', {due}, {due}, %s, %s FROM {_series(connection)}",
            [
                *(stamp(moment) for moment in (past, soon, later)),
                *(stamp(moment - warn) for moment in (past, soon, later)),
                False,
                False,
            ],
        )
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence('ledger_item', 'id'), %s)", [ITEMS]
            )
        cursor.execute("DROP TABLE bench_plant")
    print(f"loaded {ITEMS} items and clocks in {time.perf_counter() - started:.1f} s (not timed)")


def main() -> None:
    """Build the database, run the sweep twice, print figures and JSON."""
    with throwaway_database("ledger_sweep") as vendor:
        setup_django()
        from django.urls import reverse
        from django.utils import timezone
        from django_q.conf import Conf
        from django_q.models import OrmQ

        from fangkong.ledger.models import Item
        from fangkong.ledger.services import overdue_sweep, sweep_notices_send
        from fangkong.notify.models import Notification

        print(f"machine: {machine()}; database: {database_version()}")
        register_kind()
        plants = build_tree()
        now = timezone.now()
        load(plants, now)
        analyze()
        reverse("ledger:index")  # a running worker has imported the URLconf already
        Conf.SYNC = False  # the notices job goes to the queue, as in production
        started = time.perf_counter()
        result = overdue_sweep(now)
        seconds = time.perf_counter() - started
        [queued] = OrmQ.objects.all()
        started = time.perf_counter()
        sent = sweep_notices_send(batches=queued.task["args"][0])
        send_seconds = time.perf_counter() - started
        queued.delete()
        started = time.perf_counter()
        idle = overdue_sweep(now + dt.timedelta(minutes=5))
        idle_ms = (time.perf_counter() - started) * 1000
        marked = Item.objects.filter(is_overdue=True).count()
        notifications = Notification.objects.count()
        verdict = "met" if seconds <= GOAL_SECONDS else "MISSED"
        print(
            f"sweep: {result['overdue']} overdue, {result['warned']} warned, "
            f"{result['notifications']} notifications over {len(plants)} units in "
            f"{seconds:.2f} s; goal ≤ {GOAL_SECONDS} s: {verdict}"
        )
        print(
            f"the queued job sent {sent} notifications (one per unit and event) in "
            f"{send_seconds:.2f} s"
        )
        print(f"second sweep (nothing due): {idle_ms:.1f} ms, {idle}")
        assert result["overdue"] == OVERDUE and marked == OVERDUE, (result, marked)
        assert result["warned"] == DUE_SOON, result
        assert notifications == sent == result["notifications"] == 2 * len(plants), notifications
        emit(
            {
                "benchmark": "ledger_sweep",
                "database": vendor,
                "items": ITEMS,
                "overdue": result["overdue"],
                "warned": result["warned"],
                "units": len(plants),
                "notifications": result["notifications"],
                "sweep_s": round(seconds, 3),
                "notices_send_s": round(send_seconds, 3),
                "idle_sweep_ms": round(idle_ms, 1),
                "goal_s": GOAL_SECONDS,
            }
        )


if __name__ == "__main__":
    main()
