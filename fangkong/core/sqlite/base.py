"""Django's SQLite backend, with writers that queue on a file lock instead of sleeping.

SQLite lets one connection write at a time. A connection that finds the write lock taken
runs its busy handler, which sleeps 1, 2, 5, 10 ms ... and tries again: a transaction of
the phone's submit holds the lock for well under a millisecond, so under the morning's
load most of those sleeps outlast it, and the CPU idles while the lock is free (measured
with 2 workers × 2 threads: 0.4 busy sleeps per declaration, 18 % of the two cores idle).

Here every transaction of a database file first takes an exclusive ``flock`` on a file
beside it (``<database>-writers.lock``), then begins (``BEGIN IMMEDIATE``, the settings'
``transaction_mode``), and lets the lock go when it commits, rolls back or closes. A
writer that finds it taken tries again after 0.05, 0.1, 0.2 ... ms, at most 1 ms apart
(a kernel wait with no time limit measured the same), and gives up after
``settings.SQLITE_BUSY_SECONDS`` with "database is locked", as SQLite would: a stuck
transaction makes writes fail, not every thread of every process wait. The lock is taken
per connection (each has its own open file), so it orders the threads of a process as
well as the processes of a machine; SQLite's own lock still guards the database, and its
busy handler still serves any write made outside a transaction.

An in-memory database (the tests') has one connection per process: it takes no lock.

A connection to a database file also starts that file's checkpointing thread in its
process (``checkpoints.py``): SQLite's automatic checkpoint runs inside the COMMIT, while
the writers' lock is held.
"""

import fcntl
import os
import time
from typing import Any

from django.conf import settings
from django.db import OperationalError
from django.db.backends.sqlite3 import base

from .checkpoints import keep_checkpointing

_FIRST_WAIT, _LONGEST_WAIT = 0.000_05, 0.001  # seconds between tries


def writers_lock_path(database: Any) -> str:
    return f"{database}-writers.lock"


class DatabaseWrapper(base.DatabaseWrapper):
    _writers_lock: int | None = None  # the lock file, open while the connection is
    _writing = False  # the lock is held (a transaction is open)

    def get_new_connection(self, conn_params: Any) -> Any:
        connection = super().get_new_connection(conn_params)
        if not self.is_in_memory_db() and settings.SQLITE_CHECKPOINT_SECONDS:
            keep_checkpointing(self.settings_dict["NAME"])
        return connection

    def _start_transaction_under_autocommit(self) -> None:
        if self.is_in_memory_db():
            super()._start_transaction_under_autocommit()  # type: ignore[misc]
            return
        if self._writers_lock is None:
            path = writers_lock_path(self.settings_dict["NAME"])
            self._writers_lock = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o660)
        _take(self._writers_lock, seconds=settings.SQLITE_BUSY_SECONDS)
        self._writing = True
        try:
            super()._start_transaction_under_autocommit()  # type: ignore[misc]
        except BaseException:
            self._done_writing()
            raise

    def _commit(self) -> None:
        try:
            super()._commit()  # type: ignore[misc]
        finally:
            self._done_writing()

    def _rollback(self) -> None:
        try:
            super()._rollback()  # type: ignore[misc]
        finally:
            self._done_writing()

    def _close(self) -> None:
        try:
            super()._close()  # type: ignore[misc]
        finally:
            self._done_writing()
            if self._writers_lock is not None:
                os.close(self._writers_lock)
                self._writers_lock = None

    def _done_writing(self) -> None:
        if self._writing:
            self._writing = False
            fcntl.flock(self._writers_lock, fcntl.LOCK_UN)  # type: ignore[arg-type]


def _take(lock: int, *, seconds: float) -> None:
    """Take the writers' lock, trying again ever less often; give up after ``seconds``."""
    wait, deadline = _FIRST_WAIT, time.monotonic() + seconds
    while True:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() >= deadline:
                raise OperationalError("database is locked") from None
            time.sleep(wait)
            wait = min(2 * wait, _LONGEST_WAIT)
