"""Benchmark: the nightly supervision colours over 100,000 open supervised problems.

Claim: with 100,000 open rectification problems, each under a supervision order, half of
them with a quantity target, one ``colours_recompute`` (the nightly job) recomputes every
problem's and order's colour set-based, queues the one job that sends a notice per unit
and colour, and writes the day's colour counts, in at most 2 s. The queued job's own time
is reported beside it. A second run the same night changes nothing and is cheap.

The data set is built set-based: one ``INSERT … SELECT`` over a generated series each for
the ledger items, the problems, their targets and the orders, spread over the plants of a
group → enterprises → plants tree with a supervisor on each enterprise. Start days, due
days and progress vary with the row number, so every colour occurs: overdue (red), behind
its target (yellow), 3 working days or fewer left (blue), and none.
Run: ``.venv/bin/python benchmarks/rectification_colours.py`` (SQLite) or inside
``bash scripts/with-postgres.sh`` (PostgreSQL). The last stdout line is JSON.
"""

import datetime as dt
import os
import time
from typing import Any

from _support import (
    analyze,
    database_version,
    emit,
    load_average,
    machine,
    postgres_postmaster_pid,
    server_cpu_seconds,
    setup_django,
    throwaway_database,
)

PROBLEMS = int(os.environ.get("BENCH_PROBLEMS", "100000"))
ENTERPRISES = 20
PLANTS_PER_ENTERPRISE = 10
GOAL_SECONDS = 2.0


def build_tree() -> tuple[list[tuple[int, str, int, str]], Any]:
    """Create the units and a supervisor per enterprise; return (plant id, path,
    enterprise id, enterprise path) per plant."""
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
        supervisor = User.objects.create_user(username=f"supervisor{e}", password=None)
        RoleAssignment.objects.create(user=supervisor, role=Role.SUPERVISOR, unit=enterprise)
        for p in range(PLANTS_PER_ENTERPRISE):
            plant = unit_create(
                actor=None,
                code=f"E{e}P{p}",
                name=f"企业{e}分厂{p}",
                kind=UnitKind.PLANT,
                parent=enterprise,
            )
            plants.append((plant.pk, plant.path, enterprise.pk, enterprise.path))
    return plants, group


def _series(connection: Any) -> str:
    """Return a FROM clause yielding n = 0 … PROBLEMS-1 on this database."""
    if connection.vendor == "postgresql":
        return f"generate_series(0, {PROBLEMS - 1}) AS seq(n)"
    return (
        f"(WITH RECURSIVE seq(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM seq "
        f"WHERE n < {PROBLEMS - 1}) SELECT n FROM seq) AS seq"
    )


def _day(connection: Any, offset: str) -> str:
    """SQL for the date %s plus ``offset`` (an integer expression) days."""
    if connection.vendor == "postgresql":
        return f"(CAST(%s AS date) + ({offset}))"
    return f"date(%s, ({offset}) || ' days')"


