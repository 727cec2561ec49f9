"""Benchmark: the live roll-up of the whole group for one day.

Claim: with the documents' organisation (``seed("seeds")``: 548 enterprises, 178,000
people) and one declaration per person for the day (about 1 % abnormal), ``rollup`` for
the group root answers in a median of at most 100 ms, and at most 1 s at ``--scale 10x``.
Every reporting unit's report of the day is attested (a few missing). Each call is timed
separately, ORM and Python summing included; a drill-down at a large enterprise is timed
too. Figures are taken after the planner statistics are refreshed. The day is taken once,
at the start: a run that goes past midnight in Asia/Shanghai still times the seeded day,
not an empty new one.

Run: ``.venv/bin/python benchmarks/rollup.py [--scale seeds|10x]`` (SQLite) or inside
``bash scripts/with-postgres.sh`` (PostgreSQL). The last stdout line is JSON.
"""

import argparse
import datetime as dt
import time

from _support import (
    analyze,
    database_version,
    emit,
    machine,
    percentile,
    setup_django,
    throwaway_database,
)

GOALS_MS = {"seeds": 100, "10x": 1000}
GROUP_CALLS = {"seeds": 100, "10x": 20}
ENTERPRISE_CALLS = 100
WARM_UP = 3


def load(scale: str, day: dt.date) -> None:
    """Seed the organisation, the declarations and reports of ``day`` (not timed)."""
    from fangkong.health.demo import seed_declarations
    from fangkong.orgs.demo import seed
    from fangkong.reports.demo import seed_reports

    started = time.perf_counter()
    made = seed(scale)
    print(f"seeded {made['units']} units and {made['people']} people", end="")
    declared = seed_declarations(days=1, rate=1.0, today=day)
    # Late evening of the day, so the reports are attested whatever the clock says now.
    reports = seed_reports(days=1, sweep=False, now=late_evening(day))
    print(
        f", {declared} declarations and {reports['reports']} reports of {day} "
        f"in {time.perf_counter() - started:.1f} s (not timed)"
    )


def late_evening(day: dt.date) -> dt.datetime:
    """23:00 local time on ``day``: every report of the story is in, whatever the clock says."""
    from django.utils import timezone

    return dt.datetime.combine(day, dt.time(23, 0), tzinfo=timezone.get_current_timezone())


def timed(call: object, repeats: int) -> list[float]:
    for _ in range(WARM_UP):
        call()  # type: ignore[operator]
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        call()  # type: ignore[operator]
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def summary(label: str, samples: list[float], goal_ms: float | None) -> dict[str, float]:
    p50, p95 = percentile(samples, 0.50), percentile(samples, 0.95)
    verdict = (
        ""
        if goal_ms is None
        else f"; goal p50 ≤ {goal_ms} ms: " + ("met" if p50 <= goal_ms else "MISSED")
    )
    print(f"{label}: {len(samples)} calls, p50 {p50:.1f} ms, p95 {p95:.1f} ms{verdict}")
    return {"p50_ms": round(p50, 1), "p95_ms": round(p95, 1)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", choices=sorted(GOALS_MS), default="seeds")
    scale = parser.parse_args().scale
    with throwaway_database("rollup") as vendor:
        setup_django()
        print(f"machine: {machine()}; database: {database_version()}")
        from django.utils import timezone

        day = timezone.localdate()  # once: the seeded day, even if the run passes midnight
        load(scale, day)
        analyze()
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        from fangkong.accounts.models import User
        from fangkong.orgs.models import OrgUnit
        from fangkong.reports.selectors import rollup

        user = User.objects.get(username="group_admin")
        group = OrgUnit.objects.get(parent__isnull=True)
        enterprise = OrgUnit.objects.get(code="SXXCL")  # the one with the communities

        def group_rollup() -> object:
            return rollup(user=user, unit=group, day=day)

        def enterprise_rollup() -> object:
            return rollup(user=user, unit=enterprise, day=day)

        with CaptureQueriesContext(connection) as queries:
            result = group_rollup()
        total = result.total  # type: ignore[attr-defined]
        print(
            f"group: {total.figures.declared}/{total.figures.expected} declared, "
            f"{total.figures.abnormal} abnormal, reports {total.reports.as_dict()}; "
            f"{len(queries)} queries, {len(result.children)} children"  # type: ignore[attr-defined]
        )
        group_stats = summary("group", timed(group_rollup, GROUP_CALLS[scale]), GOALS_MS[scale])
        ent_stats = summary("enterprise SXXCL", timed(enterprise_rollup, ENTERPRISE_CALLS), None)
        emit(
            {
                "benchmark": "rollup",
                "database": vendor,
                "scale": scale,
                "day": day.isoformat(),
                "people": total.figures.expected,
                "declarations": total.figures.declared,
                "queries": len(queries),
                "group_p50_ms": group_stats["p50_ms"],
                "group_p95_ms": group_stats["p95_ms"],
                "enterprise_p50_ms": ent_stats["p50_ms"],
                "enterprise_p95_ms": ent_stats["p95_ms"],
                "goal_group_p50_ms": GOALS_MS[scale],
            }
        )


if __name__ == "__main__":
    main()
