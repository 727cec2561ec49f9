"""Benchmark: the back office's pages at seeds scale, through the whole Django stack.

Claim (issue "the morning peak", part 3): with the documents' organisation
(``seed("seeds")``: 548 enterprises, 35,504 units, 178,000 people), today's declaration
for everyone and the day's reports, the group roll-up page answers in a median of at most
60 ms, the tree page and a unit page in at most 30 ms, and these pages grow sub-linearly
from ``small`` (1,800 people) to ``seeds`` (99 times the people). At ``--scale 10x``
(1,780,000 people) the group roll-up page answers in at most 500 ms.

Measured as users get the pages: gunicorn (one sync worker) with the production settings
(DEBUG off, hashed static files, persistent connections) on the benchmark's database,
logged in as ``group_admin``, one request after another, so the figure is the page's own
latency: session and middleware, selectors, template and HTTP. A selector timed alone
misses most of that (the roll-up selector took 27 ms where its page took 189 ms). The
query count of each page is taken in-process with Django's test client, the same code on
the same data.

Pages: the group roll-up (``reports:rollup`` at the root), the tree page (``orgs:tree``),
the unit page of an enterprise and of a team (``orgs:unit``) and the root's children
(``orgs:children``, what the tree loads when the root is expanded). For each: p50, p95,
the server's CPU per request (PostgreSQL's processes included) and the query count, at
``small`` and at the larger scale, and the growth ratio between them, measured in one run
(each scale is built in its own throw-away database by a child process).

Run: ``.venv/bin/python benchmarks/pages.py [--scale seeds|10x]`` (SQLite) or inside
``bash scripts/with-postgres.sh`` (PostgreSQL). ``--scale 10x`` times the roll-up page only
(the build takes 20 minutes or more). The last stdout line is JSON.
"""

import argparse
import datetime as dt
import http.client
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from _support import (
    HOST,
    analyze,
    database_version,
    emit,
    gunicorn,
    load_average,
    machine,
    percentile,
    postgres_postmaster_pid,
    print_server_log,
    server_cpu_seconds,
    server_environment,
    setup_django,
    throwaway_database,
)

GOALS_MS = {
    "rollup": 60,
    "tree": 30,
    "unit_enterprise": 30,
    "unit_team": 30,
    "children": 30,
}
GOAL_10X_ROLLUP_MS = 500
REPEATS = {"small": 100, "seeds": 100, "10x": 20}
WARM_UP = 3


# -- one scale, in a child process -----------------------------------------------------------


def load(scale: str, day: dt.date) -> dict[str, float]:
    """Seed the organisation, the declarations and reports of ``day``, as rollup.py, and
    refresh the planner statistics; return the seconds each step took (not part of the page
    timings)."""
    from fangkong.health.demo import seed_declarations
    from fangkong.orgs.demo import seed
    from fangkong.reports.demo import seed_reports

    seconds: dict[str, float] = {}

    def step(name: str, work: Callable[[], Any]) -> Any:
        started = time.perf_counter()
        done = work()
        seconds[name] = round(time.perf_counter() - started, 1)
        print(f"[{scale}] {name}: {seconds[name]} s, load average {load_average()}", flush=True)
        return done

    made = step("organisation and people", lambda: seed(scale))
    declared = step("declarations", lambda: seed_declarations(days=1, rate=1.0, today=day))
    reports = step("reports", lambda: seed_reports(days=1, sweep=False, now=late_evening(day)))
    step("statistics", analyze)
    print(
        f"[{scale}] seeded {made['units']} units, {made['people']} people, {declared} "
        f"declarations and {reports['reports']} reports of {day} in "
        f"{sum(seconds.values()):.1f} s (not timed)",
        flush=True,
    )
    return seconds


def late_evening(day: dt.date) -> dt.datetime:
    """23:00 local time on ``day``: every report of the story is in, whatever the clock says."""
    from django.utils import timezone

    return dt.datetime.combine(day, dt.time(23, 0), tzinfo=timezone.get_current_timezone())


