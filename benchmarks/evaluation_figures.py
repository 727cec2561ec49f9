"""Benchmark: service evaluation's figures and public page over 1,000,000 ratings.

Claim: with 1,000,000 ratings (and their cases, 7 % bad reviews, nine in ten called back)
over a centre with 11 stations, 40 windows, 120 staff and 30 services across 12 months,
the centre's figures for a month, and its public page (figures, coverage, the month's bad
reviews; computed, not served from the cache), take at most 200 ms each. The figures over
the whole year, grouped by station, and the cached public page are reported beside them.

The data set is built set-based: one ``INSERT … SELECT`` over a generated series each for
the cases and the ratings, then the bad reviews and callbacks from the ratings (column lists
from ``core.bulk.insert_target``). Run: ``.venv/bin/python benchmarks/evaluation_figures.py``
(SQLite) or inside ``bash scripts/with-postgres.sh`` (PostgreSQL). The last stdout line is
JSON.
"""

import datetime as dt
import os
import statistics
import time
from collections.abc import Callable
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

RATINGS = int(os.environ.get("BENCH_RATINGS", "1000000"))
CASES = RATINGS + RATINGS // 10  # one case in eleven is not rated
STATIONS = 11
WINDOWS_AT_CENTRE = 7
WINDOWS_PER_STATION = 3  # 7 + 33 = 40 windows
STAFF_PER_WINDOW = 3  # 120 staff
SERVICES = 30
HOURS = 365 * 24
GOAL_MS = 200.0
RUNS = 7


def build() -> dict[str, Any]:
    """The centre, its stations, windows, staff and services; return what the load needs."""
    from fangkong.accounts.models import User
    from fangkong.evaluation.models import Offering, Service, Staff, Window
    from fangkong.orgs.models import UnitKind
    from fangkong.orgs.services import unit_create

    group = unit_create(actor=None, code="G", name="集团", kind=UnitKind.GROUP, parent=None)
    centre = unit_create(
        actor=None, code="ZB", name="淄博保税物流园区便民服务中心",
        kind=UnitKind.SERVICE_CENTRE, parent=group,
    )  # fmt: skip
    units = [centre] + [
        unit_create(
            actor=None,
            code=f"ZB{s:02d}",
            name=f"第{s}便民服务站",
            kind=UnitKind.SERVICE_STATION,
            parent=centre,
        )
        for s in range(1, STATIONS + 1)
    ]
    services = [
        Service.objects.create(code=f"S{i:03d}", name=f"事项{i}", category=f"类{i % 6}")
        for i in range(SERVICES)
    ]
    for service in services:
        Offering.objects.create(service=service, unit=centre, unit_path=centre.path)
    staff_rows = []
    for unit in units:
        count = WINDOWS_AT_CENTRE if unit is centre else WINDOWS_PER_STATION
        for w in range(count):
            window = Window.objects.create(unit=unit, unit_path=unit.path, number=str(w + 1))
            for s in range(STAFF_PER_WINDOW):
                user = User.objects.create_user(username=f"s{unit.pk}-{w}-{s}", password=None)
                staff = Staff.objects.create(
                    user=user, window=window, name=f"员工{unit.pk}{w}{s}",
                    staff_number=f"N{unit.pk}-{w}-{s}",
                )  # fmt: skip
                staff_rows.append((staff.pk, window.pk, unit.pk, unit.path))
    return {"centre": centre, "staff": staff_rows, "services": [s.pk for s in services]}


def _series(connection: Any, count: int) -> str:
    if connection.vendor == "postgresql":
        return f"generate_series(0, {count - 1}) AS seq(n)"
    return (
        f"(WITH RECURSIVE seq(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM seq "
        f"WHERE n < {count - 1}) SELECT n FROM seq) AS seq"
    )


