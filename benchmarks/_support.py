"""Shared plumbing for the benchmarks: a throw-away database, Django set-up, reporting.

Not a benchmark itself (``scripts/bench.sh`` skips files starting with ``_``). A benchmark
starts with ``from _support import ...``: importing this module puts the repository on
``sys.path`` and names the settings. Call :func:`throwaway_database` before anything
imports Django models, then :func:`setup_django`.
"""

import json
import os
import platform
import sqlite3
import statistics
import sys
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
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
    """Run the queue inline (test profile) and keep uploads out of the repository."""
    os.environ["FANGKONG_ENV"] = "test"
    os.environ["Q_SYNC"] = "1"
    os.environ["MEDIA_ROOT"] = str(workdir / "media")
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
    """Describe the machine in one line: CPUs, memory, Python."""
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{os.cpu_count()} CPUs, {memory:.0f} GiB RAM, Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}"
    )


def percentile(samples: list[float], fraction: float) -> float:
    """Return the ``fraction`` quantile of ``samples`` (inclusive method)."""
    if len(samples) == 1:
        return samples[0]
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return cuts[round(fraction * 100) - 1]


def emit(result: dict[str, Any]) -> None:
    """Print the machine-readable result as the last line of stdout."""
    print(json.dumps(result, ensure_ascii=False), flush=True)
