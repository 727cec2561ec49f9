"""Insert many new rows fast: values prepared column by column by their model fields.

``insert_returning_pks`` inserts model instances and sets their ids (an API answers with
them); the people import (``orgs.importing``) writes dicts with ``COPY`` or ``executemany``.
Both prepare values with ``db_column`` and name the table with ``insert_target``.
"""

from collections.abc import Sequence
from functools import cache
from itertools import chain
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Model
from django.utils import timezone

from .prepared import fetch_all

# Field types whose database value is the Python value itself when that is exactly a str,
# bool, int or None (what their get_db_prep_save returns). Exactly: a TextChoices member is a
# str too, but a driver may dump an enum by its name.
_PASS_THROUGH = frozenset(
    {
        "BooleanField",
        "CharField",
        "SlugField",
        "TextField",
        "ForeignKey",
        "IntegerField",
        "BigIntegerField",
        "SmallIntegerField",
        "PositiveIntegerField",
        "PositiveSmallIntegerField",
    }
)
_PLAIN_TYPES = (str, bool, int, type(None))


def insert_fields(model: type[Model]) -> list[Any]:
    """Return the fields an INSERT of new ``model`` rows sets: every column but the key."""
    return list(_insert_fields(model))


@cache
def _insert_fields(model: type[Model]) -> tuple[Any, ...]:
    return tuple(field for field in model._meta.concrete_fields if not field.primary_key)


def insert_target(model: type[Model], fields: Sequence[Any], connection: Any) -> str:
    """Return ``table (column, …)`` quoted for ``connection``, for INSERT INTO or COPY.

    Built once per model, field list and database vendor: the phone's submit inserts one
    row at a time.
    """
    key = (model, tuple(map(id, fields)), connection.vendor)
    target = _TARGETS.get(key)
    if target is None:
        quote = connection.ops.quote_name
        columns = ", ".join(quote(field.column) for field in fields)
        target = _TARGETS[key] = f"{quote(model._meta.db_table)} ({columns})"
    return target


_TARGETS: dict[tuple[Any, ...], str] = {}


# Per field, by identity (a field's own hash is costly, and these are asked per value
# column of every insert).
_THROUGH: dict[int, bool] = {}
_AUTO: dict[int, bool] = {}


def _passes_through(field: Any) -> bool:
    through = _THROUGH.get(id(field))
    if through is None:
        through = _THROUGH[id(field)] = field.get_internal_type() in _PASS_THROUGH
    return through


def _is_auto(field: Any) -> bool:
    auto = _AUTO.get(id(field))
    if auto is None:
        auto = _AUTO[id(field)] = bool(
            getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)
        )
    return auto


def db_column(field: Any, values: list[Any], connection: Any) -> list[Any]:
    """Return one column's Python ``values`` as database values, prepared by ``field``.

    Skip the per-value call where it would return the values unchanged: it was most of the
    preparing time of a wide batch. Otherwise prepare each distinct value once: rows
    written together often share a timestamp or a deadline.
    """
    if _passes_through(field) and all(type(value) in _PLAIN_TYPES for value in values):
        return values
    if len(values) == 1:
        return [field.get_db_prep_save(values[0], connection)]
    try:
        distinct = dict.fromkeys(values)
    except TypeError:  # unhashable values (JSON): one call each
        return [field.get_db_prep_save(value, connection) for value in values]
    prepared = {value: field.get_db_prep_save(value, connection) for value in distinct}
    return [prepared[value] for value in values]


def insert_returning_pks(objs: Sequence[Model]) -> None:
    """INSERT new instances of one model and set their primary keys, like ``bulk_create``.

    ``bulk_create`` builds the SQL of every value through the query compiler, which was
    most of its time for 1,000 rows of twenty columns. Here each column is prepared by its
    field (``pre_save`` for auto-now fields, then ``db_column``) and the rows go in
    multi-row ``INSERT … RETURNING`` statements of the size ``bulk_create`` would use.
    """
    if not objs:
        return
    model = type(objs[0])
    connection = connections[DEFAULT_DB_ALIAS]  # not the proxy: it is passed 20,000 times
    if not connection.features.can_return_rows_from_bulk_insert:
        model._default_manager.bulk_create(objs)
        return
    if len(objs) == 1:  # the phone's declaration, a rating: one statement of the same text
        [(pk,)] = fetch_all(connection, *one_row_insert(objs[0]))
        mark_saved(objs[0], pk)
        return
    fields = _insert_fields(model)
    rows = list(zip(*(_column(field, objs, connection) for field in fields), strict=True))
    if connection.vendor == "postgresql" and len(objs) > COPY_FROM:
        _copy_with_reserved_pks(model, objs, list(fields), rows, connection)
        return
    row_sql = "(" + ", ".join(["%s"] * len(fields)) + ")"
    head = f"INSERT INTO {insert_target(model, fields, connection)} VALUES "  # noqa: S608
    tail = f" RETURNING {connection.ops.quote_name(model._meta.pk.column)}"
    size = max(1, connection.ops.bulk_batch_size(fields, objs))
    with connection.cursor() as cursor:
        for start in range(0, len(objs), size):
            chunk = rows[start : start + size]
            cursor.execute(head + ", ".join([row_sql] * len(chunk)) + tail, list(chain(*chunk)))
            for obj, (pk,) in zip(objs[start : start + size], cursor.fetchall(), strict=True):
                mark_saved(obj, pk)


