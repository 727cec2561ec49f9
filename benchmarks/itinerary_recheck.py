"""Benchmark: re-checking 170,000 itineraries after a region is raised to high risk.

Claim: with the documents' organisation (``seed("seeds")``: 170,000 employees) and one
itinerary per employee (170,000 rows, days spread over the last 40 days, regions spread
over the country's counties, about 10 % of them in Hubei), raising Hubei province to high
risk re-checks every itinerary of the 15-day look-back window that overlaps the period
and opens the exposed people's cards in at most 5 s. The headline is the whole
``risk_area_set`` service, timed once: new list version, closing the old row, the
re-check, the ``exposures_found`` signal and tracking's receiver opening one
abnormal-person card per exposed person (set-based), re-deciding open returnee cards
(none here). The re-check alone (query, Exposure list, signal; the cards are open by then,
so the receiver only adds notes) is then timed five times.

Itineraries are inserted set-based with ``core.bulk.insert_values`` (COPY on PostgreSQL,
multi-row INSERTs on SQLite); the load is not timed.

Run: ``.venv/bin/python benchmarks/itinerary_recheck.py`` (SQLite) or inside
``bash scripts/with-postgres.sh`` (PostgreSQL). The last stdout line is JSON.
"""

import datetime as dt
import random
import statistics
import time
from typing import Any

from _support import analyze, database_version, emit, machine, setup_django, throwaway_database

ITINERARIES = 170_000
HUBEI = "420000"
HUBEI_SHARE = 0.10
DAYS_BACK = 40
REPEATS = 5
GOAL_S = 5.0


def _rows(today: dt.date) -> list[dict[str, Any]]:
    """One itinerary per employee: a county, 1–7 days ending in the last 40 days."""
    from fangkong.core.models import Division
    from fangkong.orgs.models import Person

    rng = random.Random(20200123)
    counties = list(Division.objects.filter(level=3).values_list("code", flat=True))
    hubei = [code for code in counties if code.startswith(HUBEI[:2])]
    people = Person.objects.filter(category="employee").order_by("pk").values_list("pk", flat=True)
    rows = []
    for person_id in people[:ITINERARIES]:
        code = rng.choice(hubei) if rng.random() < HUBEI_SHARE else rng.choice(counties)
        last = today - dt.timedelta(days=rng.randrange(0, DAYS_BACK))
        first = last - dt.timedelta(days=rng.randrange(0, 7))
        rows.append(
            {
                "person_id": person_id,
                "division_id": code,
                "from_day": first,
                "to_day": last,
                "transport": rng.choice(("train", "flight", "car", "bus")),
            }
        )
    return rows


def insert_itineraries(rows: list[dict[str, Any]]) -> None:
    """Insert the rows set-based (COPY on PostgreSQL, multi-row INSERTs on SQLite)."""
    from fangkong.core.bulk import insert_values
    from fangkong.travel.models import Itinerary

    names = list(rows[0])
    insert_values(Itinerary, names, [tuple(row[name] for name in names) for row in rows])


def load(today: dt.date) -> None:
    """Seed the organisation and the itineraries; put Hubei on the list as low (not timed)."""
    from fangkong.core.models import Division
    from fangkong.orgs.demo import seed
    from fangkong.travel.services import AreaChange, risk_areas_apply

    started = time.perf_counter()
    made = seed("seeds")
    print(f"seeded {made['units']} units and {made['people']} people", end="")
    rows = _rows(today)
    insert_itineraries(rows)
    risk_areas_apply(
        actor=None,
        changes=[AreaChange(Division.objects.get(code=HUBEI), "low", today - dt.timedelta(30))],
    )
    print(f", {len(rows)} itineraries in {time.perf_counter() - started:.1f} s (not timed)")


def main() -> None:
    """Build the database, raise Hubei, time the re-check, print figures and JSON."""
    with throwaway_database("recheck") as vendor:
        setup_django()
        from django.db import transaction
        from django.utils import timezone

        from fangkong.core.models import Division
        from fangkong.travel.models import Itinerary, RiskArea
        from fangkong.travel.recheck import announce, exposures_for, look_back_window
        from fangkong.travel.services import risk_area_set

        print(f"machine: {machine()}; database: {database_version()}")
        today = timezone.localdate()
        load(today)
        analyze()
        hubei = Division.objects.get(code=HUBEI)
        window = look_back_window(today)
        in_window = Itinerary.objects.filter(to_day__gte=window[0]).count()
        print(f"itineraries ending inside the {window[0]}..{window[1]} window: {in_window}")

        started = time.perf_counter()
        change = risk_area_set(
            actor=None,
            division=hubei,
            level="high",
            effective_from=today - dt.timedelta(days=20),
        )
        service_s = time.perf_counter() - started
        from fangkong.ledger.models import Item

        cards = Item.objects.filter(kind="abnormal", is_open=True).count()
        print(
            f"risk_area_set (whole service): {service_s:.3f} s, "
            f"{len(change.exposures)} exposures, {cards} cards open, "
            f"{change.redecided} returnee cards re-decided"
        )

        area = RiskArea.objects.select_related("division").get(division=hubei, effective_to=None)
        samples = []
        exposures: list[Any] = []
        for _ in range(REPEATS):
            with transaction.atomic():
                started = time.perf_counter()
                exposures = exposures_for([area], window=window)
                announce(exposures)
                samples.append(time.perf_counter() - started)
        median = statistics.median(samples)
        verdict = "met" if max(*samples, service_s) <= GOAL_S else "MISSED"
        print(
            f"re-check (query + exposures + signal), {REPEATS} runs: median {median:.3f} s, "
            f"max {max(samples):.3f} s, {len(exposures)} exposures; goal ≤ {GOAL_S} s: {verdict}"
        )
        emit(
            {
                "benchmark": "itinerary_recheck",
                "database": vendor,
                "itineraries": Itinerary.objects.count(),
                "in_window": in_window,
                "exposures": len(exposures),
                "recheck_median_s": round(median, 3),
                "recheck_max_s": round(max(samples), 3),
                "service_s": round(service_s, 3),
                "cards_opened": cards,
                "goal_s": GOAL_S,
            }
        )


if __name__ == "__main__":
    main()
