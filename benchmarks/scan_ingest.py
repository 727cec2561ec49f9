"""Benchmark: the gate's scanners upload their queues through the scan batch endpoint.

Claim (issue 13): a real server on this 2-core machine stores at least 2,000 scans/s through
``POST /api/v1/checkpoints/scans`` (batches of 100 and of 500, several scanners at once),
each scan exactly once by its client UUID.

Set-up (not timed): ``seed("seeds")`` (178,000 people); a checkpoint at each plant of the
first ``--enterprises`` enterprises; a guard holding the guard role on those enterprises,
with an API token (the scanners' credential); a daily pass for every employee of them,
issued as the phone page issues it (``passes.daily.daily_pass``), 1 % of them revoked
afterwards. Each scanner (one checkpoint) then has a queue of scans to upload, encoded up
front:

- *pass scans* (80 %): a pass of a person of the checkpoint's plant, decided offline as the
  scanner does (``passes.verify.verify`` with the trust list and the revocation list: ``ok``,
  or ``revoked`` for the revoked ones), in or out, a temperature on entry, the pass id's
  hash, the scan's own time in the last hour;
- *manual entries* (20 %): half a person picked by ID number (no pass), half a vehicle with
  its plate, driver, disinfection and cargo.

gunicorn serves ``config.wsgi`` with the production settings, the task queue's worker
running, and ``--clients`` scanners send their batches at once (closed loop: the next batch
as soon as the last is answered). Phases: batches of each ``--sizes``, ``/healthz`` with
the same clients (the ratio), then one batch sent again. Afterwards the database must hold
exactly one ``GateEvent`` per distinct client UUID sent, and the batch sent again must add
no row.

Run: ``.venv/bin/python benchmarks/scan_ingest.py`` (SQLite) or inside
``PG_DURABLE=1 bash scripts/with-postgres.sh`` (PostgreSQL with fsync on). ``--profile``
runs batches in process under cProfile instead of the server phases. The last stdout line
is JSON.
"""

import argparse
import cProfile
import datetime as dt
import http.client
import json
import os
import pstats
import random
import re
import threading
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from _support import (
    HOST,
    Phase,
    analyze,
    database_version,
    emit,
    gunicorn,
    load_average,
    machine,
    percentile,
    postgres_postmaster_pid,
    print_server_log,
    queue_worker,
    server_environment,
    setup_django,
    throwaway_database,
    timed,
)

PATH = "/api/v1/checkpoints/scans"
GOAL_SCANS_PER_S = 2000
REVOKED_SHARE = 0.01
PASS_SHARE = 0.8
TRANSACTION_CONTROL = re.compile(r"^\s*(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE)\b", re.I)


@dataclass
class Gate:
    """A scanner: its checkpoint and what it may scan there."""

    checkpoint_id: int
    passes: list[tuple[int, str, str, str]]  # person id, pass id hash, verdict, reason
    people: list[int]  # for manual entries by ID number


def describe(phase: Phase) -> None:
    """Print one phase: its rate, latencies, CPU per scan (per request without scans)."""
    statuses = ", ".join(f"{status}×{n}" for status, n in sorted(phase.statuses.items()))
    results = ", ".join(f"{name} {n}" for name, n in sorted(phase.results.items()))
    unit = phase.items or phase.requests
    print(
        f"{phase.label}: {phase.requests} requests, {phase.items} scans in "
        f"{phase.seconds:.2f} s → {phase.item_rate():,.0f} scans/s "
        f"({phase.rate():,.1f} requests/s); "
        f"per request p50 {percentile(phase.latencies_ms, 0.5):.1f} ms, "
        f"p95 {percentile(phase.latencies_ms, 0.95):.1f} ms, "
        f"p99 {percentile(phase.latencies_ms, 0.99):.1f} ms; server CPU "
        f"{phase.cpu_ms(unit):.3f} ms per {'scan' if phase.items else 'request'}; "
        f"statuses {statuses}{f'; results {results}' if results else ''}"
    )
    split = ", ".join(
        f"{name} {seconds / unit * 1000:.3f} ms" for name, seconds in phase.cpu_by_process.items()
    )
    print(f"  CPU by process: {split}")
    if phase.first_error:
        print(f"  first error: {phase.first_error}")


