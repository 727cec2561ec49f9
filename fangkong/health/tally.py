"""Keep ``DayTally`` exact: every write of current declarations adds its deltas.

A declaration counts in the tally of its day and unit while it is current. Each writer
collects what it adds (new current rows) and takes away (rows superseded or moved), and
``apply`` turns that into one ``INSERT … ON CONFLICT DO UPDATE SET n = n + excluded.n``:
atomic on PostgreSQL under concurrent writers, and the same SQL on SQLite.
"""

import datetime as dt
import functools
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, Q, QuerySet

from fangkong.core.bulk import insert_fields, insert_target, mark_saved, one_row_insert
from fangkong.core.prepared import fetch_all
from fangkong.orgs.models import Person

from . import subtree_tally
from .models import Colour, DayTally, Declaration, PersonLink, Whereabouts

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
# What each declaration contributes, read from these columns (see ``contribution``).
SOURCE_COLUMNS = (
    "day",
    "unit_path",
    "status",
    "whereabouts",
    "flag_fever",
    "flag_symptom",
    "flag_contact",
    "flag_risk_area",
    "flag_positive",
)
Key = tuple[dt.date, str]


def contribution(
    status: str, whereabouts: str, *flags: bool
) -> tuple[int, int, int, int, int, int, int, int, int]:
    """Return one current declaration's counts, in ``COUNTS`` order."""
    abnormal = status != Colour.GREEN
    fever, symptom, contact, risk_area, positive = (int(abnormal and flag) for flag in flags)
    return (
        1,
        int(abnormal),
        fever,
        symptom,
        contact,
        risk_area,
        positive,
        int(whereabouts == Whereabouts.QUARANTINE),
        int(whereabouts == Whereabouts.TRAVELLING),
    )


class Deltas:
    """Counts to add per (day, unit path); ``apply`` writes them in one statement."""

    def __init__(self) -> None:
        self.by_key: dict[Key, list[int]] = defaultdict(lambda: [0] * len(COUNTS))

    def add_row(self, row: Any, *, sign: int = 1, path: str | None = None) -> None:
        """Count a ``SOURCE_COLUMNS`` tuple or a Declaration, optionally under another path."""
        if isinstance(row, Declaration):
            row = tuple(getattr(row, column) for column in SOURCE_COLUMNS)
        day, unit_path, status, whereabouts, *flags = row
        totals = self.by_key[(day, path or unit_path)]
        for index, value in enumerate(contribution(status, whereabouts, *flags)):
            totals[index] += sign * value

    def add_rows(self, rows: Iterable[Any], *, sign: int = 1, path: str | None = None) -> None:
        for row in rows:
            self.add_row(row, sign=sign, path=path)

    def apply(self) -> None:
        # In (day, path) order: concurrent writers lock the tallies, and through the
        # triggers their subtree rows (subtree_tally), in the same order.
        changes = [(key, totals) for key, totals in sorted(self.by_key.items()) if any(totals)]
        if changes:
            _upsert(changes)
        self.by_key.clear()


def insert_counted_through_link(row: Declaration, *, link_key: str) -> bool:
    """The phone's first declaration of the day, the link's read inside the write.

    The row is INSERTed for the active person of the live link ``link_key`` if that person
    has no declaration of ``row.day`` yet, and counted in its day's tally; the row then
    gets its key, person and path. False when nothing was stored (no such link, or the day
    already has declarations); a violated constraint raises as usual. PostgreSQL does it
    in one statement (a data-modifying WITH); SQLite, which has none, INSERTs from the
    link and then counts, the two in a transaction: every value is prepared before it
    begins, so its write lock is held for the two statements alone.
    """
    deltas = Deltas()
    deltas.add_row(row)
    [((day, _path), totals)] = deltas.by_key.items()
    _insert, values = one_row_insert(row)
    fields = insert_fields(Declaration)
    own = [
        value
        for field, value in zip(fields, values, strict=True)
        if field.attname not in _LINK_COLUMNS_OF_ROW
    ]
    day_value, _path, *counts = _tally_params(day, "", totals)
    if connection.vendor == "postgresql":
        found = fetch_all(
            connection, _counted_link_insert_sql(), [link_key, day_value, *own, day_value, *counts]
        )
    else:
        with transaction.atomic():
            found = fetch_all(connection, _link_insert_sql(), [link_key, day_value, *own])
            if found:
                [(_pk, _person, unit_path)] = found
                upsert = _upsert_sql(1, connection.vendor)
                fetch_all(connection, upsert, [day_value, unit_path, *counts])
    if not found:
        return False
    [(pk, person_id, unit_path)] = found
    row.person_id, row.unit_path = person_id, unit_path
    mark_saved(row, pk)
    return True


