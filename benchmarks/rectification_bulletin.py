"""Benchmark: the weekly bulletin over 10,000 rectification problems, PDF and Excel included.

Claim: ``bulletin_generate`` for the group (its 20 enterprises as rows, 200 plants below
them) over 10,000 problems — a mix of states and colours: new, accepted on time and late,
closed out, overdue and red — computes the figures, the red list and the ranking, draws the
PDF (WeasyPrint, Chinese) and the workbook and stores both, in at most 10 s. A second
version right after (the office generating again) is timed too, and so is an enterprise's
bulletin (10 rows).

The problems and their ledger items are inserted in bulk (one multi-row INSERT per table
and batch, column lists from ``core.bulk.insert_target``), spread over the plants of a
group → enterprises → plants tree. Run: ``.venv/bin/python
benchmarks/rectification_bulletin.py`` (SQLite) or inside ``bash scripts/with-postgres.sh``
(PostgreSQL). The last stdout line is JSON.
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
    setup_django,
    throwaway_database,
)

PROBLEMS = int(os.environ.get("BENCH_PROBLEMS", "10000"))
ENTERPRISES = 20
PLANTS_PER_ENTERPRISE = 10
BATCH = 500
GOAL_SECONDS = 10.0


def build_tree() -> tuple[Any, list[Any]]:
    """Create the group, its enterprises and their plants; return the group and the plants."""
    from fangkong.orgs.models import UnitKind
    from fangkong.orgs.services import unit_create

    group = unit_create(actor=None, code="G", name="集团", kind=UnitKind.GROUP, parent=None)
    plants = []
    for e in range(ENTERPRISES):
        enterprise = unit_create(
            actor=None, code=f"E{e}", name=f"企业{e}", kind=UnitKind.ENTERPRISE, parent=group
        )
        for p in range(PLANTS_PER_ENTERPRISE):
            plants.append(
                unit_create(
                    actor=None,
                    code=f"E{e}P{p}",
                    name=f"企业{e}分厂{p}",
                    kind=UnitKind.PLANT,
                    parent=enterprise,
                )
            )
    return group, plants


def _problem_rows(n: int, week_start: dt.date) -> dict[str, Any]:
    """Problem n's dates and state: a tenth each of ten shapes, spread over three weeks."""
    from fangkong.core import calendar

    def instant(day: dt.date, hour: int = 9) -> dt.datetime:
        return dt.datetime.combine(day, dt.time(hour), calendar.LOCAL_TZ)

    opened = week_start - dt.timedelta(days=14) + dt.timedelta(days=n % 21)
    shape = n % 10
    due = opened + dt.timedelta(days=(3, 5, 10, 30)[n % 4])
    row: dict[str, Any] = {
        "opened_at": instant(opened),
        "starts_on": opened,
        "due_on": due,
        "state": "in_progress",
        "is_open": True,
        "closed_at": None,
        "submitted_at": None,
        "accepted_at": None,
        "on_time": None,
        "colour": "",
    }
    in_week = week_start + dt.timedelta(days=n % 7)
    if shape in (4, 5) and opened <= in_week:  # accepted during the week, on time or late
        row.update(state="accepted", accepted_at=instant(in_week, 15))
        row.update(submitted_at=instant(in_week, 10), on_time=in_week <= due)
    elif shape == 6 and opened <= in_week:  # closed out during the week
        row.update(state="closed", is_open=False, closed_at=instant(in_week, 16))
        row.update(submitted_at=instant(opened), accepted_at=instant(opened, 12), on_time=True)
    elif shape == 7:
        row["state"] = "assigned"
    return row


