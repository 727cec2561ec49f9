"""Copy the WAL back into a SQLite database from a thread of its own, outside any write.

SQLite checkpoints by itself at the COMMIT that makes its write-ahead log reach
``wal_autocheckpoint`` pages, in the committing thread, before the commit returns: the
writers' lock (``base.py``) is still held, so every other writer of the machine waits the
checkpoint out (about 55 ms, with an fsync, once every 1,000 declarations of the morning),
and with them the cores they would have used. A checkpoint needs no write lock: here one
thread per process and database file runs ``PRAGMA wal_checkpoint(PASSIVE)`` every
``settings.SQLITE_CHECKPOINT_SECONDS`` on a connection of its own, while the writers go on.
``wal_autocheckpoint`` stays as the backstop of a burst larger than that (a bulk import).
"""

import logging
import os
import sqlite3
import threading
import time
from contextlib import closing
from urllib.parse import quote

from django.conf import settings

log = logging.getLogger(__name__)

_running: set[tuple[int, str]] = set()  # (process, database file): a fork starts its own
_running_lock = threading.Lock()
# Held while the thread is inside SQLite, and by a fork: a child forked while another
# thread held one of SQLite's own mutexes would hang at its first call (the task queue's
# sentinel forks its workers, and replaces them, while this thread runs in it).
_in_sqlite = threading.Lock()
os.register_at_fork(
    before=_in_sqlite.acquire,
    after_in_parent=_in_sqlite.release,
    after_in_child=_in_sqlite.release,
)


def keep_checkpointing(database: str) -> None:
    """Start the checkpointing thread of ``database`` in this process, once."""
    key = (os.getpid(), str(database))
    with _running_lock:
        if key in _running:
            return
        _running.add(key)
    thread = threading.Thread(
        target=_checkpoint_every,
        args=(str(database), settings.SQLITE_CHECKPOINT_SECONDS),
        name="sqlite-checkpoints",
        daemon=True,  # a process exits without waiting for it; closing checkpoints anyway
    )
    thread.start()


def _checkpoint_every(database: str, seconds: float) -> None:
    while True:
        time.sleep(seconds)
        try:
            with _in_sqlite:
                _checkpoint(database)
        except sqlite3.OperationalError:
            if not os.path.exists(database):  # a throw-away copy (tests, benchmarks) is gone
                with _running_lock:
                    _running.discard((os.getpid(), database))
                return
            log.warning("SQLite checkpoint of %s failed", database, exc_info=True)
        except sqlite3.Error:  # the next turn, or the backstop, will do
            log.warning("SQLite checkpoint of %s failed", database, exc_info=True)


def _checkpoint(database: str) -> None:
    # A connection of its own each time, closed at once: one kept open would keep the WAL
    # from being merged and removed when the process's last other connection closes (as
    # a command's does when it ends), and a copy of the database file alone would miss it.
    # mode=rw: a database removed meanwhile is not created again, empty.
    address = f"file:{quote(database)}?mode=rw"
    with closing(sqlite3.connect(address, uri=True, isolation_level=None)) as connection:
        connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
