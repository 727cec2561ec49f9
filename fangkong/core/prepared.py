"""Queries the ORM builds once per process and connection, then runs with new values.

The personal-link path (the page's state, the one-tap submit) runs the same three reads
for each of 170,000 people between 07:00 and 09:00. Building a query with the ORM (the
lookups, the joins, the SQL text) cost 0.5-1.2 ms of CPU each time; running it on the
database took 0.03 ms. A :class:`Prepared` query is still written as a queryset, so its SQL
is the ORM's, but the ORM builds it only once per connection: with marker values in place
of the real ones, whose positions in the parameters are then remembered. Each call puts
its values there (prepared by the model field they are compared with, as the ORM does),
runs the SQL and converts the columns with the ORM's own converters.

Only a query whose values are compared with fields of these kinds can be prepared: text,
whole numbers and keys, dates, UUIDs. A value compared twice (``a == x OR b == x``) fills
each of its places.
"""

import datetime as dt
import re
import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar
from weakref import WeakKeyDictionary

from django.db import connections, models, router
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.utils import CursorDebugWrapper, CursorWrapper
from django.db.models import Field, Model, QuerySet
from psycopg.pq import ExecStatus

Row = tuple[Any, ...]
M = TypeVar("M", bound=Model)


def _marker(field: Field, index: int) -> Any:
    """A value for argument ``index`` that no real query would compare with."""
    if isinstance(field, models.ForeignKey):
        field = field.target_field
    if isinstance(field, models.CharField | models.TextField):
        return f"\ufdd0prepared-marker-{index}\ufdd0"
    if isinstance(field, models.IntegerField):  # keys and auto fields too
        return -(2**40) - index
    if isinstance(field, models.DateField) and not isinstance(field, models.DateTimeField):
        return dt.date(1, 1, 1) + dt.timedelta(days=index + 7)
    if isinstance(field, models.UUIDField):
        return uuid.UUID(int=0xFDD0 << 64 | index)
    raise TypeError(f"{field!r} cannot hold a prepared value")


@dataclass(frozen=True)
class _Compiled:
    sql: str
    params: tuple[Any, ...]
    places: tuple[tuple[int, int], ...]  # (position in params, argument index)
    columns: int
    converters: tuple[tuple[int, list[Any], Any], ...]  # (column, converters, expression)


class Prepared:
    """``build(*values)`` as a queryset, built by the ORM once per database connection.

    ``fields`` names, for each value, the model field it is compared with (its type
    prepares the value). ``rows(*values)`` returns the rows as ``build(*values)`` would
    (``values_list`` tuples, or each model's columns in ``concrete_fields`` order).
    """

    def __init__(self, build: Callable[..., QuerySet[Any]], *fields: Field) -> None:
        self.build = build
        self.fields = fields
        self._model: type[Model] | None = None  # the queryset's, known once built
        self._compiled: WeakKeyDictionary[BaseDatabaseWrapper, _Compiled] = WeakKeyDictionary()
        self._lock = threading.Lock()

    @property
    def model(self) -> type[Model]:
        if self._model is None:
            self._model = self.build(*self._markers()).model
        return self._model

    def rows(self, *values: Any) -> list[Row]:
        connection = connections[router.db_for_read(self.model)]
        compiled = self._compiled.get(connection) or self._compile(connection)
        params = list(compiled.params)
        prepared = [
            field.get_db_prep_value(value, connection, prepared=False)
            for field, value in zip(self.fields, values, strict=True)
        ]
        for position, index in compiled.places:
            params[position] = prepared[index]
        fetched = fetch_all(connection, compiled.sql, params)
        return [self._converted(row, compiled, connection) for row in fetched]

    def _markers(self) -> list[Any]:
        return [_marker(field, index) for index, field in enumerate(self.fields)]

    def _compile(self, connection: BaseDatabaseWrapper) -> _Compiled:
        markers = self._markers()
        queryset = self.build(*markers)
        compiler = queryset.query.get_compiler(connection=connection)
        sql, params = compiler.as_sql()
        prepared = [
            field.get_db_prep_value(marker, connection, prepared=False)
            for field, marker in zip(self.fields, markers, strict=True)
        ]
        places = tuple(
            (position, prepared.index(param))
            for position, param in enumerate(params)
            if any(param == marker and type(param) is type(marker) for marker in prepared)
        )
        missing = set(range(len(markers))) - {index for _position, index in places}
        if missing:
            raise TypeError(f"values {sorted(missing)} are not parameters of {sql}")
        columns = compiler.col_count
        converters = compiler.get_converters([column for column, _sql, _alias in compiler.select])
        compiled = _Compiled(
            sql=sql,
            params=tuple(params),
            places=places,
            columns=columns,
            converters=tuple(
                (position, list(functions), expression)
                for position, (functions, expression) in converters.items()
                if position < columns
            ),
        )
        with self._lock:
            self._compiled[connection] = compiled
        return compiled

    @staticmethod
    def _converted(row: Sequence[Any], compiled: _Compiled, connection: Any) -> Row:
        values = list(row[: compiled.columns])
        for position, functions, expression in compiled.converters:
            value = values[position]
            for function in functions:
                value = function(value, expression, connection)
            values[position] = value
        return tuple(values)


