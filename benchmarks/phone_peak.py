"""Benchmark: the morning peak on the phone path, one personal link after another.

Claim (issue "the morning peak"): on this 2-core machine the personal-link declaration,
opening the page and submitting with one tap as the page's JavaScript does, costs at most
3 ms of server CPU (the database's processes included) and 6 queries, takes at least 400
declarations/s saturated, at least 0.4 times the rate of ``/healthz`` measured in the same
run, and answers with a p99 of at most 150 ms at 118 declarations/s (5x the 07:00-09:00
average of 170,000 people).

Set-up (not timed): ``seed("seeds")`` (178,000 people), yesterday's declaration for every
one of them (so today's page offers the one-tap submit, as it does on a real morning) and a
personal link for each person of the sample. granian (``--server``; gunicorn to compare)
then serves ``config.wsgi`` with the production settings on the same database. All clients
come from one address, as a plant behind its NAT does. Each simulated person is a different
person, who:

1. opens the link (GET): the shell, the same for everyone, with the person's state in it
   (a JSON script: the masked name, yesterday's answers);
2. submits the one tap (POST ``declare``, JSON: the last answers, a new UUID), expects 201.
   Its answer carries the new status and answers, which the page keeps as the phone's copy
   of the state: nothing is read again.

That is the *cold* path, every morning's. The *warm* path is a phone whose service worker
answered the link with its kept shell (the network failed or hung): the shell then reads
the state (GET ``state``, JSON) and submits. Both are measured, each on its own people.

The load of the saturated phases comes from wrk (``phone_peak.lua``, ``--load``): written
in C, it leaves the two cores to the server, where this script's own client threads cost
about as much CPU per declaration as the server. The paced phase and the checks use this
script's client.

Phases: *saturated* cold and *saturated warm* (``--clients`` closed-loop clients),
*healthz* (the same clients on ``/healthz``, for the ratio), the three taking turns in
``--blocks`` parts so that a shared machine's changing load weighs on each alike;
*paced* (``--rate`` declarations/s for ``--seconds`` s on the cold path, open loop:
latency is measured from each person's scheduled start, so a stalled server cannot hide
its queue). At the end every
person of the sample must have exactly one current declaration today: no errors, no 429s,
no duplicates.

Scaling out (``--instances N``): N server instances share ``--workers`` between them, as N
web servers behind the proxy would, against the one database and its shared cache; the
clients are spread over them in turn and the CPU is summed over all of them. After the
phases it checks that nothing a person or an administrator relies on is kept per instance:
a rate limit counted on one instance holds on the other, a log-in on one is a log-in on the
other, and a symptom added to the list reaches every instance within the catalogue memo's
seconds.

Run: ``.venv/bin/python benchmarks/phone_peak.py`` (SQLite) or inside
``PG_DURABLE=1 bash scripts/with-postgres.sh`` (PostgreSQL with fsync on). The last stdout
line is JSON.
"""

import argparse
import datetime as dt
import http.client
import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from _support import (
    HOST,
    SERVERS,
    Phase,
    analyze,
    database_version,
    emit,
    instance_log,
    load_average,
    machine,
    percentile,
    postgres_postmaster_pid,
    print_server_log,
    queue_worker,
    record_cpu,
    server_cpu_seconds,
    server_environment,
    setup_django,
    throwaway_database,
    timed,
    web_instances,
)

PEOPLE_A_DAY = 170_000
WARM_UP_EACH = 4  # people per client before the timed phases
PEAK_RATE = 118  # 5x the average of 170,000 declarations between 07:00 and 09:00
GOALS = {
    "cpu_ms": 3.0,
    "queries": 6,
    "saturated_per_s": 400,
    "ratio_to_healthz": 0.4,
    "p99_ms_at_peak": 150,
}
SHELL_MARK = 'id="link-shell"'  # the page every personal link opens
ONE_TAP_ANSWERS = (
    "temperature",
    "symptoms",
    "division",
    "whereabouts",
    "contact",
    "risk_area_stay",
    "test_result",
)


