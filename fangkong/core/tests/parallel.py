"""Run work in parallel threads against a database that behaves like a deployed one.

The SQLite test database lives in memory with a shared cache, where a writer makes other
connections fail at once ("database table is locked") instead of waiting: no deployment
runs like that. ``deployed_database`` copies it into a file for the duration, so threads
meet SQLite as the demo and small sites run it (WAL, busy timeout). PostgreSQL's test
database is already the real thing and is used as it is.
"""

import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.backends.sqlite3.creation import DatabaseCreation

_file_settings: dict[str, Any] = {}


def _connect_to_the_file() -> None:
    """Give this thread a connection to the file copy (the in-memory one stays open)."""
    if _file_settings:
        wrapper = type(connections[DEFAULT_DB_ALIAS])
        connections[DEFAULT_DB_ALIAS] = wrapper(dict(_file_settings), DEFAULT_DB_ALIAS)


@contextmanager
def deployed_database(directory: Path) -> Iterator[None]:
    """Inside the block, this thread and ``in_parallel``'s threads use a file copy."""
    name = connection.settings_dict["NAME"]
    if connection.vendor != "sqlite" or not DatabaseCreation.is_in_memory_db(name):
        yield
        return
    memory = connections[DEFAULT_DB_ALIAS]
    memory.ensure_connection()
    path = directory / "parallel.sqlite3"
    with sqlite3.connect(path) as target:
        memory.connection.backup(target)
        # Switch the copy to WAL once, here: threads connecting together would otherwise
        # race to convert it, and the losers fail with "database is locked".
        target.execute("PRAGMA journal_mode=WAL")
    _file_settings.update(memory.settings_dict, NAME=str(path))
    _connect_to_the_file()
    try:
        yield
    finally:
        connections[DEFAULT_DB_ALIAS].close()
        connections[DEFAULT_DB_ALIAS] = memory
        _file_settings.clear()


def in_parallel(threads: int, work: Callable[[int], Any]) -> list[Any]:
    """Run ``work(n)`` in ``threads`` threads released at once; return what each returned."""
    results: list[Any] = [None] * threads
    errors: list[BaseException] = []
    start = threading.Barrier(threads)

    def run(n: int) -> None:
        _connect_to_the_file()
        try:
            start.wait()
            results[n] = work(n)
        except BaseException as exc:  # re-raised in the caller's thread
            errors.append(exc)
        finally:
            connection.close()

    workers = [threading.Thread(target=run, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    if errors:
        raise errors[0]
    return results
