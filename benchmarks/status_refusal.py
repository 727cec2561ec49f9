"""Benchmark: from a fever declared on the phone to the gate refusing that person's pass.

Claim (issue 13): under a real server, a fever declared through the personal link makes
online verification (``POST /api/v1/passes/verify``) answer reason ``status`` for that
person's daily pass within 1 s.

Set-up (not timed): ``seed("seeds")`` (178,000 people); a personal link for ``--people``
employees of the first enterprise; a guard on that enterprise with an API token (the gate's
scanner). gunicorn serves ``config.wsgi`` with the production settings and the task
queue's worker runs, as in production. For each person in turn, not timed: the morning's
normal declaration through the link (36.5 °C), the phone page's state (which issues the
daily pass and carries its text), and one online verification of it, which must admit.
Then, timed from the moment the phone sends it:

1. the fever (38.5 °C) through the link, as the page's script posts it (form fields,
   ``Accept: application/json``), answered 201;
2. the guard's scanner verifies the same pass text at once, and again until the answer's
   reason is ``status`` (at most ``--timeout`` s).

The time is from the fever's request to the first ``status`` answer. Afterwards the phone
page's state must show no pass. The revocation is made in the declaration's own
transaction (``passes.receivers``); the queue carries only the notifications of the
tracking card opened for the fever.

Run: ``.venv/bin/python benchmarks/status_refusal.py`` (SQLite) or inside
``PG_DURABLE=1 bash scripts/with-postgres.sh`` (PostgreSQL with fsync on). The last stdout
line is JSON.
"""

import argparse
import http.client
import json
import os
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

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
    queue_worker,
    server_cpu_seconds,
    server_environment,
    setup_django,
    throwaway_database,
)

GOAL_MS = 1000
DIVISION = "370303"  # 淄博市张店区, where the group's first enterprise is


@dataclass
class Holder:
    """One person of the sample: the link's token and the unit whose gate scans."""

    token: str
    unit_id: int


@dataclass
class Timings:
    declare_ms: list[float] = field(default_factory=list)
    refused_ms: list[float] = field(default_factory=list)
    verifications: list[int] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


# -- data (not timed) ------------------------------------------------------------------------


def load(scale: str, people: int) -> tuple[list[Holder], str]:
    """Seed; make the sample's links and the guard with a token; return them."""
    from fangkong.accounts.models import RoleAssignment, User
    from fangkong.accounts.roles import Role
    from fangkong.accounts.services import api_token_create
    from fangkong.core.paths import subtree_q
    from fangkong.health.models import PersonLink
    from fangkong.health.selectors import link_token
    from fangkong.orgs.demo import seed
    from fangkong.orgs.models import OrgUnit, Person, UnitKind

    started = time.perf_counter()
    made = seed(scale)
    enterprise = OrgUnit.objects.filter(kind=UnitKind.ENTERPRISE).order_by("pk").first()
    assert enterprise is not None
    sample = Person.objects.filter(
        subtree_q("unit_path", enterprise.path), is_active=True, category="employee"
    ).order_by("?")[:people]
    links = PersonLink.objects.bulk_create(PersonLink(person=person) for person in sample)
    guard = User.objects.create(username="bench-gate", display_name="门岗")
    RoleAssignment.objects.create(user=guard, role=Role.GUARD, unit=enterprise)
    _token, key = api_token_create(actor=None, user=guard, name="scanner")
    print(
        f"seeded {made['units']} units, {made['people']} people; {len(links)} links of "
        f"{enterprise.name}'s employees, a guard there; in {time.perf_counter() - started:.1f} s "
        "(not timed)"
    )
    return [Holder(link_token(link), enterprise.pk) for link in links], key


# -- the clients -----------------------------------------------------------------------------


class Connection:
    """A keep-alive connection, re-opened whenever the server closed it."""

    def __init__(self, port: int, **headers: str) -> None:
        self.headers = {"X-Forwarded-Proto": "https", **headers}  # the TLS proxy sets it
        self.connection = http.client.HTTPConnection(HOST, port, timeout=60)

    def request(self, method: str, path: str, body: str = "", **headers: str) -> tuple[int, str]:
        try:
            self.connection.request(
                method, path, body=body or None, headers={**self.headers, **headers}
            )
            response = self.connection.getresponse()
            return response.status, response.read().decode(errors="replace")
        except (http.client.HTTPException, OSError) as exc:
            self.connection.close()
            return 599, repr(exc)


def declare(phone: Connection, token: str, temperature: str) -> tuple[int, str]:
    """Post a declaration through the personal link as the page's script does."""
    fields = {
        "uuid": str(uuid.uuid4()),
        "temperature": temperature,
        "division": DIVISION,
        "whereabouts": "at_post",
        "contact": "none",
        "test_result": "none",
    }
    return phone.request(
        "POST",
        f"/health/d/{token}/",
        urlencode(fields),
        **{"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"},
    )


def pass_state(phone: Connection, token: str) -> dict:
    """The phone page's state (its refresh): issues today's pass while the status admits."""
    status, body = phone.request("GET", f"/passes/p/{token}/state")
    if status != 200:
        raise RuntimeError(f"pass state answered {status}: {body[:300]}")
    return json.loads(body)


def verify(scanner: Connection, text: str, unit_id: int) -> dict:
    body = json.dumps({"text": text, "unit_id": unit_id, "scanner_time": time.time()})
    status, answer = scanner.request(
        "POST", "/api/v1/passes/verify", body, **{"Content-Type": "application/json"}
    )
    if status != 200:
        raise RuntimeError(f"verify answered {status}: {answer[:300]}")
    return json.loads(answer)