def describe(phase: Phase, unit: str) -> None:
    """Print one phase: its rate, latencies and CPU per ``unit`` (one per request)."""
    statuses = ", ".join(f"{status}×{n}" for status, n in sorted(phase.statuses.items()))
    print(
        f"{phase.label}: {phase.requests} {unit} in {phase.seconds:.2f} s → "
        f"{phase.rate():,.1f}/s; "
        f"p50 {percentile(phase.latencies_ms, 0.5):.1f} ms, "
        f"p95 {percentile(phase.latencies_ms, 0.95):.1f} ms, "
        f"p99 {percentile(phase.latencies_ms, 0.99):.1f} ms; server CPU "
        f"{phase.cpu_ms(phase.requests):.2f} ms per {unit[:-1]}; statuses {statuses}"
    )
    split = ", ".join(
        f"{name} {seconds / phase.requests * 1000:.2f} ms"
        for name, seconds in phase.cpu_by_process.items()
        if phase.requests
    )
    print(f"  CPU by process: {split}")
    if phase.first_error:
        print(f"  first error: {phase.first_error}")


# -- data (not timed) ------------------------------------------------------------------------


def load(scale: str, sample: int) -> list[str]:
    """Seed the organisation and yesterday's declarations; return ``sample`` link paths."""
    from django.utils import timezone

    from fangkong.health.demo import seed_declarations
    from fangkong.health.models import Colour, Declaration, PersonLink
    from fangkong.health.selectors import link_token
    from fangkong.orgs.demo import seed
    from fangkong.orgs.models import Person

    started = time.perf_counter()
    made = seed(scale)
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    declared = seed_declarations(days=1, today=yesterday, rate=1.0, quarantined=0)
    people = list(Person.objects.filter(is_active=True, category="employee").order_by("?")[:sample])
    normal = Declaration.objects.filter(day=yesterday, is_current=True, status=Colour.GREEN)
    people = usual_mornings_last(people, set(normal.values_list("person_id", flat=True)))
    links = PersonLink.objects.bulk_create(PersonLink(person=person) for person in people)
    print(
        f"seeded {made['units']} units, {made['people']} people, {declared} declarations "
        f"for {yesterday} and {len(links)} links in {time.perf_counter() - started:.1f} s "
        "(not timed)"
    )
    return [f"/health/d/{link_token(link)}/" for link in links]


def usual_mornings_last(people: list[Any], normal_yesterday: set[int]) -> list[Any]:
    """Move two people whose yesterday was normal to the end of the sample: their
    declarations are the ones counted (``queries_per_declaration``), and the goal counts
    the usual morning. About 1 % of yesterdays are abnormal, whose one tap opens a card
    and notifies (about 24 statements): counted by chance, they said nothing of the path.
    The others keep their random order, so each phase still gets its share of them."""
    counted = [person for person in reversed(people) if person.pk in normal_yesterday][:2]
    return [person for person in people if person not in counted] + counted


TRANSACTION_CONTROL = re.compile(r"^\s*(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE)\b", re.I)


def queries_per_declaration(warm_up: str, path: str) -> tuple[int, int, int]:
    """Count the statements of the page, the state (the warm path's) and the one-tap
    submit, in process.

    After one person's declaration has warmed the process's memos up (as every worker is
    after its first request); transaction control (BEGIN, COMMIT) is not counted.
    """
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_X_FORWARDED_PROTO="https", secure=True)

    def declare(path: str) -> tuple[int, int, int]:
        with CaptureQueriesContext(connection) as page_queries:
            page = client.get(path).content.decode()
        assert SHELL_MARK in page, page[:300]
        with CaptureQueriesContext(connection) as state_queries:
            state = client.get(path + "state").json()
        assert state == state_in(page)
        with CaptureQueriesContext(connection) as post_queries:
            answer = client.post(path + "declare", one_tap(state), content_type="application/json")
        assert answer.status_code == 201, answer.content[:300]
        return statements(page_queries), statements(state_queries), statements(post_queries)

    declare(warm_up)
    return declare(path)


STATE_SCRIPT = re.compile(r'<script id="link-state" type="application/json">(.*?)</script>')


