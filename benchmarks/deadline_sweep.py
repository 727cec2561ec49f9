"""Benchmark: the deadline sweep over every reporting unit.

Claim: with the documents' organisation (``seed("seeds")``) and no report attested, the
sweep at 10:01 finds every reporting unit missing and raises its reminder in at most 1 s;
a second sweep five minutes later raises nothing and takes less; the sweep at 12:01 raises
every escalation within the same bound. The sweep records the alarms and queues one job to
notify them (the queue runs on the same database); sending them through the notify app is
timed separately when that app is installed, as it is not part of the sweep's time.

Run: ``.venv/bin/python benchmarks/deadline_sweep.py`` (SQLite) or inside
``bash scripts/with-postgres.sh`` (PostgreSQL). The last stdout line is JSON.
"""

import datetime as dt
import importlib.util
import os
import sys
import time

from _support import (
    analyze,
    database_version,
    emit,
    machine,
    setup_django,
    throwaway_database,
)

GOAL_MS = 1000


def sweep_at(hhmm: str) -> tuple[float, int, str]:
    """Run one sweep at local ``hhmm`` today; return (ms, alarms raised, sweep id)."""
    from django.utils import timezone

    from fangkong.reports.plans import local_moment
    from fangkong.reports.services import deadline_sweep

    hours, minutes = (int(part) for part in hhmm.split(":"))
    now = local_moment(timezone.localdate(), dt.time(hours, minutes))
    started = time.perf_counter()
    result = deadline_sweep(now=now)
    elapsed = (time.perf_counter() - started) * 1000
    print(f"sweep at {hhmm}: {result['new']} new alarms in {elapsed:.1f} ms")
    return elapsed, result["new"], str(result["sweep"])


def main() -> None:
    with throwaway_database("sweep") as vendor:
        os.environ["Q_SYNC"] = "0"  # the sweep queues its notification job, as in production
        setup_django()
        print(f"machine: {machine()}; database: {database_version()}")
        from django.utils import timezone

        from fangkong.orgs.demo import seed
        from fangkong.reports.plans import reporting_units
        from fangkong.reports.services import alarms_send

        started = time.perf_counter()
        made = seed("seeds")
        print(f"seeded {made['units']} units in {time.perf_counter() - started:.1f} s")
        analyze()
        units = reporting_units(timezone.localdate()).count()
        print(f"reporting units: {units}, none has reported")
        first_ms, first_new, first_sweep = sweep_at("10:01")
        second_ms, second_new, _ = sweep_at("10:06")
        escalate_ms, escalate_new, _ = sweep_at("12:01")
        result = {
            "benchmark": "deadline_sweep",
            "database": vendor,
            "reporting_units": units,
            "first_ms": round(first_ms, 1),
            "first_new": first_new,
            "second_ms": round(second_ms, 1),
            "second_new": second_new,
            "escalation_ms": round(escalate_ms, 1),
            "escalation_new": escalate_new,
            "goal_ms": GOAL_MS,
        }
        if importlib.util.find_spec("fangkong.notify.services") is not None:
            started = time.perf_counter()
            sent = alarms_send(sweep=first_sweep)
            result["send_reminders_ms"] = round((time.perf_counter() - started) * 1000, 1)
            print(f"sent {sent} reminders through notify in {result['send_reminders_ms']} ms")
        ok = first_new == units and second_new == 0 and escalate_new == units
        print("checks: " + ("passed" if ok else "FAILED"))
        verdict = max(first_ms, escalate_ms) <= GOAL_MS
        print(f"goal ≤ {GOAL_MS} ms: {'met' if verdict else 'MISSED'}")
        emit(result)
        if not ok:
            sys.exit(1)


if __name__ == "__main__":
    main()
