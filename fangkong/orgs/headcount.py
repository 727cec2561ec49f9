"""Head-counts per unit, kept exact by triggers on the people table (``UnitHeadcount``).

A trigger runs inside the statement that writes people, so no write can miss it: services,
the import's COPY and prepared inserts, ``bulk_create``, a unit move's path rewrite, a
test's ``Person.objects.create``. On PostgreSQL the triggers run once per statement over
its transition tables (a 170,000-row COPY is one grouped upsert); SQLite has row triggers
only, each one indexed upsert.

SQLite drops a table's triggers when a migration rebuilds the table: a migration that
alters ``orgs.Person`` on SQLite must call :func:`install` again (a test checks that the
triggers exist after every migration).
"""

from typing import Any

from django.db import connection as default_connection
from django.db.models import Count

SQLITE_TRIGGERS = {
    "orgs_person_headcount_insert": """
        AFTER INSERT ON orgs_person WHEN NEW.is_active BEGIN
            INSERT INTO orgs_unitheadcount (unit_path, n) VALUES (NEW.unit_path, 1)
            ON CONFLICT (unit_path) DO UPDATE SET n = n + 1;
        END""",
    "orgs_person_headcount_delete": """
        AFTER DELETE ON orgs_person WHEN OLD.is_active BEGIN
            UPDATE orgs_unitheadcount SET n = n - 1 WHERE unit_path = OLD.unit_path;
        END""",
    "orgs_person_headcount_leave": """
        AFTER UPDATE OF unit_path, is_active ON orgs_person
        WHEN OLD.is_active AND (NOT NEW.is_active OR NEW.unit_path <> OLD.unit_path) BEGIN
            UPDATE orgs_unitheadcount SET n = n - 1 WHERE unit_path = OLD.unit_path;
        END""",
    "orgs_person_headcount_join": """
        AFTER UPDATE OF unit_path, is_active ON orgs_person
        WHEN NEW.is_active AND (NOT OLD.is_active OR NEW.unit_path <> OLD.unit_path) BEGIN
            INSERT INTO orgs_unitheadcount (unit_path, n) VALUES (NEW.unit_path, 1)
            ON CONFLICT (unit_path) DO UPDATE SET n = n + 1;
        END""",
}

# One function per event; each upserts the statement's changes grouped by path, in path
# order (concurrent writers lock the rows in the same order).
_POSTGRES_CHANGES = {
    "insert": "SELECT unit_path, count(*) FROM added WHERE is_active GROUP BY unit_path",
    "delete": "SELECT unit_path, -count(*) FROM removed WHERE is_active GROUP BY unit_path",
    "update": """
        SELECT unit_path, sum(d) FROM (
            SELECT unit_path, -1 AS d FROM removed WHERE is_active
            UNION ALL SELECT unit_path, 1 FROM added WHERE is_active
        ) AS moves GROUP BY unit_path HAVING sum(d) <> 0""",
}
_POSTGRES_TABLES = {
    "insert": "NEW TABLE AS added",
    "delete": "OLD TABLE AS removed",
    "update": "OLD TABLE AS removed NEW TABLE AS added",
}


def _postgres_statements() -> list[str]:
    statements = []
    for event, changes in _POSTGRES_CHANGES.items():
        function = f"orgs_person_headcount_{event}"
        statements.append(
            f"""CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                INSERT INTO orgs_unitheadcount (unit_path, n) {changes} ORDER BY 1
                ON CONFLICT (unit_path) DO UPDATE SET n = orgs_unitheadcount.n + excluded.n;
                RETURN NULL;
            END $$"""
        )
        statements.append(
            f"""CREATE OR REPLACE TRIGGER {function} AFTER {event.upper()} ON orgs_person
            REFERENCING {_POSTGRES_TABLES[event]} FOR EACH STATEMENT
            EXECUTE FUNCTION {function}()"""
        )
    return statements


def install(connection: Any = default_connection) -> None:
    """Create the triggers (again) and recount every unit from the people table."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            for statement in _postgres_statements():
                cursor.execute(statement)
        else:
            for name, body in SQLITE_TRIGGERS.items():
                cursor.execute(f"DROP TRIGGER IF EXISTS {name}")
                cursor.execute(f"CREATE TRIGGER {name} {body}")
        cursor.execute("DELETE FROM orgs_unitheadcount")
        cursor.execute(
            "INSERT INTO orgs_unitheadcount (unit_path, n) "
            "SELECT unit_path, count(*) FROM orgs_person WHERE is_active GROUP BY unit_path"
        )


def uninstall(connection: Any = default_connection) -> None:
    with connection.cursor() as cursor:
        for event in _POSTGRES_CHANGES if connection.vendor == "postgresql" else ():
            cursor.execute(f"DROP TRIGGER IF EXISTS orgs_person_headcount_{event} ON orgs_person")
            cursor.execute(f"DROP FUNCTION IF EXISTS orgs_person_headcount_{event}()")
        for name in SQLITE_TRIGGERS if connection.vendor != "postgresql" else ():
            cursor.execute(f"DROP TRIGGER IF EXISTS {name}")


def installed(connection: Any = default_connection) -> set[str]:
    """The names of the head-count triggers present on the people table."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT tgname FROM pg_trigger WHERE tgrelid = 'orgs_person'::regclass "
                "AND tgname LIKE 'orgs_person_headcount_%%'"
            )
        else:
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' "
                "AND tbl_name = 'orgs_person' AND name LIKE 'orgs_person_headcount_%'"
            )
        return {row[0] for row in cursor.fetchall()}


def differences() -> dict[str, tuple[int, int]]:
    """Paths whose kept count differs from a recount: path → (kept, counted). Empty is right."""
    from .models import Person, UnitHeadcount

    kept = dict(UnitHeadcount.objects.exclude(n=0).values_list("unit_path", "n"))
    counted = dict(
        Person.objects.filter(is_active=True)
        .values("unit_path")
        .annotate(n=Count("id"))
        .order_by()
        .values_list("unit_path", "n")
    )
    return {
        path: (kept.get(path, 0), counted.get(path, 0))
        for path in kept.keys() | counted.keys()
        if kept.get(path, 0) != counted.get(path, 0)
    }
