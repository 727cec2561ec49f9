"""Shared plumbing for the benchmarks: a throw-away database, Django set-up, reporting.

Not a benchmark itself (``scripts/bench.sh`` skips files starting with ``_``). A benchmark
starts with ``from _support import ...``: importing this module puts the repository on
``sys.path`` and names the settings. Call :func:`throwaway_database` before anything
imports Django models, then :func:`setup_django`.
"""

import base64
import json
import os
import platform
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
# ``python benchmarks/x.py`` puts only benchmarks/ on sys.path (so ``import _support``
# works); the project's packages need the repository root too.
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


def _prepare_environment(workdir: Path) -> None:
    """Run the queue inline (test profile) and keep uploads out of the repository.

    Pass keys are sealed with a throw-away key that the benchmark's process and its
    production server share (production refuses to derive one from SECRET_KEY).
    """
    os.environ["FANGKONG_ENV"] = "test"
    os.environ["Q_SYNC"] = "1"
    os.environ["MEDIA_ROOT"] = str(workdir / "media")
    os.environ.setdefault("PASS_KEY_ENCRYPTION_KEY", base64.b64encode(os.urandom(32)).decode())
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


def _postgres_admin(url: str, sql: str) -> None:
    """Run one statement in autocommit on the server behind ``url``."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(sql)


@contextmanager
def throwaway_database(label: str) -> Iterator[str]:
    """Point DATABASE_URL at a brand-new database for the duration; yield its vendor.

    PostgreSQL when DATABASE_URL names a postgres server (a new database is created on it
    and dropped afterwards), else a SQLite file in a temporary directory.
    """
    given = os.environ.get("DATABASE_URL", "")
    with tempfile.TemporaryDirectory(prefix=f"fangkong-bench-{label}-") as tmp:
        workdir = Path(tmp)
        _prepare_environment(workdir)
        if not given.startswith(("postgres://", "postgresql://")):
            os.environ["DATABASE_URL"] = f"sqlite:///{workdir / 'bench.sqlite3'}"
            yield "sqlite"
            return
        name = f"bench_{label}_{uuid.uuid4().hex[:8]}"
        parts = urlsplit(given)
        _postgres_admin(given, f'CREATE DATABASE "{name}"')
        os.environ["DATABASE_URL"] = urlunsplit(parts._replace(path=f"/{name}"))
        try:
            yield "postgresql"
        finally:
            _close_django_connections()
            os.environ["DATABASE_URL"] = given
            _postgres_admin(given, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _close_django_connections() -> None:
    """Close Django's connections if Django was set up (so the database can be dropped)."""
    if "django.db" in sys.modules:
        from django.db import connections

        connections.close_all()


def setup_django() -> None:
    """Set Django up and create every table in the (empty) database."""
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def analyze() -> None:
    """Refresh planner statistics (and PostgreSQL's visibility map) after a bulk load.

    What autovacuum / a nightly ANALYZE would have done on a live system.
    """
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("VACUUM ANALYZE")
        else:
            cursor.execute("ANALYZE")


def database_version() -> str:
    """Return the server version of the current database, e.g. ``PostgreSQL 15.8``."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            return f"PostgreSQL {cursor.fetchone()[0].split()[0]}"
    return f"SQLite {sqlite3.sqlite_version}"


def machine() -> str:
    """Describe the machine in one line: CPUs, memory, Python, and the load at the start.

    The machine is shared: the load average at the start and at the end (:func:`emit`)
    says how much else was running while the benchmark measured.
    """
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{os.cpu_count()} CPUs, {memory:.0f} GiB RAM, Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}; load average at the start "
        f"{load_average()}"
    )


def percentile(samples: list[float], fraction: float) -> float:
    """Return the ``fraction`` quantile of ``samples`` (inclusive method)."""
    if len(samples) == 1:
        return samples[0]
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return cuts[round(fraction * 100) - 1]


def emit(result: dict[str, Any]) -> None:
    """Print the load average at the end, then the machine-readable result as the last line."""
    load = load_average()
    print(f"load average at the end: {load}")
    print(json.dumps({**result, "load_average_end": load}, ensure_ascii=False), flush=True)


# -- a timed phase ---------------------------------------------------------------------------


@dataclass
class Phase:
    """What one phase of a benchmark sent and how the server answered.

    ``items`` counts what the answers carried when a request holds many (the scans of a
    batch); ``results`` counts each item's answer (``rejected`` is an error). The wall time
    and each server process tree's CPU come from :func:`timed`.
    """

    label: str
    started: float = 0.0
    seconds: float = 0.0
    server_cpu: float = 0.0
    cpu_by_process: dict[str, float] = field(default_factory=dict)
    latencies_ms: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    items: int = 0
    results: Counter[str] = field(default_factory=Counter)
    first_error: str = ""

    @property
    def requests(self) -> int:
        return len(self.latencies_ms)

    @property
    def errors(self) -> int:
        http_errors = sum(n for status, n in self.statuses.items() if not 200 <= status < 300)
        return http_errors + self.results["rejected"]

    def rate(self) -> float:
        """Requests answered per second."""
        return self.requests / self.seconds if self.seconds else 0.0

    def item_rate(self) -> float:
        """Items (``items``) per second."""
        return self.items / self.seconds if self.seconds else 0.0

    def cpu_ms(self, per: int) -> float:
        """The server's CPU in milliseconds per one of ``per`` (requests or items)."""
        return self.server_cpu / per * 1000 if per else 0.0

    def record(self, status: int, latency_ms: float, error: str) -> None:
        """Count one answer; ``error`` describes it if it is the first that is not 2xx.

        The caller holds the phase's lock when clients share it.
        """
        self.statuses[status] += 1
        self.latencies_ms.append(latency_ms)
        if not 200 <= status < 300 and not self.first_error:
            self.first_error = f"{status}: {error}"

    def absorb(self, part: "Phase") -> None:
        """Add a part of this phase, run separately, to its figures."""
        self.seconds += part.seconds
        self.server_cpu += part.server_cpu
        for name, seconds in part.cpu_by_process.items():
            self.cpu_by_process[name] = self.cpu_by_process.get(name, 0.0) + seconds
        self.latencies_ms += part.latencies_ms
        self.statuses.update(part.statuses)
        self.items += part.items
        self.results.update(part.results)
        self.first_error = self.first_error or part.first_error


