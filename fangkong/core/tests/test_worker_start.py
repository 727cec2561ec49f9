"""/healthz is green as soon as the worker has started, not after its first scheduled beat.

Runs `manage.py run_worker` for real on a freshly migrated SQLite database (no task is
queued, so only the worker's own start can record the beat).
"""

import os
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import closing, suppress
from pathlib import Path

import pytest
from django.conf import settings

pytestmark = pytest.mark.skipif(os.name != "posix", reason="signals a process group")

BEAT_WITHIN_SECONDS = 15  # the scheduler's first round would come after about 30


def environment(database: Path) -> dict[str, str]:
    return {
        **os.environ,
        "FANGKONG_ENV": "development",
        "Q_WORKERS": "1",
        "DATABASE_URL": f"sqlite:///{database}",
    }


def heartbeat(database: Path) -> str | None:
    with closing(sqlite3.connect(database)) as db:
        row = db.execute("SELECT beat_at FROM core_queueheartbeat").fetchone()
    return row[0] if row else None


def test_the_worker_beats_when_it_starts(tmp_path: Path) -> None:
    database, log = tmp_path / "worker.sqlite3", tmp_path / "worker.log"
    env = environment(database)
    migrate = [sys.executable, "manage.py", "migrate", "--verbosity=0"]
    prepared = subprocess.run(
        migrate, cwd=settings.BASE_DIR, env=env, capture_output=True, text=True
    )
    assert prepared.returncode == 0, prepared.stderr
    assert heartbeat(database) is None

    with log.open("wb") as output:
        worker = subprocess.Popen(
            [sys.executable, "manage.py", "run_worker"],
            cwd=settings.BASE_DIR,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + BEAT_WITHIN_SECONDS
        while heartbeat(database) is None and time.monotonic() < deadline:
            time.sleep(0.2)
        assert heartbeat(database) is not None, log.read_text()
    finally:
        with suppress(ProcessLookupError):
            os.killpg(worker.pid, signal.SIGTERM)
        try:
            worker.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()