# -- data (not timed) ------------------------------------------------------------------------


def load(scale: str, enterprises: int) -> tuple[list[Gate], str]:
    """Seed, set up the gates, the guard and the daily passes; return the gates and the key."""
    from django.db.models import Q
    from django.utils import timezone

    from fangkong.accounts.models import RoleAssignment, User
    from fangkong.accounts.roles import Role
    from fangkong.accounts.services import api_token_create
    from fangkong.checkpoints.services import checkpoint_create, gate_policy
    from fangkong.core.paths import subtree_q
    from fangkong.orgs.demo import seed
    from fangkong.orgs.models import OrgUnit, Person, PersonCategory, UnitKind
    from fangkong.passes import daily, services
    from fangkong.passes.models import Revocation
    from fangkong.passes.verify import verify

    started = time.perf_counter()
    made = seed(scale)
    chosen = list(OrgUnit.objects.filter(kind=UnitKind.ENTERPRISE).order_by("pk")[:enterprises])
    guard = User.objects.create(username="bench-guard", display_name="门岗")
    for enterprise in chosen:
        RoleAssignment.objects.create(user=guard, role=Role.GUARD, unit=enterprise)
    _token, key = api_token_create(actor=None, user=guard, name="scanner")
    within = Q()
    for enterprise in chosen:
        within |= subtree_q("path", enterprise.path)
    plants = list(OrgUnit.objects.filter(within, kind=UnitKind.PLANT).order_by("path"))
    rng = random.Random(20200315)
    issued: list[Any] = []
    gates = []
    for plant in plants:
        checkpoint = checkpoint_create(actor=None, site=plant, code="G1", name="1号门")
        people = list(
            Person.objects.filter(
                subtree_q("unit_path", plant.path),
                is_active=True,
                category=PersonCategory.EMPLOYEE,
            ).select_related("unit")
        )
        rows = [row for person in people if (row := daily.daily_pass(person)[0]) is not None]
        issued.extend(rows)
        gates.append((checkpoint, people, rows))
    for row in rng.sample(issued, int(len(issued) * REVOKED_SHARE)):
        services.pass_revoke(None, row, "补发")
    # What the scanner knows at its last sync: the trust list and the revocation lists.
    now = timezone.now()
    trust_list = services.trust_list_of(services.trusted_keys(now), version=0, now=now)
    revoked = {bytes.fromhex(h) for h in Revocation.objects.values_list("pass_hash", flat=True)}
    verdicts: Counter[str] = Counter()
    scanners = []
    for checkpoint, people, rows in gates:
        policy = gate_policy(checkpoint)
        decided = []
        for row in rows:
            row.refresh_from_db(fields=["revoked_at"])
            verdict = verify(
                services.pass_text(row),
                trust_list=trust_list,
                revoked=revoked,
                now=now.timestamp(),
                policy=policy,
            )
            verdicts[verdict.reason] += 1
            message = "" if verdict.ok else verdict.message
            assert row.person_id is not None
            decided.append((row.person_id, row.pass_hash, verdict.reason, message))
        scanners.append(Gate(checkpoint.pk, decided, [person.pk for person in people]))
    print(
        f"seeded {made['units']} units, {made['people']} people; {len(scanners)} checkpoints "
        f"at the plants of {len(chosen)} enterprises; {len(issued)} daily passes issued, "
        f"offline verdicts {dict(verdicts)}; in {time.perf_counter() - started:.1f} s "
        "(not timed)"
    )
    return scanners, key