def one_row_insert(obj: Model) -> tuple[str, list[Any]]:
    """``INSERT … RETURNING pk`` of one new instance, and its values prepared by their
    fields (the text is the same for every instance of the model)."""
    model = type(obj)
    connection = connections[DEFAULT_DB_ALIAS]
    fields = _insert_fields(model)
    values = [_column(field, [obj], connection)[0] for field in fields]
    return _one_row_insert(model, fields, connection), values


def mark_saved(obj: Model, pk: Any) -> None:
    """Give a new instance its key, as a save would."""
    obj.pk = pk
    obj._state.adding = False
    obj._state.db = DEFAULT_DB_ALIAS


_ONE_ROW_INSERTS: dict[tuple[type[Model], str], str] = {}


def _one_row_insert(model: type[Model], fields: Sequence[Any], connection: Any) -> str:
    """``INSERT … VALUES (%s, …) RETURNING pk`` of one row, built once per model."""
    key = (model, connection.vendor)
    sql = _ONE_ROW_INSERTS.get(key)
    if sql is None:
        placeholders = ", ".join(["%s"] * len(fields))
        pk_column = connection.ops.quote_name(model._meta.pk.column)
        target = insert_target(model, fields, connection)
        sql = _ONE_ROW_INSERTS[key] = (
            f"INSERT INTO {target} VALUES ({placeholders}) RETURNING {pk_column}"  # noqa: S608
        )
    return sql


# From this many rows on PostgreSQL, ids are drawn from the sequence and the rows COPied.
# psycopg keeps the parsed text of a statement only up to 50 parameters: a longer INSERT is
# scanned for its placeholders on every execution, which was half the CPU of a gate
# scanner's batch of 500 scans (12,000 parameters, 125-150 ms; with COPY 52-72 ms).
COPY_FROM = 20


def _copy_with_reserved_pks(
    model: type[Model],
    objs: Sequence[Model],
    fields: list[Any],
    rows: list[tuple[Any, ...]],
    connection: Any,
) -> None:
    pk = model._meta.pk
    assert pk is not None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [model._meta.db_table, pk.column, len(objs)],
        )
        ids = [row[0] for row in cursor.fetchall()]
    _write(
        model, [pk, *fields], [(id_, *row) for id_, row in zip(ids, rows, strict=True)], connection
    )
    for obj, id_ in zip(objs, ids, strict=True):
        obj.pk = id_
        obj._state.adding = False
        obj._state.db = connection.alias


def insert_values(model: type[Model], names: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """INSERT rows given as tuples of the ``names`` fields' values, without instances.

    For thousands of rows nobody reads back (clocks, history entries, audit rows),
    building a model instance per row cost more than the INSERT. Fields left out get their
    default (auto-now fields: now), as an instance would.
    """
    if not rows:
        return
    connection = connections[DEFAULT_DB_ALIAS]
    fields = insert_fields(model)
    given = {name: index for index, name in enumerate(names)}
    now = timezone.now()
    columns = []
    for field in fields:
        index = given.get(field.attname, given.get(field.name))
        if index is not None:
            columns.append(db_column(field, [row[index] for row in rows], connection))
            continue
        auto = getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)
        [value] = db_column(field, [now if auto else field.get_default()], connection)
        columns.append([value] * len(rows))
    _write(model, fields, list(zip(*columns, strict=True)), connection)


def _write(
    model: type[Model], fields: list[Any], values: list[tuple[Any, ...]], connection: Any
) -> None:
    """Write prepared rows: COPY on PostgreSQL, multi-row INSERTs elsewhere.

    psycopg parses the text of every statement for its placeholders, and does not cache a
    long one: a 30,000-row INSERT spent seconds there. COPY sends values only.
    """
    target = insert_target(model, fields, connection)
    with connection.cursor() as cursor:
        raw = cursor.cursor
        if connection.vendor == "postgresql" and hasattr(raw, "copy"):  # psycopg 3
            with raw.copy(f"COPY {target} FROM STDIN") as copy:
                for row in values:
                    copy.write_row(row)
            return
        row_sql = "(" + ", ".join(["%s"] * len(fields)) + ")"
        size = max(1, connection.ops.bulk_batch_size(fields, values))
        for start in range(0, len(values), size):
            chunk = values[start : start + size]
            sql = f"INSERT INTO {target} VALUES " + ", ".join([row_sql] * len(chunk))  # noqa: S608
            cursor.execute(sql, list(chain(*chunk)))


def _column(field: Any, objs: Sequence[Model], connection: Any) -> list[Any]:
    """Return one column of ``objs`` as database values, prepared by ``field``."""
    if _is_auto(field):
        values = [field.pre_save(obj, True) for obj in objs]
    else:
        values = [getattr(obj, field.attname) for obj in objs]
    return db_column(field, values, connection)