def timed(
    phase: Phase, threads: Sequence[threading.Thread], servers: Sequence[tuple[str, int | None]]
) -> Phase:
    """Run the client threads; record the wall time and each server process tree's CPU,
    summed by name (every web instance counts as "web")."""
    before = [server_cpu_seconds(pid) for _name, pid in servers]
    phase.started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    phase.seconds = time.perf_counter() - phase.started
    record_cpu(phase, servers, before, [server_cpu_seconds(pid) for _name, pid in servers])
    return phase


def record_cpu(
    phase: Phase,
    servers: Sequence[tuple[str, int | None]],
    before: Sequence[float],
    after: Sequence[float],
) -> None:
    """Each server process tree's CPU between two readings, summed by name (every web
    instance counts as "web"), and their total."""
    phase.cpu_by_process = {}
    for (name, pid), start, end in zip(servers, before, after, strict=True):
        if pid:
            phase.cpu_by_process[name] = phase.cpu_by_process.get(name, 0.0) + end - start
    phase.server_cpu = sum(phase.cpu_by_process.values())


# -- a real server ---------------------------------------------------------------------------

HOST = "127.0.0.1"
START_TIMEOUT_S = 60


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def load_average() -> str:
    """The 1, 5 and 15 minute load averages: printed before and after every timed run."""
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def _process_tree_cpu(root: int) -> float:
    """CPU seconds (user + system) used by ``root`` and its direct children."""
    tick = os.sysconf("SC_CLK_TCK")
    try:
        children = Path(f"/proc/{root}/task/{root}/children").read_text().split()
    except FileNotFoundError:
        return 0.0
    total = 0
    for pid in [str(root), *children]:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:  # a worker or backend that just exited
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
        if pid == str(root):
            # cutime, cstime: children that exited and were reaped (a PostgreSQL backend
            # whose connection closed) still count.
            total += int(fields[13]) + int(fields[14])
    return total / tick


def postgres_postmaster_pid() -> int | None:
    """The pid of the PostgreSQL server behind Django's connection (None on SQLite).

    Its backends are its children, so their CPU is counted with the web server's: without
    them a figure of "CPU per declaration" flatters PostgreSQL.
    """
    from django.db import connection

    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SHOW data_directory")
        data_directory = cursor.fetchone()[0]
    return int((Path(data_directory) / "postmaster.pid").read_text().split()[0])


def server_cpu_seconds(*roots: int | None) -> float:
    """CPU seconds used so far by each process tree named (gunicorn's master, postmaster).

    The machine may be shared: the CPU the server spends per request does not depend on
    what else runs, the wall-clock rate does.
    """
    return sum(_process_tree_cpu(root) for root in roots if root)


def server_environment(**extra: str) -> dict[str, str]:
    """The production profile on the benchmark's database, as a deployment would set it.

    Static files are collected once per benchmark into its temporary directory (production
    serves them from the hashed manifest, and a page without it answers 500).
    """
    env = dict(os.environ)
    env.setdefault("SECRET_KEY", "bench-" + uuid.uuid4().hex * 2)
    env.setdefault("STATIC_ROOT", str(Path(env["MEDIA_ROOT"]).parent / "static"))
    env.update(FANGKONG_ENV="production", ALLOWED_HOSTS=HOST, LOG_LEVEL="WARNING", **extra)
    env.pop("Q_SYNC", None)
    env.pop("DEBUG", None)
    return env