def load(plants: list[tuple[int, str, int, str]], now: dt.datetime) -> None:
    """Insert items, problems, targets and orders with four INSERT … SELECT statements."""
    from django.contrib.contenttypes.models import ContentType
    from django.db import connection, transaction

    from fangkong.core.bulk import insert_target
    from fangkong.core.calendar import LOCAL_TZ
    from fangkong.ledger.models import Item
    from fangkong.rectification.models import Problem, SupervisionOrder, Target

    def fields(model: Any, *names: str) -> str:
        chosen = [model._meta.get_field(name) for name in names]
        return insert_target(model, chosen, connection)

    stamp = connection.ops.adapt_datetimefield_value(now)
    today = now.astimezone(LOCAL_TZ).date().isoformat()
    content_type = ContentType.objects.get_for_model(Problem).pk
    json_empty = "CAST('{}' AS jsonb)" if connection.vendor == "postgresql" else "'{}'"
    # Problem n: started 0–29 days ago, due from 5 days ago to 34 days ahead; the even
    # ones have a target of 100 with n % 100 done; the order is due 0–2 days after it.
    starts = _day(connection, "-(n %% 30)")
    due = _day(connection, "(n %% 40) - 5")
    order_due = _day(connection, "(n %% 40) - 5 + (n %% 3)")
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMPORARY TABLE bench_plant (idx integer, id bigint, path text, "
            "ent bigint, ent_path text)"
        )
        cursor.executemany("INSERT INTO bench_plant VALUES (%s, %s, %s, %s, %s)", [
            (i, *plant) for i, plant in enumerate(plants)
        ])  # fmt: skip
        # Rows go to plants in runs of 7, so each plant gets every kind of due day.
        join = f"JOIN bench_plant p ON p.idx = (n / 7) %% {len(plants)}"
        started = time.perf_counter()
        cursor.execute(
            f"INSERT INTO {fields(Item, 'id', 'kind', 'content_type', 'object_id', 'unit', 'unit_path', 'title', 'state', 'is_open', 'data', 'opened_at', 'close_reason', 'next_due_estimated', 'is_overdue')} "  # noqa: E501
            f"SELECT n + 1, 'problem', %s, n + 1, p.id, p.path, '问题 ' || n, 'in_progress', "
            f"%s, {json_empty}, %s, '', %s, %s FROM {_series(connection)} {join}",
            [content_type, True, stamp, False, False],
        )
        cursor.execute(
            f"INSERT INTO {fields(Problem, 'id', 'created_at', 'updated_at', 'item', 'source', 'source_ref', 'title', 'description', 'category', 'severity', 'problem_class', 'assigning_unit', 'assigning_path', 'responsible_name', 'leader_name', 'starts_on', 'due_on', 'due_estimated', 'root_cause', 'measures', 'preventive', 'effect_check_days', 'recurrences', 'colour', 'import_key')} "  # noqa: E501
            f"SELECT n + 1, %s, %s, n + 1, 'audit', '', '问题 ' || n, '', '', 'general', "
            f"'deadline', p.ent, p.ent_path, '', '', {starts}, {due}, %s, '', '', '', 30, 0, "
            f"'', '' FROM {_series(connection)} {join}",
            [stamp, stamp, today, today, False],
        )
        cursor.execute(
            f"INSERT INTO {fields(Target, 'problem', 'label', 'unit_of_measure', 'target', 'done')} "  # noqa: E501
            f"SELECT n + 1, '路灯', '盏', 100, n %% 100 FROM {_series(connection)} "
            "WHERE n %% 2 = 0",
            [],
        )
        cursor.execute(
            f"INSERT INTO {fields(SupervisionOrder, 'created_at', 'updated_at', 'item', 'supervising_unit', 'supervising_path', 'level', 'due_on', 'note', 'is_active', 'colour')} "  # noqa: E501
            f"SELECT %s, %s, n + 1, p.ent, p.ent_path, 'key', {order_due}, '', %s, '' "
            f"FROM {_series(connection)} {join}",
            [stamp, stamp, today, True],
        )
        if connection.vendor == "postgresql":
            for table in ("ledger_item", "rectification_problem"):
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), %s)", [PROBLEMS]
                )
        cursor.execute("DROP TABLE bench_plant")
    print(
        f"loaded {PROBLEMS} items, problems and orders, {PROBLEMS // 2} targets in "
        f"{time.perf_counter() - started:.1f} s (not timed)"
    )


def timed(run: Any, postmaster: int | None) -> tuple[Any, float, float]:
    """Run ``run()``; return its result, the wall-clock seconds and the CPU seconds spent
    by this process and the database server (what does not grow with the machine's load)."""
    cpu = time.process_time() + server_cpu_seconds(postmaster)
    started = time.perf_counter()
    result = run()
    seconds = time.perf_counter() - started
    return result, seconds, time.process_time() + server_cpu_seconds(postmaster) - cpu