def state_in(page: str) -> dict[str, Any]:
    """The state the page carries for its script."""
    found = STATE_SCRIPT.search(page)
    if found is None:
        raise ValueError("the page carries no state")
    return json.loads(found.group(1))


def statements(queries: object) -> int:
    captured = queries.captured_queries  # type: ignore[attr-defined]
    return sum(1 for query in captured if not TRANSACTION_CONTROL.match(query["sql"]))


def one_tap(state: dict[str, Any]) -> dict[str, Any]:
    """What the shell's script posts for the one-tap submit: the last answers, a new UUID."""
    if not state.get("one_tap"):
        raise ValueError("the state offers no one-tap submit")
    last = state["last"]
    return {"uuid": str(uuid.uuid4()), **{name: last[name] for name in ONE_TAP_ANSWERS}}


# -- the client ------------------------------------------------------------------------------


class Phone:
    """One client connection, keep-alive, re-opened whenever the server closed it."""

    HEADERS = {"X-Forwarded-Proto": "https"}  # the TLS proxy in front sets it

    def __init__(self, port: int) -> None:
        self.port = port
        self.connection = http.client.HTTPConnection(HOST, port, timeout=60)
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body: str = "", **headers: str) -> tuple[int, str]:
        try:
            self.connection.request(
                method, path, body=body or None, headers={**self.HEADERS, **headers}
            )
            response = self.connection.getresponse()
            for header in response.headers.get_all("Set-Cookie") or []:
                cookie = SimpleCookie(header)
                self.cookies.update({name: morsel.value for name, morsel in cookie.items()})
            return response.status, response.read().decode(errors="replace")
        except (http.client.HTTPException, OSError) as exc:
            self.connection.close()
            return 599, repr(exc)

    def declare(self, path: str) -> tuple[int, str]:
        """The cold path: open the link (the shell with the state), submit with one tap."""
        status, page = self.request("GET", path)
        if status != 200 or SHELL_MARK not in page:
            return (status if status != 200 else 598), page[:300]
        return self.submit(path, state_in(page))

    def declare_warm(self, path: str) -> tuple[int, str]:
        """The warm path: the shell came from the phone's copy; read the state, submit."""
        status, text = self.request("GET", path + "state", Accept="application/json")
        if status != 200:
            return status, text[:300]
        return self.submit(path, json.loads(text))

    def submit(self, path: str, state: dict[str, Any]) -> tuple[int, str]:
        return self.request(
            "POST",
            path + "declare",
            json.dumps(one_tap(state)),
            **{"Content-Type": "application/json", "Accept": "application/json"},
        )

    def healthz(self, _path: str) -> tuple[int, str]:
        return self.request("GET", "/healthz")


# What a person does, by the names phone_peak.lua knows too.
ACTS: dict[str, Callable[[Phone, str], tuple[int, str]]] = {
    "cold": Phone.declare,
    "warm": Phone.declare_warm,
    "healthz": Phone.healthz,
}


def run_closed_loop(
    phase: Phase,
    paths: Sequence[str],
    act: Callable[["Phone", str], tuple[int, str]],
    *,
    ports: Sequence[int],
    clients: int,
    servers: Sequence[tuple[str, int | None]],
) -> Phase:
    """``clients`` threads take the next path as soon as their last answer is in."""
    lock = threading.Lock()
    queue = iter(paths)

    def work(port: int) -> None:
        phone = Phone(port)
        while True:
            with lock:
                path = next(queue, None)
            if path is None:
                break
            started = time.perf_counter()
            status, text = act(phone, path)
            with lock:
                phase.record(status, (time.perf_counter() - started) * 1000, text[:300])
        phone.connection.close()

    return timed(phase, client_threads(work, ports, clients), servers)


