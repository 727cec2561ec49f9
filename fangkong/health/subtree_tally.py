"""Day tallies summed per subtree near the top of the tree, kept by the database.

``DayTally`` holds one row per unit and day; the group's roll-up and its 30-day trend summed
every unit's row (15,000 a day at seeds scale, 450,000 for a month of history). A
``SubtreeTally`` row holds the counts of a unit ``BUCKET_DEPTH`` levels below the root
(an enterprise) and of its whole subtree; a unit above that level keeps a row of its own
counts. Summing them over a range therefore gives the subtree of any unit at most
``BUCKET_DEPTH`` levels deep: the group, a segment, an enterprise (548 rows a day for the
group instead of 15,000). Deeper units read ``DayTally`` as before.

Triggers on ``health_daytally`` add every change of a day tally to its subtree's row in the
same statement, so no write can miss it (the declaration's upsert, ``tally.rebuild``, a
unit move's path rewrite, a merge). SQLite drops a table's triggers when a migration
rebuilds it: a migration that alters ``DayTally`` on SQLite must call :func:`install`
again (a test checks the triggers after every migration).
"""

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.db import connection as default_connection

from fangkong.core.paths import SEPARATOR

# The subtrees of the units this many levels below the root (0) have a row each.
BUCKET_DEPTH = 2
COUNTS = (
    "declared",
    "abnormal",
    "fever",
    "symptom",
    "contact",
    "risk_area",
    "positive",
    "quarantine",
    "returnees",
)
_TABLE = "health_subtreetally"


def depth(path: str) -> int:
    """The depth of the unit at ``path`` ("/1/" is the root, 0)."""
    return path.count(SEPARATOR) - 2


def bucket_path(path: str) -> str:
    """The path of the row that counts a unit's tally: its ancestor ``BUCKET_DEPTH`` levels
    below the root, or the unit itself when it lies above that level."""
    ids = path.strip(SEPARATOR).split(SEPARATOR)
    return SEPARATOR + SEPARATOR.join(ids[: BUCKET_DEPTH + 1]) + SEPARATOR


def serves(path: str) -> bool:
    """Tell whether the subtree rows sum the subtree of the unit at ``path`` exactly."""
    return depth(path) <= BUCKET_DEPTH


def serves_children(path: str) -> bool:
    """Tell whether the subtree rows sum each child of the unit at ``path`` exactly."""
    return depth(path) < BUCKET_DEPTH


def _sqlite_bucket(path: str) -> str:
    """``bucket_path`` in SQLite's SQL: the end of the path up to its (BUCKET_DEPTH + 2)th
    separator, each found after the previous one (``instr`` answers 0 past the end)."""
    end = "1"  # the leading separator
    for _level in range(BUCKET_DEPTH + 1):
        end = f"({end} + instr(substr({path}, {end} + 1), '/'))"
    return f"substr({path}, 1, {end})"


def _postgres_bucket(path: str) -> str:
    return f"substring({path} from '^/(?:[^/]+/){{0,{BUCKET_DEPTH + 1}}}')"


def _upsert(day: str, bucket: str, values: list[str]) -> str:
    columns = ", ".join(COUNTS)
    increments = ", ".join(f"{name} = {_TABLE}.{name} + excluded.{name}" for name in COUNTS)
    return (
        f"INSERT INTO {_TABLE} (day, unit_path, {columns}) "
        f"SELECT {day}, {bucket}, {', '.join(values)} WHERE true "
        f"ON CONFLICT (day, unit_path) DO UPDATE SET {increments};"
    )


def _sqlite_triggers() -> dict[str, str]:
    def add(row: str, sign: str) -> str:
        values = [f"{sign}{row}.{name}" for name in COUNTS]
        return _upsert(f"{row}.day", _sqlite_bucket(f"{row}.unit_path"), values)

    on = "ON health_daytally BEGIN"
    return {
        "health_subtree_tally_insert": f"AFTER INSERT {on} {add('NEW', '')} END",
        "health_subtree_tally_delete": f"AFTER DELETE {on} {add('OLD', '-')} END",
        "health_subtree_tally_update": f"AFTER UPDATE {on} {add('OLD', '-')} {add('NEW', '')} END",
    }


