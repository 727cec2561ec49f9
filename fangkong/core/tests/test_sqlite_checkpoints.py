"""SQLite's WAL is copied back by a thread of its own (fangkong/core/sqlite/checkpoints.py),
not by the COMMIT that holds the writers' lock."""

import shutil
import sqlite3
import time
from pathlib import Path

import pytest
from django.db import connection

from fangkong.core.audit import audit_record
from fangkong.core.models import AuditLog
from fangkong.core.sqlite.checkpoints import keep_checkpointing

from .parallel import deployed_database


def _rows_in_the_database_file(path: Path, copy: Path) -> int:
    """The rows a reader finds in the database file alone, without its WAL."""
    shutil.copyfile(path, copy)
    with sqlite3.connect(copy) as reader:
        tables = reader.execute("SELECT count(*) FROM sqlite_master WHERE name = 't'").fetchone()
        return reader.execute("SELECT count(*) FROM t").fetchone()[0] if tables[0] else 0


def test_commits_reach_the_database_file_without_an_automatic_checkpoint(tmp_path, settings):
    settings.SQLITE_CHECKPOINT_SECONDS = 0.05
    path, copy = tmp_path / "live.sqlite3", tmp_path / "copy.sqlite3"
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("PRAGMA journal_mode=WAL")
    writer.execute("PRAGMA wal_autocheckpoint=0")  # SQLite itself never copies back
    writer.execute("CREATE TABLE t (n INTEGER)")
    writer.executemany("INSERT INTO t VALUES (?)", [(n,) for n in range(100)])
    # Committed, but only in the WAL: the database file alone has none of it.
    assert _rows_in_the_database_file(path, copy) == 0

    keep_checkpointing(str(path))
    deadline = time.monotonic() + 10
    while _rows_in_the_database_file(path, copy) < 100 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _rows_in_the_database_file(path, copy) == 100
    writer.close()


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's WAL only")
def test_the_sites_connections_start_the_checkpoints(tmp_path, settings):
    settings.SQLITE_CHECKPOINT_SECONDS = 0.05
    with deployed_database(tmp_path):
        with connection.cursor() as cursor:  # a connection of the site's backend
            cursor.execute("PRAGMA wal_autocheckpoint=0")
        audit_record(actor=None, action="copied back")
        path, copy = Path(connection.settings_dict["NAME"]), tmp_path / "copy.sqlite3"
        deadline = time.monotonic() + 10
        while not _audit_rows_in_the_database_file(path, copy) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _audit_rows_in_the_database_file(path, copy) == ["copied back"]


def _audit_rows_in_the_database_file(path: Path, copy: Path) -> list[str]:
    shutil.copyfile(path, copy)
    table = AuditLog._meta.db_table
    with sqlite3.connect(copy) as reader:
        return [action for (action,) in reader.execute(f"SELECT action FROM {table}")]
