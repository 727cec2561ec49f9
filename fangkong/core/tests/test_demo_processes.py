"""`make demo` stops when asked: the web server and the task-queue worker are both gone
within a few seconds of SIGTERM or Ctrl-C, and the worker's log says what it did.

These tests run `make demo` (scripts/demo.sh) for real on a temporary SQLite database and
a free port. They find the demo's processes by their session in /proc: Linux only.
"""

import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import closing, suppress
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings

pytestmark = pytest.mark.skipif(
    not Path("/proc/self/stat").exists(), reason="finds the demo's processes in /proc"
)

STOP_WITHIN_SECONDS = 10
START_WITHIN_SECONDS = 40
TASK_NAME = "demo-stop-check"
# Migrates the database the demo will use and queues one task for its worker.
PREPARE_DATABASE = f"""
from django.core.management import call_command
from django_q.tasks import async_task
call_command("migrate", interactive=False, verbosity=0)
call_command("createcachetable")
async_task("fangkong.core.tasks.queue_heartbeat", task_name="{TASK_NAME}")
from django.db import connection
connection.close()  # writes SQLite's journal back, so a copy of the file has everything
"""


def demo_environment(database: Path, port: int, worker_log: Path) -> dict[str, str]:
    env = {**os.environ, "FANGKONG_ENV": "development", "Q_WORKERS": "1"}
    env.update(
        DATABASE_URL=f"sqlite:///{database}",
        DEMO_PORT=str(port),
        DEMO_WORKER_LOG=str(worker_log),
        DEMO_PYTHON=sys.executable,
    )
    return env


def copy_database(source: Path, target: Path) -> None:
    """Copy through SQLite: what its WAL still holds is copied too."""
    with closing(sqlite3.connect(source)) as original, closing(sqlite3.connect(target)) as copy:
        original.backup(copy)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def live_processes_of_session(session: int) -> list[str]:
    """The processes of a session still running (zombies have already stopped)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            command, fields = stat.read_text().rsplit(")", 1)
        except OSError:
            continue  # ended while we looked
        state, _parent, _group, process_session = fields.split()[:4]
        if int(process_session) == session and state != "Z":
            found.append(f"{stat.parent.name} {command.split('(', 1)[1]}")
    return found


def answers_http(port: int) -> bool:
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2)
    except urllib.error.HTTPError:
        return True  # it answered, even if the queue is not yet healthy
    except OSError:
        return False
    return True


def wait_for(condition: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


@pytest.fixture(scope="module")
def prepared_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    database = tmp_path_factory.mktemp("demo") / "template.sqlite3"
    env = demo_environment(database, 0, database.with_suffix(".log"))
    prepared = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", PREPARE_DATABASE],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
    )
    assert prepared.returncode == 0, prepared.stderr
    return database


@dataclass
class Demo:
    process: subprocess.Popen[bytes]
    port: int
    database: Path
    worker_log: Path

    def worker_log_text(self) -> str:
        return self.worker_log.read_text() if self.worker_log.exists() else ""

    def task_succeeded(self) -> bool:
        with closing(sqlite3.connect(self.database)) as db:
            row = db.execute(
                "SELECT success FROM django_q_task WHERE name = ?", [TASK_NAME]
            ).fetchone()
        return bool(row and row[0])

    def running(self) -> list[str]:
        return live_processes_of_session(self.process.pid)


def demo_command() -> list[str]:
    """`make demo` for real, minus installing, migrating and seeding (PY=true skips them)."""
    if shutil.which("make") is None:
        return ["bash", "scripts/demo.sh"]  # what make would run
    return ["make", "--no-print-directory", "-o", ".venv/.installed", "demo", "PY=true"]


@pytest.fixture
def demo(prepared_database: Path, tmp_path: Path) -> Iterator[Demo]:
    """`make demo` running, its web server answering and its worker done with the task."""
    database, output = tmp_path / "demo.sqlite3", tmp_path / "demo.out"
    copy_database(prepared_database, database)
    port, worker_log = free_port(), tmp_path / "qcluster.log"
    with output.open("wb") as stdout:
        process = subprocess.Popen(
            demo_command(),
            cwd=settings.BASE_DIR,
            env=demo_environment(database, port, worker_log),
            stdin=subprocess.DEVNULL,
            stdout=stdout,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # a session and group of its own, as a terminal's job
        )
    started = Demo(process, port, database, worker_log)
    try:
        ready = wait_for(
            lambda: answers_http(port) and started.task_succeeded(), START_WITHIN_SECONDS
        )
        assert ready, output.read_text() + started.worker_log_text()
        yield started
    finally:  # never leave a server behind, whatever the test found
        for line in started.running():
            with suppress(ProcessLookupError):
                os.kill(int(line.split()[0]), signal.SIGKILL)
        process.wait()


def terminate(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)


def ctrl_c(process: subprocess.Popen[bytes]) -> None:
    os.killpg(process.pid, signal.SIGINT)  # the terminal sends it to the whole group


@pytest.mark.parametrize(
    "stop", [terminate, ctrl_c], ids=["SIGTERM to make demo", "Ctrl-C on make demo"]
)
def test_the_demo_stops_both_processes_and_the_worker_log_says_so(
    demo: Demo, stop: Callable[[subprocess.Popen[bytes]], None]
) -> None:
    assert len(demo.running()) >= 4  # what started them, the web server, the worker, its sentinel

    stop(demo.process)
    gone = wait_for(lambda: not demo.running(), STOP_WITHIN_SECONDS)

    assert gone, f"still running {STOP_WITHIN_SECONDS} s after the signal: {demo.running()}"
    assert demo.process.wait(timeout=1) != 0
    assert not answers_http(demo.port)
    log = demo.worker_log_text()
    assert "worker started" in log
    assert TASK_NAME in log  # the task it ran
    assert "worker got SIGTERM: stopping" in log
    assert log.rstrip().endswith("worker stopped")


def test_the_worker_stops_when_all_its_processes_get_sigterm(
    prepared_database: Path, tmp_path: Path
) -> None:
    """As systemd stops a service by default: django-q2's qcluster then hung for good."""
    database, worker_log = tmp_path / "worker.sqlite3", tmp_path / "worker.log"
    copy_database(prepared_database, database)
    with worker_log.open("wb") as output:
        worker = subprocess.Popen(
            [sys.executable, "manage.py", "run_worker"],
            cwd=settings.BASE_DIR,
            env=demo_environment(database, 0, worker_log),
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        assert wait_for(lambda: "worker started" in worker_log.read_text(), START_WITHIN_SECONDS)

        os.killpg(worker.pid, signal.SIGTERM)

        worker.wait(timeout=STOP_WITHIN_SECONDS)
        assert not live_processes_of_session(worker.pid)
        log = worker_log.read_text()
        assert "worker got SIGTERM: stopping" in log
        assert "worker stopped" in log
    finally:
        with suppress(ProcessLookupError):
            os.killpg(worker.pid, signal.SIGKILL)
        worker.wait()