def _postgres_statements() -> list[str]:
    old, new = _postgres_bucket("OLD.unit_path"), _postgres_bucket("NEW.unit_path")
    changed = [f"NEW.{name} - OLD.{name}" for name in COUNTS]
    return [
        f"""CREATE OR REPLACE FUNCTION health_subtree_tally() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'UPDATE' AND OLD.day = NEW.day AND {old} = {new} THEN
                {_upsert("NEW.day", new, changed)}
                RETURN NULL;
            END IF;
            IF TG_OP <> 'INSERT' THEN
                {_upsert("OLD.day", old, [f"-OLD.{name}" for name in COUNTS])}
            END IF;
            IF TG_OP <> 'DELETE' THEN
                {_upsert("NEW.day", new, [f"NEW.{name}" for name in COUNTS])}
            END IF;
            RETURN NULL;
        END $$""",
        """CREATE OR REPLACE TRIGGER health_subtree_tally
        AFTER INSERT OR UPDATE OR DELETE ON health_daytally
        FOR EACH ROW EXECUTE FUNCTION health_subtree_tally()""",
    ]


def install(connection: Any = default_connection) -> None:
    """Create the triggers (again) and recount every subtree row from the day tallies."""
    postgres = connection.vendor == "postgresql"
    bucket = _postgres_bucket("unit_path") if postgres else _sqlite_bucket("unit_path")
    sums = ", ".join(f"sum({name})" for name in COUNTS)
    with connection.cursor() as cursor:
        if postgres:
            for statement in _postgres_statements():
                cursor.execute(statement)
        else:
            for name, body in _sqlite_triggers().items():
                cursor.execute(f"DROP TRIGGER IF EXISTS {name}")
                cursor.execute(f"CREATE TRIGGER {name} {body}")
        cursor.execute(f"DELETE FROM {_TABLE}")  # noqa: S608
        cursor.execute(
            f"INSERT INTO {_TABLE} (day, unit_path, {', '.join(COUNTS)}) "  # noqa: S608
            f"SELECT day, {bucket}, {sums} FROM health_daytally GROUP BY day, {bucket}"
        )


def uninstall(connection: Any = default_connection) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("DROP TRIGGER IF EXISTS health_subtree_tally ON health_daytally")
            cursor.execute("DROP FUNCTION IF EXISTS health_subtree_tally()")
        else:
            for name in _sqlite_triggers():
                cursor.execute(f"DROP TRIGGER IF EXISTS {name}")


def installed(connection: Any = default_connection) -> set[str]:
    """The names of the subtree-tally triggers present on the day tallies."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT tgname FROM pg_trigger WHERE tgrelid = 'health_daytally'::regclass "
                "AND tgname LIKE 'health_subtree_tally%%'"
            )
        else:
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' "
                "AND tbl_name = 'health_daytally' AND name LIKE 'health_subtree_tally%'"
            )
        return {row[0] for row in cursor.fetchall()}


def differences(days: Iterable[dt.date]) -> list[str]:
    """Describe where the subtree rows disagree with the day tallies summed per subtree."""
    from .models import DayTally, SubtreeTally

    days = list(days)
    expected: dict[tuple[dt.date, str], list[int]] = defaultdict(lambda: [0] * len(COUNTS))
    for day, path, *counts in DayTally.objects.filter(day__in=days).values_list(
        "day", "unit_path", *COUNTS
    ):
        sums = expected[day, bucket_path(path)]
        for index, value in enumerate(counts):
            sums[index] += value
    stored = {
        (day, path): list(counts)
        for day, path, *counts in SubtreeTally.objects.filter(day__in=days).values_list(
            "day", "unit_path", *COUNTS
        )
    }
    zero = [0] * len(COUNTS)
    return [
        f"{day} {path}: subtree row {stored.get((day, path), zero)}, "
        f"day tallies {expected.get((day, path), zero)}"
        for day, path in sorted(stored.keys() | expected.keys())
        if stored.get((day, path), zero) != expected.get((day, path), zero)
    ]
