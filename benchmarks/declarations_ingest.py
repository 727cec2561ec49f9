"""Benchmark: ingest one day of declarations for 170,000 people through the HTTP API.

Claim: a real server process on this 2-core machine takes at least 2,000 declarations per
second through ``POST /api/v1/declarations/batch``. A fresh database gets ``seed("seeds")``
and a group administrator with an API token (not timed). gunicorn then serves
``config.wsgi`` with the production settings (DEBUG off) on the same database, and
concurrent keep-alive HTTP clients in this process send, in this order:

1. *batch*: one declaration for each of the 170,000 employees for one day, 1,000 per request;
2. *retry*: a few of those batches again, as a phone that lost the answer would: every item
   must come back as a duplicate and nothing may be stored twice;
3. *single*: a sample of declarations for other people (the residents), one per request —
   a sample, so only its rate is reported;
4. *ping*: the no-op endpoint (token check only) as many times as *single*, on the same
   server in the same run, so the per-request cost of the stack is known.

Any answer other than 2xx counts as an error; a correct run has none. At the end the
database must hold exactly one current declaration for the day per employee.

Run: ``.venv/bin/python benchmarks/declarations_ingest.py [--workers N] [--clients N]``
(SQLite) or inside ``bash scripts/with-postgres.sh`` (PostgreSQL). The last stdout line is
JSON.
"""

import argparse
import datetime as dt
import http.client
import json
import os
import random
import threading
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
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
    postgres_postmaster_pid,
    print_server_log,
    server_cpu_seconds,
    setup_django,
    throwaway_database,
)

EMPLOYEES = 170_000
BATCH_SIZE = 1000
RETRIED_BATCHES = 5
SINGLE_SAMPLE = 5000
DEFAULT_WORKERS = 3
GOAL_BATCH_PER_S = 2000
DIVISION = "370303"  # 淄博市张店区, where the group's first enterprise is


@dataclass
class Load:
    """What one phase sent and how the server answered."""

    requests: int = 0
    seconds: float = 0.0
    server_cpu: float = 0.0
    database_cpu: float = 0.0  # PostgreSQL's processes, part of server_cpu
    statuses: Counter[int] = field(default_factory=Counter)
    created: int = 0
    duplicates: int = 0
    first_error: str = ""

    @property
    def errors(self) -> int:
        return sum(count for status, count in self.statuses.items() if not 200 <= status < 300)


# -- data (not timed) ------------------------------------------------------------------------


def load_organisation() -> tuple[list[int], list[int]]:
    """Seed the documents' organisation; return the employees' and the residents' ids."""
    from fangkong.orgs.demo import seed
    from fangkong.orgs.models import Person, PersonCategory

    started = time.perf_counter()
    made = seed("seeds")
    print(
        f"seeded {made['units']} units and {made['people']} people "
        f"in {time.perf_counter() - started:.1f} s (not timed)"
    )
    active = Person.objects.filter(is_active=True).order_by("pk")
    employees = list(active.filter(category=PersonCategory.EMPLOYEE).values_list("pk", flat=True))
    residents = list(active.filter(category=PersonCategory.RESIDENT).values_list("pk", flat=True))
    return employees, residents


def api_key() -> str:
    """Create a group administrator on the root unit and return a fresh API token."""
    from fangkong.accounts.models import RoleAssignment, User
    from fangkong.accounts.roles import Role
    from fangkong.accounts.services import api_token_create
    from fangkong.orgs.models import OrgUnit

    user = User.objects.create(username="bench-ingest", display_name="ingest benchmark")
    root = OrgUnit.objects.get(parent__isnull=True)
    RoleAssignment.objects.create(user=user, role=Role.GROUP_ADMIN, unit=root)
    _, key = api_token_create(actor=None, user=user, name="ingest benchmark")
    return key


def declaration(person_id: int, day: dt.date, rng: random.Random, symptoms: list[str]) -> dict:
    """Return a plausible declaration: mostly normal, about 1 % fever, a few symptoms."""
    item: dict[str, Any] = {
        "uuid": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "person": person_id,
        "day": day.isoformat(),
        "temperature": f"{rng.uniform(36.0, 37.2):.1f}",
        "division": DIVISION,
    }
    roll = rng.random()
    if roll < 0.01:
        item["temperature"] = f"{rng.uniform(37.3, 39.5):.1f}"
    elif roll < 0.03:
        item["symptoms"] = [rng.choice(symptoms)]
    elif roll < 0.10:
        item["whereabouts"] = "at_home"
    return item