def collect_static(env: dict[str, str]) -> None:
    """Run ``collectstatic`` for the production profile, once (not timed)."""
    if (Path(env["STATIC_ROOT"]) / "staticfiles.json").exists():
        return
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=ROOT,
        env=env,
        check=True,
    )


@contextmanager
def queue_worker(log: Path, env: dict[str, str]) -> Iterator[int]:
    """Run the task queue's worker as production does; yield its pid (for its CPU)."""
    with log.open("wb") as output:
        worker = subprocess.Popen(
            [sys.executable, "manage.py", "run_worker"],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=output,
        )
        try:
            yield worker.pid
        finally:
            worker.terminate()
            worker.wait(timeout=30)


SERVERS = ("gunicorn", "granian")


@contextmanager
def gunicorn(
    *, workers: int, log: Path, options: Sequence[str] = (), env: dict[str, str] | None = None
) -> Iterator[tuple[int, int]]:
    """Run gunicorn on ``config.wsgi`` on a free port; yield the port and the master's pid."""
    with web_server("gunicorn", workers=workers, log=log, options=options, env=env) as server:
        yield server


@contextmanager
def web_server(
    kind: str,
    *,
    workers: int,
    threads: int = 1,
    log: Path,
    options: Sequence[str] = (),
    env: dict[str, str] | None = None,
) -> Iterator[tuple[int, int]]:
    """Run ``config.wsgi`` under gunicorn or granian on a free port; yield the port and the
    master's pid (its process tree holds the workers, for their CPU).

    gunicorn: sync workers, or ``--worker-class gthread`` with ``threads`` in ``options``.
    granian: ``workers`` processes, each running the application in ``threads`` threads
    behind its own HTTP/1.1 server (written in Rust: it parses and answers outside Python).
    """
    port = free_port()
    env = env or server_environment()
    collect_static(env)
    if kind == "gunicorn":
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "config.wsgi",
            f"--bind={HOST}:{port}",
            f"--workers={workers}",
            "--timeout=120",
            "--log-level=warning",
            *options,
        ]
    elif kind == "granian":
        command = [
            sys.executable,
            "-m",
            "granian",
            "--interface=wsgi",
            f"--host={HOST}",
            f"--port={port}",
            f"--workers={workers}",
            f"--blocking-threads={threads}",
            "--http=1",
            "--no-ws",
            "--log-level=warning",
            *options,
            "config.wsgi:application",
        ]
    else:
        raise ValueError(f"unknown server {kind!r}: one of {', '.join(SERVERS)}")
    with log.open("wb") as output:
        server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=output, stderr=output)
        try:
            _wait_until_up(port, server, kind)
            yield port, server.pid
        finally:
            server.terminate()
            server.wait(timeout=30)


def _wait_until_up(port: int, server: "subprocess.Popen[bytes]", kind: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"{kind} exited with {server.returncode}")
        try:
            with socket.create_connection((HOST, port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{kind} did not start")


def print_server_log(log: Path) -> None:
    """Print what the server logged, less whitenoise's note that collectstatic was not run."""
    lines = [
        line
        for line in log.read_text(errors="replace").splitlines()
        if "No directory at" not in line and "mw_instance = middleware" not in line
    ]
    if lines:
        print("server log (last lines):\n" + "\n".join(lines[-10:]))


# -- several instances -----------------------------------------------------------------------


@contextmanager
def web_instances(
    count: int,
    *,
    kind: str = "gunicorn",
    workers: int,
    threads: int = 1,
    log: Path,
    options: Sequence[str] = (),
    env: dict[str, str] | None = None,
) -> Iterator[list[tuple[int, int]]]:
    """Run ``count`` servers (``web_server``) of ``workers`` each, as separate web servers
    behind a proxy would be; yield each one's (port, master pid). Logs go to ``log`` with
    the instance's number appended (``server.log``, ``server-2.log``, …)."""
    from contextlib import ExitStack

    env = env or server_environment()
    with ExitStack() as stack:
        yield [
            stack.enter_context(
                web_server(
                    kind,
                    workers=workers,
                    threads=threads,
                    log=instance_log(log, n),
                    options=options,
                    env=env,
                )
            )
            for n in range(1, count + 1)
        ]


def instance_log(log: Path, number: int) -> Path:
    """The log of instance ``number``: the first keeps ``log``'s name."""
    return log if number == 1 else log.with_name(f"{log.stem}-{number}{log.suffix}")
