"""Benchmark: head-count of a subtree at the documents' scale.

Claim: with 548 enterprises and 170,000 employees, ``subtree_headcount`` answers in a median
of at most 50 ms for the whole group and at most 5 ms for a workshop. A fresh database gets
``seed("seeds")``; each path is counted many times and the latencies of the calls are
reported. The main figures are taken after the planner statistics are refreshed (what
autovacuum does on PostgreSQL; SQLite never gathers them by itself); a shorter "fresh" pass
right after the bulk load, before that, is reported too (on PostgreSQL autovacuum may
already have visited the table by then).

Run: ``.venv/bin/python benchmarks/subtree_headcount.py`` (SQLite) or inside
``bash scripts/with-postgres.sh`` (PostgreSQL). The last stdout line is JSON.
"""

import random
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

WORKSHOP_SAMPLE = 200
WORKSHOP_REPEATS = 10
FRESH_REPEATS = 2  # group and workshop passes before the statistics are refreshed
WARM_UP = 5
GOAL_GROUP_P50_MS = 50
GOAL_WORKSHOP_P50_MS = 5


def timed_calls(paths: list[str], repeats: int) -> tuple[list[float], int]:
    """Count each path ``repeats`` times (after a warm-up); return latencies (ms), last count."""
    from fangkong.orgs.selectors import subtree_headcount

    for path in paths[:WARM_UP]:
        subtree_headcount(path)
    samples: list[float] = []
    count = 0
    for _ in range(repeats):
        for path in paths:
            started = time.perf_counter()
            count = subtree_headcount(path)
            samples.append((time.perf_counter() - started) * 1000)
    return samples, count


def load() -> tuple[str, list[str]]:
    """Seed the documents' organisation; return the group path and a sample of workshops."""
    from fangkong.orgs.demo import seed
    from fangkong.orgs.models import OrgUnit, UnitKind

    started = time.perf_counter()
    made = seed("seeds")
    print(
        f"seeded {made['units']} units and {made['people']} people "
        f"in {time.perf_counter() - started:.1f} s (not timed)"
    )
    group = OrgUnit.objects.get(parent__isnull=True, kind=UnitKind.GROUP).path
    workshops = list(
        OrgUnit.objects.filter(kind=UnitKind.WORKSHOP)
        .order_by("path")
        .values_list("path", flat=True)
    )
    print(f"workshops: {len(workshops)}; sampling {WORKSHOP_SAMPLE}")
    return group, random.Random(20200315).sample(workshops, WORKSHOP_SAMPLE)


def report(label: str, samples: list[float], goal_ms: float) -> tuple[float, float]:
    """Print and return the p50 and p95 of ``samples``."""
    p50, p95 = percentile(samples, 0.50), percentile(samples, 0.95)
    verdict = "met" if p50 <= goal_ms else "MISSED"
    print(
        f"{label}: {len(samples)} calls, p50 {p50:.2f} ms, p95 {p95:.2f} ms, "
        f"max {max(samples):.2f} ms; goal p50 ≤ {goal_ms} ms: {verdict}"
    )
    return p50, p95


def measure(group: str, workshops: list[str], repeats: int) -> dict[str, float]:
    """Time the group ``20 * repeats`` times and each workshop ``repeats`` times."""
    group_samples, group_count = timed_calls([group], 20 * repeats)
    shop_samples, _ = timed_calls(workshops, repeats)
    group_p50, group_p95 = report("group", group_samples, GOAL_GROUP_P50_MS)
    shop_p50, shop_p95 = report("workshop", shop_samples, GOAL_WORKSHOP_P50_MS)
    return {
        "people": group_count,
        "group_p50_ms": round(group_p50, 2),
        "group_p95_ms": round(group_p95, 2),
        "workshop_p50_ms": round(shop_p50, 3),
        "workshop_p95_ms": round(shop_p95, 3),
    }


def main() -> None:
    """Build the database, time the head-counts, print figures and JSON."""
    with throwaway_database("headcount") as vendor:
        setup_django()
        print(f"machine: {machine()}; database: {database_version()}")
        group, workshops = load()
        print("-- fresh: right after the bulk load")
        fresh = measure(group, workshops, FRESH_REPEATS)
        analyze()
        print("-- after the planner statistics are refreshed")
        settled = measure(group, workshops, WORKSHOP_REPEATS)
        print(f"group head-count: {settled['people']}")
        emit(
            {
                "benchmark": "subtree_headcount",
                "database": vendor,
                **settled,
                "workshops_sampled": len(workshops),
                "fresh_group_p50_ms": fresh["group_p50_ms"],
                "fresh_workshop_p50_ms": fresh["workshop_p50_ms"],
                "goal_group_p50_ms": GOAL_GROUP_P50_MS,
                "goal_workshop_p50_ms": GOAL_WORKSHOP_P50_MS,
            }
        )


if __name__ == "__main__":
    main()