def scan(gate: Gate, rng: random.Random, now: dt.datetime) -> dict[str, Any]:
    """One scan as a scanner queues it: a pass scan, or a manual entry (person or vehicle)."""
    direction = rng.choice(("in", "out"))
    item: dict[str, Any] = {
        "client_uuid": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "checkpoint_id": gate.checkpoint_id,
        "direction": direction,
        "at": (now - dt.timedelta(seconds=rng.uniform(0, 3600))).isoformat(),
    }
    if direction == "in":
        item["temperature"] = f"{rng.uniform(36.0, 37.2):.1f}"
    roll = rng.random()
    if roll < PASS_SHARE:
        person, pass_hash, verdict, reason = rng.choice(gate.passes)
        item.update(person_id=person, pass_id_hash=pass_hash, verdict=verdict, reason=reason)
    elif roll < PASS_SHARE + (1 - PASS_SHARE) / 2:
        item.update(person_id=rng.choice(gate.people), verdict="ok")
    else:
        item.update(
            plate=f"鲁C{rng.randrange(10000, 99999)}",
            driver="张师傅",
            disinfected=True,
            cargo="氧化铝",
            verdict="ok",
        )
    return item


def batches(gates: Sequence[Gate], *, size: int, scans: int, rng: random.Random) -> list[bytes]:
    """Request bodies of ``size`` scans, each from one scanner (its checkpoint), in turn."""
    from django.utils import timezone

    now = timezone.now()
    bodies = []
    for number in range(max(1, scans // size)):
        gate = gates[number % len(gates)]
        items = [scan(gate, rng, now) for _ in range(size)]
        bodies.append(json.dumps({"scans": items}).encode())
    return bodies


def uuids_of(body: bytes) -> list[str]:
    return [item["client_uuid"] for item in json.loads(body)["scans"]]


def statements_per_batch(key: str, warm_up: bytes, body: bytes) -> int:
    """Count the statements of one batch in process (transaction control left out), after
    a warm-up batch (the process's memos, the token's last use)."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_AUTHORIZATION=f"Bearer {key}")
    client.post(PATH, warm_up, content_type="application/json")
    with CaptureQueriesContext(connection) as queries:
        answer = client.post(PATH, body, content_type="application/json")
    assert answer.status_code == 200, answer.content[:300]
    assert all(r["status"] == "created" for r in answer.json()["results"]), answer.content[:300]
    return sum(1 for q in queries.captured_queries if not TRANSACTION_CONTROL.match(q["sql"]))


def in_process_cpu(
    key: str, gates: Sequence[Gate], sizes: Sequence[int], rng: random.Random
) -> None:
    """CPU per batch in process (no network, no profiler), for a batch of one scan and each
    size: what a batch costs whatever its size, and what each scan adds."""
    from django.test import Client

    client = Client(HTTP_AUTHORIZATION=f"Bearer {key}")
    for size in [1, *sizes]:
        bodies = batches(gates, size=size, scans=size * 21, rng=rng)
        client.post(PATH, bodies[0], content_type="application/json")  # warm-up
        started = time.process_time()
        for body in bodies[1:]:
            client.post(PATH, body, content_type="application/json")
        cpu = (time.process_time() - started) / (len(bodies) - 1) * 1000
        print(f"in process, batch of {size}: {cpu:.2f} ms CPU ({cpu / size:.3f} ms per scan)")


def profile(key: str, bodies: Sequence[bytes]) -> None:
    """Send the batches in process under cProfile; print where the time goes."""
    from django.test import Client

    client = Client(HTTP_AUTHORIZATION=f"Bearer {key}")
    client.post(PATH, bodies[0], content_type="application/json")  # warm-up: memos, imports
    profiler = cProfile.Profile()
    started = time.process_time()
    profiler.enable()
    for body in bodies[1:]:
        client.post(PATH, body, content_type="application/json")
    profiler.disable()
    cpu = time.process_time() - started
    scans = sum(len(uuids_of(body)) for body in bodies[1:])
    print(f"in process: {scans} scans, {cpu * 1000 / scans:.3f} ms CPU per scan")
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)
    pstats.Stats(profiler).sort_stats("tottime").print_stats(25)


# -- the client ------------------------------------------------------------------------------


class Scanner:
    """One scanner's connection, keep-alive, re-opened whenever the server closed it."""

    def __init__(self, port: int, key: str) -> None:
        self.headers = {
            "Authorization": f"Bearer {key}",
            "Content-Type": "application/json",
            "X-Forwarded-Proto": "https",  # the TLS proxy in front sets it
        }
        self.connection = http.client.HTTPConnection(HOST, port, timeout=300)

    def request(self, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
        try:
            self.connection.request(method, path, body=body, headers=self.headers)
            response = self.connection.getresponse()
            return response.status, response.read()
        except (http.client.HTTPException, OSError) as exc:
            self.connection.close()
            return 599, repr(exc).encode()


def run(
    phase: Phase,
    bodies: Sequence[bytes | None],
    *,
    port: int,
    key: str,
    clients: int,
    servers: Sequence[tuple[str, int | None]],
) -> Phase:
    """``clients`` scanners send the bodies (None: GET /healthz), each the next as soon as
    its last is answered; the wall time and each server process tree's CPU are recorded."""
    lock = threading.Lock()
    queue = iter([(body,) for body in bodies])

    def work() -> None:
        scanner = Scanner(port, key)
        while True:
            with lock:
                item = next(queue, None)
            if item is None:
                break
            body = item[0]
            started = time.perf_counter()
            if body is None:
                status, answer = scanner.request("GET", "/healthz")
            else:
                status, answer = scanner.request("POST", PATH, body)
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                phase.record(status, elapsed, repr(answer[:300]))
                if 200 <= status < 300 and body is not None:
                    results = json.loads(answer)["results"]
                    phase.items += len(results)
                    phase.results.update(r["status"] for r in results)
                    rejected = next((r for r in results if r["status"] == "rejected"), None)
                    if rejected and not phase.first_error:
                        phase.first_error = f"rejected: {rejected['error']}"
        scanner.connection.close()

    return timed(phase, [threading.Thread(target=work) for _ in range(clients)], servers)


def wait_for_healthz(port: int, key: str, timeout_s: float = 60) -> None:
    """Wait until /healthz is green (the queue worker has beaten), so the ratio compares 200s."""
    scanner, deadline = Scanner(port, key), time.monotonic() + timeout_s
    while scanner.request("GET", "/healthz")[0] != 200:
        if time.monotonic() > deadline:
            raise RuntimeError("/healthz did not turn green: is the worker running?")
        time.sleep(0.5)
    scanner.connection.close()


# -- the run ---------------------------------------------------------------------------------


def gate_events() -> int:
    from fangkong.checkpoints.models import GateEvent

    return GateEvent.objects.count()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", default="seeds", help="of the organisation (orgs.demo)")
    parser.add_argument("--enterprises", type=int, default=8, help="whose plants have a gate")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn sync workers")
    parser.add_argument("--clients", type=int, default=6, help="scanners sending at once")
    parser.add_argument("--sizes", default="100,500", help="scans per batch, one phase each")
    parser.add_argument("--scans", type=int, default=30_000, help="per phase")
    parser.add_argument("--healthz", type=int, default=3000, help="requests in that phase")
    parser.add_argument("--profile", action="store_true", help="in process, under cProfile")
    options = parser.parse_args()
    sizes = [int(size) for size in options.sizes.split(",")]
    os.environ.setdefault("SECRET_KEY", "bench-" + uuid.uuid4().hex * 2)  # the passes' keys
    with throwaway_database("scans") as vendor:
        setup_django()
        print(f"machine: {machine()}; database: {database_version()}")
        gates, key = load(options.scale, options.enterprises)
        analyze()
        rng = random.Random(20260928)
        if options.profile:
            in_process_cpu(key, gates, sizes, rng)
            profile(key, batches(gates, size=max(sizes), scans=max(sizes) * 21, rng=rng))
            return
        queries = {
            size: statements_per_batch(key, *batches(gates, size=size, scans=2 * size, rng=rng)[:2])
            for size in sizes
        }
        print(
            "statements per batch (in process, after a warm-up batch, BEGIN/COMMIT/SAVEPOINT "
            "not counted): " + ", ".join(f"{size} scans: {n}" for size, n in queries.items())
        )
        warm_up = batches(gates, size=10, scans=10 * options.clients, rng=rng)
        phases_bodies = {
            size: batches(gates, size=size, scans=options.scans, rng=rng) for size in sizes
        }
        sent = {u for body in warm_up for u in uuids_of(body)}
        for bodies in phases_bodies.values():
            sent.update(u for body in bodies for u in uuids_of(body))
        before_server = gate_events()
        postmaster = postgres_postmaster_pid()
        from django.db import connections

        connections.close_all()  # the server owns the database from here
        log = Path(os.environ["MEDIA_ROOT"]).parent / "gunicorn.log"
        print(
            f"gunicorn: {options.workers} sync workers; {options.clients} scanners at once; "
            f"{options.scans} scans per phase"
        )
        load_before = load_average()
        print(f"load average before: {load_before}")
        env = server_environment()
        with (
            queue_worker(log.with_name("worker.log"), env) as worker,
            gunicorn(workers=options.workers, log=log, env=env) as (port, master),
        ):
            servers = [("web", master), ("database", postmaster), ("queue worker", worker)]
            wait_for_healthz(port, key)

            def send(label: str, bodies: Sequence[bytes | None]) -> Phase:
                return run(
                    Phase(label),
                    bodies,
                    port=port,
                    key=key,
                    clients=options.clients,
                    servers=servers,
                )

            warm = send("warm-up", warm_up)
            phases = {
                size: send(f"batches of {size}", bodies) for size, bodies in phases_bodies.items()
            }
            healthz = send("/healthz", [None] * options.healthz)
            stored = gate_events()
            connections.close_all()
            again = send("one batch sent again", [phases_bodies[max(sizes)][0]])
        load_after = load_average()
        print(f"load average after: {load_after}")
        print_server_log(log)
        for phase in (*phases.values(), healthz, again):
            describe(phase)
        after_again = gate_events()
        expected = before_server + len(sent)
        errors = warm.errors + sum(p.errors for p in phases.values()) + healthz.errors
        best = max(phases.values(), key=Phase.item_rate)
        print(
            f"stored: {stored} gate events (expect {expected}: {before_server} in process and "
            f"{len(sent)} distinct client UUIDs sent); the batch sent again answered "
            f"{dict(again.results)} and added {after_again - stored} rows"
        )
        for size, phase in phases.items():
            verdict = (
                "met" if phase.item_rate() >= GOAL_SCANS_PER_S and phase.errors == 0 else "MISSED"
            )
            ratio = phase.item_rate() / healthz.rate()
            print(
                f"  batches of {size}: {phase.item_rate():,.0f} scans/s, "
                f"ratio to /healthz (scans/s ÷ its requests/s) {ratio:.2f}; "
                f"goal ≥ {GOAL_SCANS_PER_S:,} scans/s: {verdict}"
            )
        figures: dict[str, Any] = {}
        for size, phase in phases.items():
            figures[f"b{size}_scans_per_s"] = round(phase.item_rate())
            figures[f"b{size}_p50_ms"] = round(percentile(phase.latencies_ms, 0.5), 1)
            figures[f"b{size}_p95_ms"] = round(percentile(phase.latencies_ms, 0.95), 1)
            figures[f"b{size}_p99_ms"] = round(percentile(phase.latencies_ms, 0.99), 1)
            figures[f"b{size}_cpu_ms_per_scan"] = round(phase.cpu_ms(phase.items), 3)
            figures[f"b{size}_ratio_to_healthz"] = round(phase.item_rate() / healthz.rate(), 3)
            figures[f"b{size}_statements"] = queries[size]
        emit(
            {
                "benchmark": "scan_ingest",
                "database": vendor,
                "server": "gunicorn sync",
                "workers": options.workers,
                "clients": options.clients,
                "scans_per_phase": options.scans,
                **figures,
                "healthz_per_s": round(healthz.rate(), 1),
                "healthz_cpu_ms": round(healthz.cpu_ms(healthz.requests), 2),
                "errors": errors,
                "stored": stored,
                "expected": expected,
                "resent_new_rows": after_again - stored,
                "resent_answers": dict(again.results),
                "load_average_start": load_before,
                "goal_scans_per_s": GOAL_SCANS_PER_S,
                "all_goals_met": best.item_rate() >= GOAL_SCANS_PER_S
                and all(p.item_rate() >= GOAL_SCANS_PER_S for p in phases.values())
                and errors == 0
                and stored == expected
                and after_again == stored,
            }
        )


if __name__ == "__main__":
    main()