def main() -> None:
    """Build the database, run the nightly job twice, print figures and JSON."""
    with throwaway_database("rectification_colours") as vendor:
        setup_django()
        from django.db.models import Count
        from django.urls import reverse
        from django.utils import timezone
        from django_q.conf import Conf
        from django_q.models import OrmQ

        from fangkong.core.calendar import LOCAL_TZ
        from fangkong.rectification.models import Problem, SupervisionOrder
        from fangkong.rectification.nightly import colour_notices_send, colours_recompute
        from fangkong.rectification.services import colour_now

        print(f"machine: {machine()}; database: {database_version()}")
        plants, _group = build_tree()
        # 01:00 tonight in Asia/Shanghai, as the schedule runs it.
        now = timezone.now().astimezone(LOCAL_TZ).replace(hour=1, minute=0, second=0)
        load(plants, now)
        analyze()
        reverse("rectification:supervision_list")  # a worker has the URLconf already
        Conf.SYNC = False  # the notices job goes to the queue, as in production
        # Last night's run (not timed): the colours stored are a day old, as in production.
        colours_recompute(now - dt.timedelta(days=1))
        OrmQ.objects.all().delete()
        postmaster = postgres_postmaster_pid()
        print(f"load average before tonight's run: {load_average()}")
        result, seconds, cpu = timed(lambda: colours_recompute(now), postmaster)
        print(f"load average after tonight's run: {load_average()}")
        [queued] = OrmQ.objects.all()
        started = time.perf_counter()
        sent = colour_notices_send(batches=queued.task["args"][0])
        send_seconds = time.perf_counter() - started
        queued.delete()
        started = time.perf_counter()
        idle = colours_recompute(now)
        idle_ms = (time.perf_counter() - started) * 1000
        # The worst case: every colour from scratch (a first run, or after a restore).
        Problem.objects.update(colour="", colour_since=None)
        SupervisionOrder.objects.update(colour="", colour_since=None)
        analyze()
        print(f"load average before the run from scratch: {load_average()}")
        scratch, scratch_seconds, scratch_cpu = timed(lambda: colours_recompute(now), postmaster)
        print(f"load average after the run from scratch: {load_average()}")
        OrmQ.objects.all().delete()
        problems = dict(Problem.objects.values_list("colour").annotate(n=Count("id")))
        orders = dict(SupervisionOrder.objects.values_list("colour").annotate(n=Count("id")))
        # The set-based result is the rule's, problem by problem (a sample of 500).
        sample = Problem.objects.select_related("item").order_by("?")[:500]
        wrong = [p.pk for p in sample if p.item and p.colour != colour_now(p, p.item, now)]
        assert not wrong, wrong
        verdict = "met" if max(seconds, scratch_seconds) <= GOAL_SECONDS else "MISSED"
        print(f"problems by colour: {problems}; orders by colour: {orders}")
        print(
            f"tonight's run: {result['problems']} problems and {result['orders']} orders "
            f"changed colour since last night, {result['notifications']} notices queued, "
            f"day counts {result['counts']} in {seconds:.2f} s (CPU {cpu:.2f} s)"
        )
        print(
            f"from scratch: {scratch['problems']} problems and {scratch['orders']} orders "
            f"coloured in {scratch_seconds:.2f} s (CPU {scratch_cpu:.2f} s); "
            f"goal ≤ {GOAL_SECONDS} s: {verdict}"
        )
        print(
            f"the queued job sent {sent} notices (one per unit and colour) in {send_seconds:.2f} s"
        )
        print(f"second run the same night: {idle_ms:.1f} ms, {idle['problems']} changed")
        assert idle["problems"] == idle["orders"] == idle["notifications"] == 0, idle
        assert sum(result["counts"].values()) == PROBLEMS, result["counts"]
        assert sent == result["notifications"], (sent, result)
        emit(
            {
                "benchmark": "rectification_colours",
                "database": vendor,
                "problems": PROBLEMS,
                "orders": PROBLEMS,
                "problems_by_colour": problems,
                "orders_by_colour": orders,
                "changed_tonight": result["problems"] + result["orders"],
                "notifications": result["notifications"],
                "run_s": round(seconds, 3),
                "run_cpu_s": round(cpu, 3),
                "coloured_from_scratch": scratch["problems"] + scratch["orders"],
                "from_scratch_s": round(scratch_seconds, 3),
                "from_scratch_cpu_s": round(scratch_cpu, 3),
                "notices_send_s": round(send_seconds, 3),
                "idle_run_ms": round(idle_ms, 1),
                "goal_s": GOAL_SECONDS,
            }
        )


if __name__ == "__main__":
    main()