def fetch_all(connection: Any, sql: str, params: Sequence[Any]) -> list[Row]:
    """Run one statement of the phone's path (written with Django's ``%s`` placeholders)
    and return its rows.

    On SQLite, when nobody logs or wraps the connection's statements, its driver runs the
    statement directly: Django's cursor wrapper and its placeholder rewriting were half
    the cost of a one-row read. Django's checks and exceptions are kept. Elsewhere (and
    whenever statements are counted, as the tests do) Django's cursor runs it; on
    PostgreSQL one that binds the values on the server (see ``_cursor``).
    """
    if _unobserved_sqlite(connection):
        with connection.wrap_database_errors:  # Django's exceptions, as its cursor raises
            return connection.connection.execute(_sqlite_text(sql), params).fetchall()
    with _cursor(connection) as cursor:
        cursor.execute(sql, params)
        return _rows_of(cursor)


_TUPLES_OK = ExecStatus.TUPLES_OK


def _rows_of(cursor: Any) -> list[Row]:
    """The rows the statement returned; none for one that returns none (an upsert).

    psycopg answers ``description`` with an object per column (80 for the state's read),
    0.15 ms a declaration; the result's status tells as much without building them.
    """
    result = getattr(cursor.cursor, "pgresult", None)  # psycopg's cursor
    if result is not None:
        return cursor.fetchall() if result.status == _TUPLES_OK else []
    return cursor.fetchall() if cursor.description is not None else []


def _unobserved_sqlite(connection: Any) -> bool:
    """True where SQLite's own cursor may run the statement: an open SQLite connection that
    nobody logs or wraps (tests counting statements, debug tools). Django's cursor wrapper,
    its placeholder rewriting and its error translation were half the cost of the read.
    ``ensure_connection`` first: a request may be the connection's first user."""
    if connection.vendor != "sqlite" or connection.queries_logged or connection.execute_wrappers:
        return False
    connection.ensure_connection()
    connection.validate_thread_sharing()
    connection.validate_no_broken_transaction()
    return True


_SQLITE_PLACEHOLDER = re.compile(r"(?<!%)%s")  # as Django's SQLite backend rewrites them
_SQLITE_TEXTS: dict[str, str] = {}
_SQLITE_TEXTS_KEPT = 256  # the path has a handful; the bound only stops a leak


def _sqlite_text(sql: str) -> str:
    """``sql`` with SQLite's placeholders; the few statements of the path are kept, whatever
    their length (rewriting the 4.4 kB state read cost 0.1 ms, a tenth of the request)."""
    text = _SQLITE_TEXTS.get(sql)
    if text is None:
        text = _SQLITE_PLACEHOLDER.sub("?", sql).replace("%%", "%")
        if len(_SQLITE_TEXTS) < _SQLITE_TEXTS_KEPT:
            _SQLITE_TEXTS[sql] = text
    return text


def _cursor(connection: Any) -> Any:
    """Django's cursor; on PostgreSQL one that binds the values on the server.

    The ORM's cursors send each statement with its values in the text, so PostgreSQL
    parses and plans it every time (0.5-1 ms for the link's read with the unit's place,
    against 0.05 ms to run it). Bound on the server, a prepared query's statement stays the
    same, and the driver prepares it once per connection (``prepare_threshold`` in the
    settings: none, none is prepared).
    """
    if connection.vendor != "postgresql":
        return connection.cursor()
    from django.db.backends.postgresql.base import (  # type: ignore[attr-defined]
        ServerBindingCursor,  # psycopg 3's, the driver here
    )

    connection.ensure_connection()
    connection.validate_thread_sharing()
    raw = ServerBindingCursor(connection.connection)
    if connection.queries_logged:
        return _LoggedServerBoundCursor(raw, connection)
    return connection.make_cursor(raw)


class _LoggedServerBoundCursor(CursorDebugWrapper):
    """Logs the statement with its values written in, as the client-bound cursors do (the
    driver keeps no such text for a statement bound on the server)."""

    def execute(self, sql: Any, params: Any = None) -> Any:
        with self.debug_sql(self.db.ops.compose_sql(sql, params), params):
            return CursorWrapper.execute(self, sql, params)


def instance(model: type[M], row: Sequence[Any]) -> M:
    """A model instance from its ``concrete_fields`` columns (first in ``row``), as the ORM
    makes one."""
    names = [field.attname for field in model._meta.concrete_fields]
    return model.from_db(router.db_for_read(model), names, list(row[: len(names)]))