# The declaration's columns that come from the link's person in the statements below.
_LINK_COLUMNS_OF_ROW = ("person_id", "unit_path")


def _column(model: Any, name: str) -> str:
    return connection.ops.quote_name(model._meta.get_field(name).column)


# Identifiers come from the models, values are parameters.
@functools.cache
def _link_insert_sql() -> str:
    """``WITH link AS (…) INSERT … SELECT … FROM link RETURNING pk, person, path``."""
    returned = ", ".join(_column(Declaration, name) for name in ("id", "person", "unit_path"))
    link, insert = _live_link_without_the_day(), _insert_from_link()
    return f"WITH link AS ({link}) {insert} RETURNING {returned}"


@functools.cache
def _counted_link_insert_sql() -> str:
    """PostgreSQL: the INSERT from the link as a data-modifying WITH, and the tally's
    upsert of what it returned, in one statement that returns the key, person and path."""
    names = [_column(Declaration, name) for name in ("id", "person", "unit_path")]
    tally_fields = [DayTally._meta.get_field(name) for name in ("day", "unit_path", *COUNTS)]
    counts = ", ".join(["%s", f"new.{names[2]}", *(["%s"] * len(COUNTS))])
    tally_target = insert_target(DayTally, tally_fields, connection)
    returned = ", ".join(f"(SELECT {name} FROM new)" for name in names)  # noqa: S608
    return (
        f"WITH link AS ({_live_link_without_the_day()}),"  # noqa: S608
        f" new AS ({_insert_from_link()} RETURNING {', '.join(names)})"
        f" INSERT INTO {tally_target} SELECT {counts} FROM new {_counted_on_conflict()}"
        f" RETURNING {returned}"
    )


def _live_link_without_the_day() -> str:
    """The person of the live link (key: first parameter) if active and with no declaration
    of the day (second parameter): one row or none."""
    qn = connection.ops.quote_name
    links, people, declarations = (qn(m._meta.db_table) for m in (PersonLink, Person, Declaration))
    person_id, path = _column(Person, "id"), _column(Person, "unit_path")
    return (
        f"SELECT p.{person_id} AS person_id, p.{path} AS unit_path FROM {links} l"  # noqa: S608
        f" JOIN {people} p ON p.{person_id} = l.{_column(PersonLink, 'person')}"
        f" WHERE l.{_column(PersonLink, 'key')} = %s"
        f" AND l.{_column(PersonLink, 'revoked_at')} IS NULL AND p.{_column(Person, 'is_active')}"
        f" AND NOT EXISTS (SELECT 1 FROM {declarations} d"
        f" WHERE d.{_column(Declaration, 'person')} = p.{person_id}"
        f" AND d.{_column(Declaration, 'day')} = %s)"
    )


def _insert_from_link() -> str:
    """The declaration's INSERT: the person and path from ``link``, the rest parameters."""
    qn = connection.ops.quote_name
    fields = insert_fields(Declaration)
    selected = ", ".join(
        f"link.{qn(field.attname)}" if field.attname in _LINK_COLUMNS_OF_ROW else "%s"
        for field in fields
    )
    target = insert_target(Declaration, fields, connection)
    return f"INSERT INTO {target} SELECT {selected} FROM link"  # noqa: S608


def current_rows(declarations: QuerySet[Declaration]) -> list[tuple[Any, ...]]:
    """Return the ``SOURCE_COLUMNS`` of the current rows among ``declarations``."""
    return list(declarations.filter(is_current=True).order_by().values_list(*SOURCE_COLUMNS))