def bodies(people: Sequence[int], day: dt.date, *, size: int, rng: random.Random) -> list[bytes]:
    """Encode the request bodies up front, so the client spends no time on JSON while timed."""
    from fangkong.health.models import Symptom

    symptoms = list(Symptom.objects.values_list("code", flat=True))
    items = [declaration(pk, day, rng, symptoms) for pk in people]
    if size == 1:
        return [json.dumps(item).encode() for item in items]
    return [
        json.dumps({"items": items[start : start + size]}).encode()
        for start in range(0, len(items), size)
    ]


# -- the server ------------------------------------------------------------------------------


# -- the client ------------------------------------------------------------------------------


class Client:
    """A keep-alive connection that re-opens whenever the server closed it."""

    def __init__(self, port: int, key: str) -> None:
        self.port = port
        # A TLS proxy in front of the server sets X-Forwarded-Proto (see docs/operations.md).
        self.headers = {
            "Authorization": f"Bearer {key}",
            "Content-Type": "application/json",
            "X-Forwarded-Proto": "https",
        }
        self.connection = http.client.HTTPConnection(HOST, port, timeout=300)

    def post(self, path: str, body: bytes) -> tuple[int, bytes]:
        try:
            self.connection.request("POST", path, body=body, headers=self.headers)
            response = self.connection.getresponse()
            return response.status, response.read()
        except (http.client.HTTPException, OSError) as exc:
            self.connection.close()
            return 599, repr(exc).encode()


def send_all(
    path: str,
    payloads: Sequence[bytes],
    *,
    port: int,
    key: str,
    clients: int,
    servers: tuple[int, int | None],
) -> Load:
    """POST every payload with ``clients`` concurrent connections; time the whole phase."""
    load = Load(requests=len(payloads))
    lock = threading.Lock()
    queue = iter(payloads)

    def work() -> None:
        client = Client(port, key)
        while True:
            with lock:
                body = next(queue, None)
            if body is None:
                break
            status, answer = client.post(path, body)
            with lock:
                record(load, status, answer)
        client.connection.close()

    threads = [threading.Thread(target=work) for _ in range(clients)]
    web, database = servers
    web_before, database_before = server_cpu_seconds(web), server_cpu_seconds(database)
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    load.seconds = time.perf_counter() - started
    load.database_cpu = server_cpu_seconds(database) - database_before
    load.server_cpu = server_cpu_seconds(web) - web_before + load.database_cpu
    return load


def record(load: Load, status: int, answer: bytes) -> None:
    load.statuses[status] += 1
    if not 200 <= status < 300:
        load.first_error = load.first_error or f"{status}: {answer[:300]!r}"
        return
    body = json.loads(answer)
    if "results" in body:
        load.created += body["created"]
        load.duplicates += body["duplicates"]
    elif "duplicate" in body:
        load.duplicates += int(body["duplicate"])
        load.created += int(not body["duplicate"])


def describe(label: str, load: Load, *, items: int) -> float:
    """Print one phase; return its items per second."""
    rate = items / load.seconds
    statuses = ", ".join(f"{status}×{count}" for status, count in sorted(load.statuses.items()))
    database = (
        f": web {(load.server_cpu - load.database_cpu) / items * 1000:.3f}, "
        f"database {load.database_cpu / items * 1000:.3f}"
        if load.database_cpu
        else ""
    )
    print(
        f"{label}: {load.requests} requests, {items} items in {load.seconds:.2f} s → "
        f"{rate:,.0f}/s ({load.requests / load.seconds:,.1f} requests/s); server CPU "
        f"{load.server_cpu:.1f} s ({load.server_cpu / items * 1000:.2f} ms per item"
        f"{database}); created {load.created}, duplicates {load.duplicates}; "
        f"statuses {statuses}"
    )
    if load.first_error:
        print(f"  first error: {load.first_error}")
    return rate


# -- the run ---------------------------------------------------------------------------------


def stored_counts(day: dt.date, employees: Sequence[int]) -> tuple[int, int]:
    """Return (current declarations of the employees for ``day``, all declaration rows)."""
    from fangkong.health.models import Declaration

    current = Declaration.objects.filter(day=day, is_current=True, person_id__in=employees).count()
    return current, Declaration.objects.count()