def page_paths(scale: str, day: dt.date) -> dict[str, str]:
    """The pages to time, by name (only the roll-up at 10x). The roll-up names the seeded
    day: a run that goes past midnight would otherwise time an empty new day."""
    from django.urls import reverse

    from fangkong.orgs.models import OrgUnit, UnitKind

    root = OrgUnit.objects.get(parent__isnull=True)
    rollup = f"{reverse('reports:rollup')}?unit={root.pk}&day={day.isoformat()}"
    if scale == "10x":
        return {"rollup": rollup}
    enterprise = OrgUnit.objects.get(code="SXXCL")  # the one with the communities
    team = (
        OrgUnit.objects.filter(kind=UnitKind.TEAM, path__startswith=enterprise.path)
        .order_by("path")
        .first()
    )
    assert team is not None
    return {
        "rollup": rollup,
        "tree": reverse("orgs:tree"),
        "unit_enterprise": reverse("orgs:unit", args=[enterprise.pk]),
        "unit_team": reverse("orgs:unit", args=[team.pk]),
        "children": reverse("orgs:children", args=[root.pk]),
    }


def count_queries(client: object, paths: dict[str, str]) -> dict[str, int]:
    """Each page's queries, in process (the test client, same code and data)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    counts = {}
    for name, path in paths.items():
        client.get(path)  # type: ignore[attr-defined]  # warm the per-process memos
        with CaptureQueriesContext(connection) as queries:
            answer = client.get(path)  # type: ignore[attr-defined]
        assert answer.status_code == 200, (name, answer.status_code)
        counts[name] = len(queries)
    return counts


def fetch(connection: http.client.HTTPConnection, path: str, cookie: str) -> int:
    headers = {"X-Forwarded-Proto": "https", "Cookie": cookie}
    connection.request("GET", path, headers=headers)
    answer = connection.getresponse()
    answer.read()
    return answer.status


def time_pages(
    paths: dict[str, str], cookie: str, port: int, repeats: int, servers: list[int | None]
) -> dict[str, dict[str, float]]:
    """GET each page ``repeats`` times after a warm-up, one request at a time."""
    connection = http.client.HTTPConnection(HOST, port, timeout=120)
    results = {}
    for name, path in paths.items():
        for _ in range(WARM_UP):
            status = fetch(connection, path, cookie)
            if status != 200:
                raise RuntimeError(f"{name}: {path} answered {status}")
        samples = []
        cpu_before = server_cpu_seconds(*servers)
        for _ in range(repeats):
            started = time.perf_counter()
            status = fetch(connection, path, cookie)
            samples.append((time.perf_counter() - started) * 1000)
            if status != 200:
                raise RuntimeError(f"{name}: {path} answered {status}")
        cpu_ms = (server_cpu_seconds(*servers) - cpu_before) / repeats * 1000
        results[name] = {
            "p50_ms": round(percentile(samples, 0.50), 1),
            "p95_ms": round(percentile(samples, 0.95), 1),
            "cpu_ms": round(cpu_ms, 1),
        }
    connection.close()
    return results


def measure(scale: str) -> None:
    """Build ``scale`` in a throw-away database, time its pages, print one JSON line."""
    with throwaway_database(f"pages_{scale}") as vendor:
        setup_django()
        print(f"[{scale}] machine: {machine()}; database: {database_version()}", flush=True)
        from django.utils import timezone

        day = timezone.localdate()
        seeding = load(scale, day)
        from django.conf import settings
        from django.test import Client

        from fangkong.accounts.models import User
        from fangkong.orgs.models import Person

        paths = page_paths(scale, day)
        client = Client(HTTP_X_FORWARDED_PROTO="https")
        client.force_login(User.objects.get(username="group_admin"))
        queries = count_queries(client, paths)
        session = client.cookies[settings.SESSION_COOKIE_NAME].value
        cookie = f"{settings.SESSION_COOKIE_NAME}={session}"
        # The server must check the session's hash with the key that signed it.
        env = server_environment(SECRET_KEY=settings.SECRET_KEY)
        with tempfile.TemporaryDirectory(prefix="fangkong-pages-") as tmp:
            log = Path(tmp) / "gunicorn.log"
            with gunicorn(workers=1, log=log, env=env) as (port, server):
                servers = [server, postgres_postmaster_pid()]
                before = load_average()
                timings = time_pages(paths, cookie, port, REPEATS[scale], servers)
                after = load_average()
            print_server_log(log)
        emit(
            {
                "scale": scale,
                "database": vendor,
                "version": database_version(),
                "people": Person.objects.filter(is_active=True).count(),
                "seeding_s": seeding,
                "load_before": before,
                "load_after": after,
                "pages": {
                    name: {**timings[name], "queries": queries[name], "path": paths[name]}
                    for name in paths
                },
            }
        )


# -- the run: each scale in its own process, then the ratios ---------------------------------


def run_child(scale: str) -> dict[str, object]:
    """Measure one scale in a child process (Django is set up once per database)."""
    child = subprocess.run(
        [sys.executable, __file__, "--one", scale],
        stdout=subprocess.PIPE,
        text=True,
        check=True,
    )
    lines = child.stdout.strip().splitlines()
    for line in lines[:-1]:
        print(line)
    return json.loads(lines[-1])


def report(scales: list[str], results: dict[str, dict[str, object]]) -> None:
    for scale in scales:
        result = results[scale]
        print(
            f"{scale} ({result['people']} people, {result['version']}), load average "
            f"{result['load_before']} before, {result['load_after']} after:"
        )
        seeding: dict[str, float] = result["seeding_s"]  # type: ignore[assignment]
        print(
            f"  built in {sum(seeding.values()):.0f} s (not timed): "
            + ", ".join(f"{step} {took:.0f} s" for step, took in seeding.items())
        )
        pages: dict[str, dict[str, float]] = result["pages"]  # type: ignore[assignment]
        for name, figures in pages.items():
            goal = GOAL_10X_ROLLUP_MS if scale == "10x" else GOALS_MS[name]
            met = figures["p50_ms"] <= goal
            verdict = "" if scale == "small" else (" met" if met else " MISSED")
            print(
                f"  {name:16} p50 {figures['p50_ms']:7.1f} ms  p95 {figures['p95_ms']:7.1f} ms  "
                f"CPU {figures['cpu_ms']:6.1f} ms  {figures['queries']:3} queries  "
                f"(goal p50 ≤ {goal} ms{verdict})"
            )


def growth(small: dict[str, object], large: dict[str, object]) -> dict[str, float]:
    """The larger scale's p50 over small's, per page (people grow about 99x to seeds)."""
    small_pages: dict[str, dict[str, float]] = small["pages"]  # type: ignore[assignment]
    large_pages: dict[str, dict[str, float]] = large["pages"]  # type: ignore[assignment]
    return {
        name: round(large_pages[name]["p50_ms"] / small_pages[name]["p50_ms"], 2)
        for name in large_pages
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", choices=["seeds", "10x"], default="seeds")
    parser.add_argument("--one", choices=sorted(REPEATS), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        measure(args.one)
        return
    print(f"load average before: {load_average()}")
    scales = ["small", args.scale]
    results = {scale: run_child(scale) for scale in scales}
    print(f"load average after: {load_average()}")
    report(scales, results)
    ratios = growth(results["small"], results[args.scale])
    people = int(results[args.scale]["people"]) / int(results["small"]["people"])  # type: ignore[call-overload]
    print(
        f"growth {args.scale}/small (people x{people:.0f}): "
        + ", ".join(f"{name} x{ratio}" for name, ratio in ratios.items())
    )
    emit(
        {
            "benchmark": "pages",
            "database": results["small"]["database"],
            "scale": args.scale,
            "small": results["small"],
            args.scale: results[args.scale],
            "growth": ratios,
        }
    )


if __name__ == "__main__":
    main()