def measure(
    holder: Holder, phone: Connection, scanner: Connection, timings: Timings, timeout_s: float
) -> None:
    status, body = declare(phone, holder.token, "36.5")
    if status != 201:
        timings.failures.append(f"morning declaration {status}: {body[:200]}")
        return
    state = pass_state(phone, holder.token)
    if not state["active"]:
        timings.failures.append(f"no pass issued: {state['reason']}")
        return
    text = state["text"]
    before = verify(scanner, text, holder.unit_id)
    if not before["ok"]:
        timings.failures.append(f"the pass did not admit before the fever: {before['reason']}")
        return
    started = time.perf_counter()
    status, body = declare(phone, holder.token, "38.5")
    declared = time.perf_counter()
    if status != 201:
        timings.failures.append(f"fever declaration {status}: {body[:200]}")
        return
    polls = 0
    while True:
        polls += 1
        verdict = verify(scanner, text, holder.unit_id)
        if verdict["reason"] == "status":
            break
        if time.perf_counter() - started > timeout_s:
            timings.failures.append(f"still {verdict['reason']!r} after {timeout_s:g} s")
            return
    refused = time.perf_counter()
    timings.declare_ms.append((declared - started) * 1000)
    timings.refused_ms.append((refused - started) * 1000)
    timings.verifications.append(polls)
    if pass_state(phone, holder.token)["active"]:
        timings.failures.append("the phone still shows a pass after the fever")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", default="seeds", help="of the organisation (orgs.demo)")
    parser.add_argument("--people", type=int, default=50)
    parser.add_argument("--workers", type=int, default=3, help="gunicorn sync workers")
    parser.add_argument("--timeout", type=float, default=10.0, help="s, per person")
    parser.add_argument("--warm-up", type=int, default=6, help="people before the sample")
    options = parser.parse_args()
    os.environ.setdefault("SECRET_KEY", "bench-" + uuid.uuid4().hex * 2)  # links and keys
    with throwaway_database("status") as vendor:
        setup_django()
        print(f"machine: {machine()}; database: {database_version()}")
        holders, key = load(options.scale, options.warm_up + options.people)
        analyze()
        postmaster = postgres_postmaster_pid()
        from django.db import connections

        connections.close_all()  # the server owns the database from here
        log = Path(os.environ["MEDIA_ROOT"]).parent / "gunicorn.log"
        env = server_environment()
        load_before = load_average()
        print(f"gunicorn: {options.workers} sync workers, the queue's worker running")
        print(f"load average before: {load_before}")
        timings = Timings()
        with (
            queue_worker(log.with_name("worker.log"), env) as worker,
            gunicorn(workers=options.workers, log=log, env=env) as (port, master),
        ):
            phone = Connection(port)
            scanner = Connection(port, Authorization=f"Bearer {key}")
            # Each worker's first requests import and connect; a fever of the sample must
            # not pay for that (nor for the first daily pass, which makes the signing key).
            warm_up = Timings()
            for holder in holders[: options.warm_up]:
                measure(holder, phone, scanner, warm_up, options.timeout)
            cpu_before = server_cpu_seconds(master, postmaster, worker)
            for holder in holders[options.warm_up :]:
                try:
                    measure(holder, phone, scanner, timings, options.timeout)
                except RuntimeError as exc:  # an answer other than 200: see the server's log
                    timings.failures.append(str(exc)[:300])
            cpu = server_cpu_seconds(master, postmaster, worker) - cpu_before
        load_after = load_average()
        print(f"load average after: {load_after}")
        print_server_log(log)
        if warm_up.refused_ms:
            print(
                f"warm-up ({options.warm_up} people, each worker's first requests): fever to "
                f"'status' max {max(warm_up.refused_ms):.1f} ms (not counted)"
            )
        for failure in timings.failures[:5]:
            print(f"  failure: {failure}")
        done = len(timings.refused_ms)
        if not done:
            raise SystemExit("no person was refused: see the failures above")
        figures = {
            "p50_ms": round(percentile(timings.refused_ms, 0.5), 1),
            "p95_ms": round(percentile(timings.refused_ms, 0.95), 1),
            "max_ms": round(max(timings.refused_ms), 1),
            "declare_p50_ms": round(percentile(timings.declare_ms, 0.5), 1),
            "declare_max_ms": round(max(timings.declare_ms), 1),
        }
        met = figures["max_ms"] < GOAL_MS and not timings.failures
        print(
            f"fever declared → verify answers 'status': {done} people, p50 {figures['p50_ms']} "
            f"ms, p95 {figures['p95_ms']} ms, max {figures['max_ms']} ms (the declaration "
            f"alone: p50 {figures['declare_p50_ms']} ms, max {figures['declare_max_ms']} ms); "
            f"verifications needed: {max(timings.verifications)} at most; failures "
            f"{len(timings.failures)}; server CPU per person (both mornings' steps included) "
            f"{cpu / done * 1000:.1f} ms; goal < {GOAL_MS} ms: "
            f"{'met' if met else 'MISSED'}"
        )
        emit(
            {
                "benchmark": "status_refusal",
                "database": vendor,
                "server": "gunicorn sync",
                "workers": options.workers,
                "people": done,
                **figures,
                "verifications_max": max(timings.verifications),
                "failures": len(timings.failures),
                "load_average_start": load_before,
                "goal_ms": GOAL_MS,
                "goal_met": met,
            }
        )


if __name__ == "__main__":
    main()