def main() -> None:
    """Build the database, serve it with gunicorn, send the load, print figures and JSON."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workers", type=int, default=DEFAULT_WORKERS)
    parser.add_argument("--clients", type=int, default=0, help="default: one per worker")
    parser.add_argument("--single", type=int, default=SINGLE_SAMPLE)
    options = parser.parse_args()
    clients = options.clients or options.workers
    with throwaway_database("ingest") as vendor:
        setup_django()
        print(f"machine: {machine()}; database: {database_version()}")
        employees, residents = load_organisation()
        analyze()
        assert len(employees) == EMPLOYEES, len(employees)
        from django.db import connections
        from django.utils import timezone

        key = api_key()
        day = timezone.localdate()
        rng = random.Random(20200315)
        batches = bodies(employees, day, size=BATCH_SIZE, rng=rng)
        singles = bodies(residents[: options.single], day, size=1, rng=rng)
        postmaster = postgres_postmaster_pid()
        connections.close_all()  # the server owns the database from here
        print(
            f"gunicorn: {options.workers} sync workers; {clients} concurrent client "
            f"connections; {len(batches)} batches of {BATCH_SIZE}"
        )
        log = Path(os.environ["MEDIA_ROOT"]).parent / "gunicorn.log"
        print(f"load average before: {load_average()}")
        with gunicorn(workers=options.workers, log=log) as (port, master):

            def send(path: str, payloads: Sequence[bytes]) -> Load:
                return send_all(
                    f"/api/v1/{path}",
                    payloads,
                    port=port,
                    key=key,
                    clients=clients,
                    servers=(master, postmaster),
                )

            send("ping", [b""] * 50)  # warm the workers up (imports, first connection)
            batch = send("declarations/batch", batches)
            retry = send("declarations/batch", batches[:: len(batches) // RETRIED_BATCHES])
            single = send("declarations", singles)
            ping = send("ping", [b""] * len(singles))
        print(f"load average after: {load_average()}")
        print_server_log(log)

        batch_rate = describe("batch", batch, items=len(employees))
        retry_items = retry.requests * BATCH_SIZE
        describe("retried batches", retry, items=retry_items)
        single_rate = describe("single (sample)", single, items=len(singles))
        ping_rate = describe("ping (no-op)", ping, items=len(singles))
        current, rows = stored_counts(day, employees)
        expected_rows = len(employees) + single.created
        duplicates = rows - expected_rows
        errors = sum(load.errors for load in (batch, retry, single, ping))
        ratio = single_rate / ping_rate
        verdict = "met" if batch_rate >= GOAL_BATCH_PER_S and errors == 0 else "MISSED"
        print(
            f"stored: {current} current declarations of employees for {day} (expect "
            f"{len(employees)}), {rows} rows in all (expect {expected_rows}); retried items "
            f"answered as duplicates: {retry.duplicates} of {retry_items}"
        )
        print(
            f"single / ping = {ratio:.2f}; batch {batch_rate:,.0f} declarations/s, goal "
            f"≥ {GOAL_BATCH_PER_S:,}/s with no errors: {verdict}"
        )
        emit(
            {
                "benchmark": "declarations_ingest",
                "database": vendor,
                "server": "gunicorn sync",
                "workers": options.workers,
                "clients": clients,
                "batch_size": BATCH_SIZE,
                "declarations": current,
                "batch_decl_per_s": round(batch_rate),
                "single_sample": len(singles),
                "single_decl_per_s": round(single_rate, 1),
                "ping_req_per_s": round(ping_rate, 1),
                "single_to_ping_ratio": round(ratio, 3),
                "retried_items": retry_items,
                "retried_answered_duplicate": retry.duplicates,
                "errors": errors,
                "duplicates": duplicates,
                "missing": len(employees) - current,
                "batch_seconds": round(batch.seconds, 2),
                "batch_server_cpu_ms_per_decl": round(batch.server_cpu / len(employees) * 1000, 3),
                "batch_database_cpu_ms_per_decl": round(
                    batch.database_cpu / len(employees) * 1000, 3
                ),
                "single_server_cpu_ms": round(single.server_cpu / len(singles) * 1000, 2),
                "single_database_cpu_ms": round(single.database_cpu / len(singles) * 1000, 2),
                "ping_server_cpu_ms": round(ping.server_cpu / len(singles) * 1000, 2),
                "ping_database_cpu_ms": round(ping.database_cpu / len(singles) * 1000, 2),
                "goal_batch_decl_per_s": GOAL_BATCH_PER_S,
            }
        )


if __name__ == "__main__":
    main()