def load(plants: list[Any], week_start: dt.date, now: dt.datetime) -> None:
    """Insert the ledger items and the problems, in batches of multi-row INSERTs."""
    from django.contrib.contenttypes.models import ContentType
    from django.db import connection, transaction

    from fangkong.core.bulk import insert_target
    from fangkong.ledger.models import Item
    from fangkong.rectification.models import Problem

    content_type = ContentType.objects.get_for_model(Problem).pk
    item_names = (
        "id", "kind", "content_type", "object_id", "unit", "unit_path", "title", "state",
        "is_open", "data", "opened_at", "closed_at", "close_reason", "next_due_estimated",
        "is_overdue",
    )  # fmt: skip
    problem_names = (
        "id", "item", "source", "source_ref", "title", "description", "category", "severity",
        "problem_class", "assigning_unit", "assigning_path", "responsible_name",
        "leader_name", "starts_on", "due_on", "due_estimated", "root_cause", "measures",
        "preventive", "effect_check_days", "submitted_at", "accepted_at", "on_time",
        "recurrences", "colour", "import_key", "created_at", "updated_at",
    )  # fmt: skip
    item_fields: list[Any] = [Item._meta.get_field(name) for name in item_names]
    problem_fields: list[Any] = [Problem._meta.get_field(name) for name in problem_names]
    today = now.astimezone().date()
    items, problems = [], []
    for n in range(PROBLEMS):
        plant = plants[n % len(plants)]
        enterprise_path = "/".join(plant.path.split("/")[:-2]) + "/"
        r = _problem_rows(n, week_start)
        red = r["is_open"] and r["state"] in ("in_progress", "assigned") and r["due_on"] < today
        items.append(
            [n + 1, "problem", content_type, n + 1, plant.pk, plant.path, f"整改问题{n}",
             r["state"], r["is_open"], {}, r["opened_at"], r["closed_at"], "", False, red]
        )  # fmt: skip
        problems.append(
            [n + 1, n + 1, "audit", "", f"整改问题{n}", "", "", "general", "deadline",
             plant.parent_id, enterprise_path, f"责任人{n % 97}", "", r["starts_on"],
             r["due_on"], False, "", "", "", 30, r["submitted_at"], r["accepted_at"],
             r["on_time"], 0, "red" if red else r["colour"], "", now, now]
        )  # fmt: skip
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        for model, fields, rows in (
            (Item, item_fields, items),
            (Problem, problem_fields, problems),
        ):
            target = insert_target(model, fields, connection)
            marks = "(" + ", ".join(["%s"] * len(fields)) + ")"
            for start in range(0, len(rows), BATCH):
                batch = rows[start : start + BATCH]
                params = [
                    field.get_db_prep_save(value, connection)
                    for row in batch
                    for field, value in zip(fields, row, strict=True)
                ]
                cursor.execute(
                    f"INSERT INTO {target} VALUES {', '.join([marks] * len(batch))}", params
                )
            if connection.vendor == "postgresql":
                table = model._meta.db_table
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), %s)", [PROBLEMS]
                )
    print(f"loaded {PROBLEMS} problems and items in {time.perf_counter() - started:.1f} s")


CPU_SECONDS: list[float] = []


def timed(unit: Any, week_start: dt.date, now: dt.datetime) -> tuple[float, Any]:
    """Generate one version; print the load average around it and its wall and CPU time
    (this process only; the machine is shared, so the CPU time is the steadier figure)."""
    from fangkong.rectification.bulletin import bulletin_generate

    print(f"load average before: {load_average()}")
    started, cpu = time.perf_counter(), time.process_time()
    made = bulletin_generate(actor=None, unit=unit, week_start=week_start, now=now)
    seconds = time.perf_counter() - started
    CPU_SECONDS.append(time.process_time() - cpu)
    print(f"load average after: {load_average()} ({seconds:.2f} s, CPU {CPU_SECONDS[-1]:.2f} s)")
    return seconds, made


def main() -> None:
    with throwaway_database("rectification_bulletin") as vendor:
        setup_django()
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        from fangkong.core import calendar
        from fangkong.rectification.bulletin import last_week_start

        print(f"machine: {machine()}; database: {database_version()}")
        group, plants = build_tree()
        now = dt.datetime(2026, 11, 16, 7, 0, tzinfo=calendar.LOCAL_TZ)
        week_start = last_week_start(now)
        load(plants, week_start, now)
        analyze()
        from weasyprint import HTML

        HTML(string="<p>预热</p>").write_pdf()  # Pango and the fonts load once per process

        with CaptureQueriesContext(connection) as queries:
            seconds, made = timed(group, week_start, now)
        figures = made.figures
        totals = figures["totals"]
        red = len(figures["red"])
        pdf_kib, xlsx_kib = made.pdf.size / 1024, made.xlsx.size / 1024
        again, second = timed(group, week_start, now)
        enterprise = plants[0].parent
        one_s, _one = timed(enterprise, week_start, now)
        verdict = "met" if seconds <= GOAL_SECONDS else "MISSED"
        print(
            f"group bulletin: {len(figures['rows'])} rows, {red} red, totals {totals}; "
            f"PDF {pdf_kib:.0f} KiB, Excel {xlsx_kib:.0f} KiB; {len(queries)} queries; "
            f"CPU {CPU_SECONDS[0]:.2f} s; "
            f"{seconds:.2f} s (goal ≤ {GOAL_SECONDS} s: {verdict}); version 2 in {again:.2f} s; "
            f"one enterprise in {one_s:.2f} s"
        )
        assert second.version == 2 and sum(r["new"] for r in figures["rows"]) == totals["new"]
        emit(
            {
                "benchmark": "rectification_bulletin",
                "database": vendor,
                "problems": PROBLEMS,
                "units": 1 + ENTERPRISES + len(plants),
                "rows": len(figures["rows"]),
                "red": red,
                "totals": totals,
                "queries": len(queries),
                "pdf_kib": round(pdf_kib),
                "xlsx_kib": round(xlsx_kib),
                "generate_s": round(seconds, 3),
                "generate_cpu_s": round(CPU_SECONDS[0], 3),
                "again_s": round(again, 3),
                "enterprise_s": round(one_s, 3),
                "goal_s": GOAL_SECONDS,
            }
        )


if __name__ == "__main__":
    main()