def _upsert(changes: list[tuple[Key, list[int]]]) -> None:
    for start in range(0, len(changes), 500):
        chunk = changes[start : start + 500]
        params: list[Any] = []
        for (day, path), totals in chunk:
            params += _tally_params(day, path, totals)
        if len(chunk) == 1:  # a form's or a correction's: one statement of the same text
            fetch_all(connection, _upsert_sql(1, connection.vendor), params)
            continue
        with connection.cursor() as cursor:
            cursor.execute(_upsert_sql(len(chunk), connection.vendor), params)


def _tally_params(day: dt.date, path: str, totals: list[int]) -> list[Any]:
    """One tally row's values, in the upsert's column order."""
    day_field: Any = DayTally._meta.get_field("day")
    return [day_field.get_db_prep_save(day, connection), path, *totals]


_UPSERTS: dict[tuple[int, str], str] = {}


def _counted_on_conflict() -> str:
    """A tally row that exists already adds the new counts to its own."""
    table = connection.ops.quote_name(DayTally._meta.db_table)
    increments = ", ".join(
        f"{name} = {table}.{name} + excluded.{name}"
        for name in map(connection.ops.quote_name, COUNTS)
    )
    return f"ON CONFLICT (day, unit_path) DO UPDATE SET {increments}"


def _upsert_sql(rows: int, vendor: str) -> str:
    """The upsert of ``rows`` tallies, built once per size and vendor (the phone's submit
    writes one)."""
    sql = _UPSERTS.get((rows, vendor))
    if sql is None:
        fields = [DayTally._meta.get_field(name) for name in ("day", "unit_path", *COUNTS)]
        placeholders = "(" + ", ".join(["%s"] * len(fields)) + ")"
        # Identifiers come from the model, values are parameters.
        values = ", ".join([placeholders] * rows)
        target = insert_target(DayTally, fields, connection)
        sql = f"INSERT INTO {target} VALUES {values} {_counted_on_conflict()}"  # noqa: S608
        if rows <= 16:  # the small ones repeat; a batch's long text is not worth keeping
            _UPSERTS[(rows, vendor)] = sql
    return sql


@transaction.atomic
def rebuild(days: Iterable[dt.date]) -> int:
    """Recount the tallies of ``days`` from the declarations (bulk loads, repairs)."""
    days = sorted(set(days))
    DayTally.objects.filter(day__in=days).delete()
    abnormal = ~Q(status=Colour.GREEN)
    grouped = (
        Declaration.objects.filter(is_current=True, day__in=days)
        .values("day", "unit_path")
        .annotate(
            declared=Count("id"),
            abnormal=Count("id", filter=abnormal),
            fever=Count("id", filter=abnormal & Q(flag_fever=True)),
            symptom=Count("id", filter=abnormal & Q(flag_symptom=True)),
            contact=Count("id", filter=abnormal & Q(flag_contact=True)),
            risk_area=Count("id", filter=abnormal & Q(flag_risk_area=True)),
            positive=Count("id", filter=abnormal & Q(flag_positive=True)),
            quarantine=Count("id", filter=Q(whereabouts=Whereabouts.QUARANTINE)),
            returnees=Count("id", filter=Q(whereabouts=Whereabouts.TRAVELLING)),
        )
        .order_by()
    )
    rows = [DayTally(**row) for row in grouped]
    DayTally.objects.bulk_create(rows, batch_size=5000)
    return len(rows)


def differences(days: Iterable[dt.date]) -> list[str]:
    """Describe where the stored tallies disagree with a recount (empty when exact), and
    where the subtree rows disagree with the tallies (``subtree_tally``)."""
    days = list(days)
    stored = {
        (row["day"], row["unit_path"]): tuple(row[name] for name in COUNTS)
        for row in DayTally.objects.filter(day__in=list(days)).values("day", "unit_path", *COUNTS)
    }
    recount: dict[Key, list[int]] = defaultdict(lambda: [0] * len(COUNTS))
    deltas = Deltas()
    deltas.add_rows(current_rows(Declaration.objects.filter(day__in=list(days))))
    recount.update(deltas.by_key)
    keys = set(stored) | set(recount)
    zero = tuple([0] * len(COUNTS))
    found = []
    for key in sorted(keys):
        kept, counted = stored.get(key, zero), tuple(recount[key])
        if kept != counted:
            found.append(f"{key[0]} {key[1]}: stored {kept}, counted {counted}")
    return found + subtree_tally.differences(days)