def run_interleaved(
    work: Sequence[tuple[Phase, Sequence[str], str]],
    *,
    blocks: int,
    load: str,
    ports: Sequence[int],
    clients: int,
    servers: Sequence[tuple[str, int | None]],
) -> list[Phase]:
    """Run each phase in ``blocks`` parts, taking turns (cold, warm, /healthz, cold, ...).

    On a shared machine the load changes from minute to minute; phases that take turns see
    the same load on the whole, so the ratios between them hold even when the rates do not.
    ``load`` names the client: ``wrk`` (run_wrk) or ``python`` (run_closed_loop).
    """
    for block in range(blocks):
        for phase, paths, act in work:
            size = -(-len(paths) // blocks)
            part_paths = paths[block * size : (block + 1) * size]
            part = Phase(phase.label)
            if load == "wrk":
                run_wrk(part, part_paths, act, ports=ports, clients=clients, servers=servers)
            else:
                run_closed_loop(
                    part, part_paths, ACTS[act], ports=ports, clients=clients, servers=servers
                )
            phase.absorb(part)
    return [phase for phase, _paths, _act in work]


WRK_SCRIPT = Path(__file__).with_name("phone_peak.lua")


def run_wrk(
    phase: Phase,
    paths: Sequence[str],
    act: str,
    *,
    ports: Sequence[int],
    clients: int,
    servers: Sequence[tuple[str, int | None]],
) -> Phase:
    """``clients`` connections from wrk (phone_peak.lua), each taking its people in turn.

    Spread over the instances as the proxy's round robin would. Each wrk thread writes one
    line per person when it has served them all (the status, the milliseconds from the
    person's first request to the last answer); the phase lasts until every thread has
    written, and the servers' CPU is read before the first request and then.
    """
    with tempfile.TemporaryDirectory(prefix="phone-peak-wrk-") as tmp:
        runs = _wrk_runs(Path(tmp), paths, ports=ports, clients=clients)
        before = [server_cpu_seconds(pid) for _name, pid in servers]
        started = time.perf_counter()
        processes = [_start_wrk(act, run, Path(tmp)) for run in runs]
        results = [
            out.with_name(f"{out.name}-{k}")
            for *_, threads, out in runs
            for k in range(1, threads + 1)
        ]
        _wait_for(results, processes, Path(tmp))
        phase.seconds = time.perf_counter() - started
        after = [server_cpu_seconds(pid) for _name, pid in servers]
        for process in processes:
            process.terminate()
            process.wait(timeout=30)
        for file in results:
            for line in file.read_text().splitlines():
                status, milliseconds = line.split()
                phase.record(int(status), float(milliseconds), f"{act} answered {status}")
    record_cpu(phase, servers, before, after)
    return phase


def _wrk_runs(
    tmp: Path, paths: Sequence[str], *, ports: Sequence[int], clients: int
) -> list[tuple[int, Path, int, Path]]:
    """One wrk per instance: (port, its people's file, its connections, its output prefix)."""
    runs = []
    for index, port in enumerate(ports):
        share = paths[index :: len(ports)]
        connections = min(len(range(index, clients, len(ports))), len(share))
        if connections:
            listing = tmp / f"paths-{port}"
            listing.write_text("\n".join(share) + "\n")
            runs.append((port, listing, connections, tmp / f"out-{port}"))
    return runs


def _start_wrk(act: str, run: tuple[int, Path, int, Path], tmp: Path) -> "subprocess.Popen[bytes]":
    """Start one wrk; what it says on stderr goes to ``wrk-<port>.err`` (see ``_wait_for``)."""
    with (tmp / f"wrk-{run[0]}.err").open("wb") as errors:
        return subprocess.Popen(_wrk_command(act, *run), stdout=subprocess.DEVNULL, stderr=errors)


def _wrk_command(act: str, port: int, listing: Path, threads: int, out: Path) -> list[str]:
    return [
        "wrk",
        f"--threads={threads}",
        f"--connections={threads}",  # one each: a person's requests follow each other
        "--duration=3600s",  # stopped once every thread has written its people
        "--timeout=120s",
        f"--script={WRK_SCRIPT}",
        f"http://{HOST}:{port}",
        "--",
        act,
        str(listing),
        str(out),
        str(threads),
    ]


def _wait_for(
    files: Sequence[Path], processes: Sequence["subprocess.Popen[bytes]"], tmp: Path
) -> None:
    while not all(file.exists() for file in files):
        if any(process.poll() is not None for process in processes):
            errors = " ".join(path.read_text()[:300] for path in tmp.glob("wrk-*.err"))
            raise RuntimeError(f"wrk stopped before its people were served: {errors}")
        time.sleep(0.005)


def client_threads(
    work: Callable[[int], None], ports: Sequence[int], clients: int
) -> list[threading.Thread]:
    """One thread per client, each on the next instance in turn (the proxy's round robin)."""
    return [threading.Thread(target=work, args=(ports[n % len(ports)],)) for n in range(clients)]


def run_paced(
    phase: Phase,
    paths: Sequence[str],
    *,
    rate: float,
    ports: Sequence[int],
    clients: int,
    servers: Sequence[tuple[str, int | None]],
) -> Phase:
    """Start person i at ``i / rate`` s; latency counts from that scheduled instant."""
    lock = threading.Lock()
    queue = iter(enumerate(paths))
    begin = time.perf_counter() + 0.5

    def work(port: int) -> None:
        phone = Phone(port)
        while True:
            with lock:
                item = next(queue, None)
            if item is None:
                break
            index, path = item
            scheduled = begin + index / rate
            time.sleep(max(0.0, scheduled - time.perf_counter()))
            status, text = phone.declare(path)
            with lock:
                phase.record(status, (time.perf_counter() - scheduled) * 1000, text[:300])
        phone.connection.close()

    return timed(phase, client_threads(work, ports, clients), servers)


def wait_for_healthz(port: int, timeout_s: float = 60) -> None:
    """Wait until /healthz is green (the worker has started), so the ratio compares 200s."""
    phone, deadline = Phone(port), time.monotonic() + timeout_s
    while phone.healthz("")[0] != 200:
        if time.monotonic() > deadline:
            raise RuntimeError("/healthz did not turn green: is the worker running?")
        time.sleep(0.5)
    phone.connection.close()


# -- nothing kept per instance ---------------------------------------------------------------


def throttle_is_shared(ports: Sequence[int]) -> str:
    """Send forged links to the instances in turn: the limit per address must hold in all.

    Returns where the first 429 came (limit + 1 when the count is shared; it would be
    instances x limit + 1 if each instance counted on its own).
    """
    from fangkong.core.throttle import limit_for

    limit = limit_for("link_ip").requests
    phones = [Phone(port) for port in ports]
    first_429 = 0
    for n in range(limit * len(ports) + 1):
        status, _text = phones[n % len(phones)].request("GET", f"/health/d/forged-{n}/")
        if status == 429:
            first_429 = n + 1
            break
    for phone in phones:
        phone.connection.close()
    shared = first_429 == limit + 1
    return (
        f"rate limit per address ({limit}): first 429 at request {first_429 or 'never'} of "
        f"forged links spread over {len(ports)} instances: {'shared' if shared else 'NOT SHARED'}"
    )


def login_is_shared(ports: Sequence[int]) -> str:
    """Log in on the first instance; open a signed-in page on the last with that cookie."""
    username, password = "bench-scale", "bench-" + uuid.uuid4().hex
    make_user(username, password)
    first, last = Phone(ports[0]), Phone(ports[-1])
    login = "/accounts/login/"
    status, page = first.request("GET", login)
    cookies = first.cookies
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    body = urlencode(
        {"username": username, "password": password, "csrfmiddlewaretoken": token and token[1]}
    )
    login_status, _text = first.request(
        "POST",
        login,
        body,
        **{
            "Content-Type": "application/x-www-form-urlencoded",
            "Referer": f"https://{HOST}:{ports[0]}{login}",
            "Cookie": cookie_header(cookies),
        },
    )
    status, _text = last.request("GET", "/reports/rollup/", Cookie=cookie_header(cookies))
    first.connection.close()
    last.connection.close()
    shared = status == 200 and "sessionid" in cookies
    return (
        f"session: the log-in on instance 1 answered {login_status}, the roll-up on instance "
        f"{len(ports)} answered {status} to its cookie: {'shared' if shared else 'NOT SHARED'}"
    )


def make_user(username: str, password: str) -> None:
    from django.contrib.auth.hashers import make_password

    from fangkong.accounts.models import RoleAssignment, User
    from fangkong.accounts.roles import Role
    from fangkong.orgs.models import OrgUnit

    # Hashed as production checks it (this process runs the test profile's fast hasher).
    user = User.objects.create(
        username=username, password=make_password(password, hasher="pbkdf2_sha256")
    )
    root = OrgUnit.objects.get(parent__isnull=True)
    RoleAssignment.objects.create(user=user, role=Role.GROUP_ADMIN, unit=root)


def cookie_header(cookies: dict[str, str]) -> str:
    return "; ".join(f"{name}={value}" for name, value in cookies.items())


def memo_delay(ports: Sequence[int], path: str, timeout_s: float = 30) -> str:
    """Add a symptom as an administrator on another machine would; time until each
    instance's personal-link state lists it (every worker within the catalogue memo's 10 s).
    Reading a link's state changes nothing, so the same one is read again and again."""
    from fangkong.health.models import Symptom

    name = f"测试症状{uuid.uuid4().hex[:4]}"
    Symptom.objects.create(code=f"bench-{uuid.uuid4().hex[:8]}", name=name, name_en=name)
    started, seen = time.monotonic(), dict.fromkeys(ports, 0.0)
    while not all(seen.values()) and time.monotonic() - started < timeout_s:
        for port in (port for port in ports if not seen[port]):
            phone = Phone(port)
            status, text = phone.request("GET", path + "state")
            phone.connection.close()
            if status == 200 and name in dict(json.loads(text)["symptoms"]).values():
                seen[port] = time.monotonic() - started
        time.sleep(0.2)
    shown = ", ".join(f"{s:.1f} s" if s else f"not within {timeout_s:g} s" for s in seen.values())
    return (
        f"memo: a symptom added in the database was first shown by each instance after "
        f"{shown} (each worker process reloads the catalogue within 10 s)"
    )


# -- the run ---------------------------------------------------------------------------------


def current_today() -> tuple[int, int]:
    """Return (current declarations today, all declaration rows today)."""
    from django.utils import timezone

    from fangkong.health.models import Declaration

    today = timezone.localdate()
    rows = Declaration.objects.filter(day=today)
    return rows.filter(is_current=True).count(), rows.count()


def verdicts(figures: dict[str, float]) -> dict[str, bool]:
    return {
        "cpu_ms": figures["cpu_ms"] <= GOALS["cpu_ms"],
        "queries": figures["queries"] <= GOALS["queries"],
        "saturated_per_s": figures["saturated_per_s"] >= GOALS["saturated_per_s"],
        "ratio_to_healthz": figures["ratio_to_healthz"] >= GOALS["ratio_to_healthz"],
        "p99_ms_at_peak": figures["p99_ms_at_peak"] <= GOALS["p99_ms_at_peak"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", default="seeds", help="of the organisation (orgs.demo)")
    # Two threads a worker process. PostgreSQL: one worker per core (2 × 2 cost 3.09 / 2.70
    # ms a declaration, cold / warm, where 3 × 4 cost 3.98 / 3.49 ms, in the same hour:
    # fewer threads waiting for the GIL and fewer database backends). SQLite: one worker
    # more than the cores, which stay busy while a worker's threads wait for the writers'
    # lock (2 × 2 against 3 × 2 in the same runs: 757 / 810 and 704 / 743 declarations a
    # second, the cores 15-19 % idle against 11-12 %; BENCHMARKS.md, seventh round).
    parser.add_argument("--workers", type=int, help="in all, over the instances (see above)")
    parser.add_argument("--instances", type=int, default=1, help="web servers")
    parser.add_argument("--server", choices=SERVERS, default="granian")
    parser.add_argument("--worker-class", default="sync", help="gunicorn's, e.g. gthread")
    parser.add_argument(
        "--threads", type=int, default=2, help="per worker (granian; gunicorn's gthread)"
    )
    parser.add_argument(
        "--load",
        choices=("wrk", "python"),
        default="wrk",
        help="the saturated phases' client: wrk (C, phone_peak.lua) or this script's threads",
    )
    parser.add_argument("--clients", type=int, default=12)
    parser.add_argument("--saturated", type=int, default=6000, help="people in that phase")
    parser.add_argument(
        "--blocks",
        type=int,
        default=6,
        help="turns the saturated phases take (see run_interleaved)",
    )
    parser.add_argument("--rate", type=float, default=PEAK_RATE)
    parser.add_argument("--seconds", type=int, default=60, help="of the paced phase")
    options = parser.parse_args()
    paced_people = int(options.rate * options.seconds)
    os.environ.setdefault("SECRET_KEY", "bench-" + uuid.uuid4().hex * 2)  # the links' signer
    with throwaway_database("phone") as vendor:
        if options.workers is None:
            cores = os.cpu_count() or 2
            options.workers = cores + 1 if vendor == "sqlite" else cores
        if options.workers % options.instances:
            parser.error("--workers must be a multiple of --instances")
        setup_django()
        print(f"machine: {machine()}; database: {database_version()}")
        warm_ups = WARM_UP_EACH * options.clients
        people = 2 * options.saturated + paced_people + 3 + warm_ups
        paths = load(options.scale, people)
        analyze()
        page_queries, state_queries, post_queries = queries_per_declaration(
            paths.pop(), paths.pop()
        )
        print(
            f"queries per declaration: cold: page {page_queries} + submit {post_queries}; "
            f"warm: state {state_queries} + submit {post_queries}"
        )
        postmaster = postgres_postmaster_pid()
        from django.db import connections

        connections.close_all()  # the server owns the database from here
        servers_options = []
        threads = options.threads
        if options.server == "gunicorn":
            servers_options.append(f"--worker-class={options.worker_class}")
            if options.worker_class == "gthread":
                servers_options.append(f"--threads={options.threads}")
            else:
                threads = 1
        log = Path(os.environ["MEDIA_ROOT"]).parent / "server.log"
        kind = options.server if options.server == "granian" else f"gunicorn {options.worker_class}"
        print(
            f"{kind}: {options.instances} instance(s), {options.workers} workers in all"
            f"{f' × {threads} threads' if threads > 1 else ''}; "
            f"{options.clients} clients from one address ({options.load})"
        )
        if options.load == "wrk" and shutil.which("wrk") is None:
            raise SystemExit("wrk is missing: bash scripts/install-system-deps.sh installs it")
        print(f"load average before: {load_average()}")
        env = server_environment()
        with (
            queue_worker(log.with_name("worker.log"), env) as worker,
            web_instances(
                options.instances,
                kind=options.server,
                workers=options.workers // options.instances,
                threads=threads,
                log=log,
                options=servers_options,
                env=env,
            ) as instances,
        ):
            ports = [port for port, _master in instances]
            servers = [
                *(("web", master) for _port, master in instances),
                ("database", postmaster),
                ("queue worker", worker),
            ]
            for port in ports:
                wait_for_healthz(port)
            # Imports, connections and prepared statements in every worker and thread: as
            # a server is a few requests after it started.
            warm_up = Phase("warm-up")
            run_closed_loop(
                warm_up,
                [paths.pop() for _ in range(WARM_UP_EACH * options.clients)],
                Phone.declare,
                ports=ports,
                clients=options.clients,
                servers=servers,
            )
            saturated, warm, healthz = run_interleaved(
                [
                    (
                        Phase("saturated, cold (the page with the state + submit)"),
                        [paths.pop() for _ in range(options.saturated)],
                        "cold",
                    ),
                    (
                        Phase("saturated, warm (state + submit; the shell from the phone's copy)"),
                        [paths.pop() for _ in range(options.saturated)],
                        "warm",
                    ),
                    (Phase("/healthz"), ["/healthz"] * options.saturated, "healthz"),
                ],
                blocks=options.blocks,
                load=options.load,
                ports=ports,
                clients=options.clients,
                servers=servers,
            )
            paced = run_paced(
                Phase(f"paced at {options.rate:g}/s"),
                paths[:paced_people],
                rate=options.rate,
                ports=ports,
                clients=max(options.clients, 32),
                servers=servers,
            )
            shared_state = [
                throttle_is_shared(ports),
                login_is_shared(ports),
                memo_delay(ports, paths[-1]),
            ]
        print(f"load average after: {load_average()}")
        for number in range(1, options.instances + 1):
            print_server_log(instance_log(log, number))
        describe(saturated, "declarations")
        describe(warm, "declarations")
        describe(healthz, "requests")
        describe(paced, "declarations")
        for line in shared_state:
            print(line)
        current, rows = current_today()
        # + the two in-process counts and the warm-up
        expected = saturated.requests + warm.requests + paced.requests + 2 + warm_up.requests
        phases = (saturated, warm, healthz, paced)
        errors = sum(phase.errors for phase in phases)
        throttled = sum(phase.statuses[429] for phase in phases)
        figures = {
            "cpu_ms": round(saturated.server_cpu / saturated.requests * 1000, 2),
            "queries": page_queries + post_queries,
            "saturated_per_s": round(saturated.rate(), 1),
            "ratio_to_healthz": round(saturated.rate() / healthz.rate(), 3),
            "p99_ms_at_peak": round(percentile(paced.latencies_ms, 0.99), 1),
        }
        warm_figures = {
            "cpu_ms": round(warm.server_cpu / warm.requests * 1000, 2),
            "saturated_per_s": round(warm.rate(), 1),
            "ratio_to_healthz": round(warm.rate() / healthz.rate(), 3),
        }
        met = verdicts(figures)
        warm_met = verdicts({**figures, **warm_figures})
        print(
            f"stored: {current} current declarations today (expect {expected}), {rows} rows "
            f"(a duplicate would add one); errors {errors}, 429s {throttled}"
        )
        print(
            f"170,000 people at the saturated rate: "
            f"{PEOPLE_A_DAY / saturated.rate() / 60:.1f} min; headroom at {PEAK_RATE}/s: "
            f"{saturated.rate() / PEAK_RATE:.2f}x"
        )
        print("cold path (every morning's open):")
        for name, value in figures.items():
            print(f"  {name}: {value} (goal {GOALS[name]}) {'met' if met[name] else 'MISSED'}")
        print("warm path (the shell from the phone's copy, with no network at first):")
        for name, value in warm_figures.items():
            verdict = "met" if warm_met[name] else "MISSED"
            print(f"  {name}: {value} (goal {GOALS[name]}) {verdict}")
        emit(
            {
                "benchmark": "phone_peak",
                "database": vendor,
                "server": kind,
                "load": options.load,
                "instances": options.instances,
                "workers": options.workers,
                "threads": options.threads,
                "clients": options.clients,
                **figures,
                "page_queries": page_queries,
                "state_queries": state_queries,
                "post_queries": post_queries,
                **{f"warm_{name}": value for name, value in warm_figures.items()},
                "healthz_per_s": round(healthz.rate(), 1),
                "healthz_cpu_ms": round(healthz.server_cpu / healthz.requests * 1000, 2),
                "saturated_p50_ms": round(percentile(saturated.latencies_ms, 0.5), 1),
                "saturated_p99_ms": round(percentile(saturated.latencies_ms, 0.99), 1),
                "paced_rate": options.rate,
                "paced_p50_ms": round(percentile(paced.latencies_ms, 0.5), 1),
                "paced_p95_ms": round(percentile(paced.latencies_ms, 0.95), 1),
                "errors": errors,
                "throttled": throttled,
                "stored_current": current,
                "expected_current": expected,
                "rows_today": rows,
                "minutes_for_170000": round(PEOPLE_A_DAY / saturated.rate() / 60, 1),
                "headroom_at_peak": round(saturated.rate() / PEAK_RATE, 2),
                "all_goals_met": all(met.values()) and errors == 0 and rows == expected,
            }
        )


if __name__ == "__main__":
    main()