def load(built: dict[str, Any], first_hour: dt.datetime) -> None:
    """Cases, ratings, bad reviews and callbacks, set-based."""
    from django.db import connection, transaction

    from fangkong.core.bulk import insert_target
    from fangkong.evaluation.models import BadReview, Callback, Case, Rating

    stamp = connection.ops.adapt_datetimefield_value
    staff, services = built["staff"], built["services"]

    def fields(model: Any, names: str) -> list[Any]:
        return [model._meta.get_field(name) for name in names.split()]

    case_fields = fields(
        Case, "id service unit unit_path window staff channel person_name person_phone key "
        "created_at",
    )  # fmt: skip
    rating_fields = fields(
        Rating, "id case level tags text channel unit_path window staff service rated_at "
        "device excluded",
    )  # fmt: skip
    bad_fields = fields(
        BadReview, "id rating profile_name callback_due_at rectify_due_at follow_up_days "
        "outcome outcome_text appeal_note reply follow_up_key follow_up_text "
        "rated_at unit_path counted",
    )  # fmt: skip
    callback_fields = fields(Callback, "bad_review at how reached said")
    # case n: staff member (n / 7) % 120, service (n / 13) % 30, hour n % 8760 of the year
    # (so each hour, day and month holds every staff member and service); level from a hash.
    hashed = "((n %% 100003) * 7919) %% 100"
    level = (
        f"CASE WHEN {hashed} < 60 THEN 5 WHEN {hashed} < 85 THEN 4 "
        f"WHEN {hashed} < 93 THEN 3 WHEN {hashed} < 97 THEN 2 ELSE 1 END"
    )
    joins = (
        f"JOIN bench_staff st ON st.idx = (n / 7) %% {len(staff)} "
        f"JOIN bench_service sv ON sv.idx = (n / 13) %% {len(services)} "
        f"JOIN bench_hour h ON h.idx = n %% {HOURS}"
    )
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMPORARY TABLE bench_staff "
            "(idx integer, staff bigint, win bigint, unit bigint, path text)"
        )
        cursor.executemany(
            "INSERT INTO bench_staff VALUES (%s, %s, %s, %s, %s)",
            [(i, *row) for i, row in enumerate(staff)],
        )
        cursor.execute("CREATE TEMPORARY TABLE bench_service (idx integer, id bigint)")
        cursor.executemany("INSERT INTO bench_service VALUES (%s, %s)", list(enumerate(services)))
        at_type = "timestamptz" if connection.vendor == "postgresql" else "text"
        cursor.execute(f"CREATE TEMPORARY TABLE bench_hour (idx integer, at {at_type})")
        cursor.executemany(
            "INSERT INTO bench_hour VALUES (%s, %s)",
            [(i, stamp(first_hour + dt.timedelta(hours=i, minutes=17))) for i in range(HOURS)],
        )
        started = time.perf_counter()
        cursor.execute(
            f"INSERT INTO {insert_target(Case, case_fields, connection)} "
            f"SELECT n + 1, sv.id, st.unit, st.path, st.win, st.staff, %s, '', '', "
            f"'c' || n, h.at FROM {_series(connection, CASES)} {joins}",
            ["badge"],
        )
        json_empty = "CAST('[]' AS jsonb)" if connection.vendor == "postgresql" else "'[]'"
        cursor.execute(
            f"INSERT INTO {insert_target(Rating, rating_fields, connection)} "
            f"SELECT n + 1, n + 1, {level}, {json_empty}, '', 'badge', st.path, st.win, "
            f"st.staff, sv.id, h.at, '', %s FROM {_series(connection, CASES)} {joins} "
            f"WHERE n %% 11 <> 10",
            [False],
        )
        cursor.execute(
            f"INSERT INTO {insert_target(BadReview, bad_fields, connection)} "
            f"SELECT id, id, 'default', rated_at, rated_at, 7, '', '', '', '', 'f' || id, '', "
            f"rated_at, unit_path, %s FROM evaluation_rating WHERE level <= 2",
            [True],
        )
        cursor.execute(
            f"INSERT INTO {insert_target(Callback, callback_fields, connection)} "
            f"SELECT id, callback_due_at, 'phone', %s, '' FROM evaluation_badreview "
            f"WHERE id %% 10 <> 0",
            [True],
        )
        if connection.vendor == "postgresql":
            for table, count in (("evaluation_case", CASES), ("evaluation_rating", CASES)):
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), %s)", [count]
                )
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence('evaluation_badreview', 'id'), "
                "(SELECT max(id) FROM evaluation_badreview))"
            )
        for table in ("bench_staff", "bench_service", "bench_hour"):
            cursor.execute(f"DROP TABLE {table}")
    print(f"loaded in {time.perf_counter() - started:.1f} s (not timed)")


def timed(work: Callable[[], Any]) -> tuple[float, Any]:
    samples, result = [], None
    for _run in range(RUNS):
        started = time.perf_counter()
        result = work()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples), result


def main() -> None:
    with throwaway_database("evaluation_figures") as vendor:
        setup_django()
        from django.core.cache import cache
        from django.core.management import call_command
        from django.test import Client
        from django.utils import timezone

        from fangkong.core.retention import local_midnight
        from fangkong.evaluation.figures import Period, Scope, figures_by, figures_of
        from fangkong.evaluation.models import Rating
        from fangkong.evaluation.report import published

        print(f"machine: {machine()}; database: {database_version()}")
        call_command("createcachetable", verbosity=0)
        built = build()
        centre = built["centre"]
        today = timezone.localdate()
        this_month = today.replace(day=1)
        first = (this_month - dt.timedelta(days=365)).replace(day=1)
        load(built, local_midnight(first))
        from fangkong.evaluation import tally

        started = time.perf_counter()
        tallies = tally.rebuild()  # the rows went in in bulk; the writes keep them after
        print(f"month tallies rebuilt: {tallies} rows in {time.perf_counter() - started:.1f} s")
        analyze()
        last_month = Period(
            (this_month - dt.timedelta(days=1)).replace(day=1), this_month - dt.timedelta(days=1)
        )
        year = Period(first, first + dt.timedelta(days=364))
        scope = Scope(centre.path)
        load_before = load_average()
        month_ms, month_figures = timed(lambda: figures_of(scope, last_month))
        year_ms, year_figures = timed(lambda: figures_of(scope, year))
        by_station_ms, by_station = timed(lambda: figures_by(scope, last_month, "unit"))
        by_staff_ms, _ = timed(lambda: figures_by(scope, last_month, "staff"))
        published_ms, _ = timed(lambda: published(centre, last_month))
        client = Client(HTTP_X_FORWARDED_PROTO="https")
        month = f"{last_month.start:%Y-%m}"

        def page_cold() -> int:
            cache.clear()  # the page computed, as after its time-to-live
            return client.get(f"/e/p/{centre.code}/?month={month}").status_code

        page_cold_ms, status = timed(page_cold)
        page_warm_ms, warm_status = timed(
            lambda: client.get(f"/e/p/{centre.code}/?month={month}").status_code
        )
        load_after = load_average()
        ratings = Rating.objects.count()
        assert status == warm_status == 200, (status, warm_status)
        assert sum(f.ratings for f in by_station.values()) == month_figures.ratings
        assert 0 < month_figures.ratings < year_figures.ratings <= ratings
        print(
            f"{ratings} ratings; last month {month_figures.ratings}, "
            f"the year {year_figures.ratings}"
        )
        verdict = "met" if max(month_ms, page_cold_ms) <= GOAL_MS else "MISSED"
        print(
            f"centre's figures, last month: {month_ms:.0f} ms; the year: {year_ms:.0f} ms; "
            f"by station: {by_station_ms:.0f} ms; by staff: {by_staff_ms:.0f} ms"
        )
        print(
            f"public page computed: {page_cold_ms:.0f} ms (data {published_ms:.0f} ms), "
            f"cached: {page_warm_ms:.1f} ms; goal ≤ {GOAL_MS:.0f} ms: {verdict}"
        )
        print(f"load average before {load_before}, after {load_after}")
        emit(
            {
                "benchmark": "evaluation_figures",
                "database": vendor,
                "ratings": ratings,
                "month_ratings": month_figures.ratings,
                "figures_month_ms": round(month_ms, 1),
                "figures_year_ms": round(year_ms, 1),
                "by_station_ms": round(by_station_ms, 1),
                "by_staff_ms": round(by_staff_ms, 1),
                "public_page_ms": round(page_cold_ms, 1),
                "public_page_cached_ms": round(page_warm_ms, 1),
                "goal_ms": GOAL_MS,
                "load_before": load_before,
                "load_after": load_after,
            }
        )


if __name__ == "__main__":
    main()
