"""Materialised paths: "/1/7/42/" names a node by its ancestors' ids.

A subtree is the half-open string range [path, path[:-1] + "0"): '/' sorts just before
'0', so every descendant path and nothing else falls inside it. Range conditions use a
plain B-tree index on SQLite and PostgreSQL alike (the column is C-collated there).
"""

from collections.abc import Sequence
from typing import Any

from django.db import connections, models
from django.db.models import Q, QuerySet, Sum, Value
from django.db.models.functions import StrIndex, Substr

SEPARATOR = "/"


def child_path(parent_path: str, node_id: int) -> str:
    """Return the path of node ``node_id`` under ``parent_path`` ("" for a root)."""
    return f"{parent_path or SEPARATOR}{node_id}{SEPARATOR}"


def subtree_upper_bound(path: str) -> str:
    """Return the exclusive upper bound of the subtree range rooted at ``path``."""
    return path[:-1] + "0"


def subtree_q(field: str, path: str) -> Q:
    """Return a condition matching ``field`` values inside the subtree rooted at ``path``."""
    return Q(**{f"{field}__gte": path, f"{field}__lt": subtree_upper_bound(path)})


def subtree_range(path: str) -> tuple[str, str]:
    return path, subtree_upper_bound(path)


# Stand-ins for a range's bounds and key while one range's SELECT is compiled; no path
# holds a NUL, and they are replaced before the statement runs.
_LOW, _HIGH, _KEY = "\x00low", "\x00high", "\x00key"


def range_sums(
    rows: QuerySet[Any], field: str, ranges: Sequence[tuple[str, str]], columns: Sequence[str]
) -> list[list[int]]:
    """Sum ``columns`` of ``rows`` whose ``field`` lies in each half-open range, in one statement.

    Each range is a SELECT of its own (a seek on the path index, summed as the index yields
    the rows, nothing grouped), joined by UNION ALL: a few subtrees cost one round trip and
    one compiled query instead of one each. Returns the sums in the order of ``ranges``.
    """
    if not ranges:
        return []
    branch = (
        rows.filter(**{f"{field}__gte": _LOW, f"{field}__lt": _HIGH})
        .order_by()
        .annotate(range_key=Value(_KEY))
        .values("range_key")
        .annotate(**{f"sum_{column}": Sum(column) for column in columns})
    )
    sql, params = branch.query.get_compiler(using=branch.db).as_sql()
    statement: list[Any] = []
    for index, (low, high) in enumerate(ranges):
        bounds = {_LOW: low, _HIGH: high, _KEY: str(index)}
        statement += [bounds.get(p, p) if isinstance(p, str) else p for p in params]
    found: list[list[int]] = [[0] * len(columns) for _ in ranges]
    with connections[branch.db].cursor() as cursor:
        cursor.execute(" UNION ALL ".join([sql] * len(ranges)), statement)
        for key, *sums in cursor.fetchall():
            found[int(key)] = [int(value or 0) for value in sums]
    return found


# Up to this many children, a range sum per child in one statement; above, grouping the
# subtree's rows by child reads each row once where as many ranges would cost as many seeks.
RANGES_PER_STATEMENT = 12


def sums_by_child(
    rows: QuerySet[Any],
    field: str,
    path: str,
    columns: Sequence[str],
    child_paths: Sequence[str] | None = None,
) -> dict[str, list[int]]:
    """Sum ``columns`` of ``rows`` in the subtree of ``path``, per child: child path → the
    sums over that child's subtree, and ``path`` → the sums of the rest of the subtree (the
    rows placed on ``path`` itself, when ``child_paths`` lists every child).

    One statement: given ``child_paths``, up to ``RANGES_PER_STATEMENT`` of them, a range
    sum for each child and for each gap between them (no row is grouped; the gaps hold the
    unit's own rows and nothing else while every path names a unit); else the subtree's
    rows grouped by ``child_prefix``, which without ``child_paths`` answers every child
    that has rows. Either way the answer adds up to the whole subtree.
    """
    if child_paths is not None and len(child_paths) <= RANGES_PER_STATEMENT:
        keys, ranges, low = [], [], path
        for child in sorted(child_paths):
            keys += [path, child]
            ranges += [(low, child), subtree_range(child)]
            low = subtree_upper_bound(child)
        keys.append(path)
        ranges.append((low, subtree_upper_bound(path)))
        result = {key: [0] * len(columns) for key in [path, *child_paths]}
        for key, sums in zip(keys, range_sums(rows, field, ranges, columns), strict=True):
            result[key] = [a + b for a, b in zip(result[key], sums, strict=True)]
        return result
    names = [f"sum_{column}" for column in columns]
    grouped = (
        rows.filter(subtree_q(field, path))
        .annotate(child=child_prefix(path, field))
        .values("child")
        .annotate(**{name: Sum(column) for name, column in zip(names, columns, strict=True)})
        .order_by()
        .values_list("child", *names)
    )
    found = {child: [int(value or 0) for value in sums] for child, *sums in grouped}
    if child_paths is None:
        return found
    result = {child: found.pop(child, [0] * len(columns)) for child in child_paths}
    rest = [sum(column) for column in zip(*found.values(), strict=True)] if found else None
    result[path] = rest or [0] * len(columns)
    return result


def child_prefix(path: str, field: str = "unit_path") -> Substr:
    """The path of the child of ``path`` that holds each row's ``field`` (``path`` itself for
    the unit's own rows): grouped by it, a subtree's rows give one sum per child in one query.

    ``/1/5/`` + ``77/9/`` → ``/1/5/77/``: everything up to the first separator after ``path``.
    """
    start = len(path) + 1  # SQL counts from 1: the first character after ``path``
    return Substr(field, 1, StrIndex(Substr(field, start), Value(SEPARATOR)) + (start - 1))


def tree_order(path: str) -> tuple[int, ...]:
    """A sort key putting units in tree order with siblings by id: the paths as text put
    /1/10/ before /1/2/."""
    return tuple(int(part) for part in path.strip("/").split("/") if part)


def ancestor_paths(path: str) -> list[str]:
    """Return the paths of every ancestor of ``path`` and of itself, root first."""
    ids = [part for part in path.split(SEPARATOR) if part]
    return [SEPARATOR + SEPARATOR.join(ids[: i + 1]) + SEPARATOR for i in range(len(ids))]


def is_within(path: str, root: str) -> bool:
    """Tell whether ``path`` lies in the subtree rooted at ``root``."""
    return path.startswith(root)


class PathField(models.CharField):
    """A CharField compared byte by byte (C collation on PostgreSQL) so ranges work."""

    def db_parameters(self, connection: Any) -> dict[str, Any]:
        params = super().db_parameters(connection)
        if connection.vendor == "postgresql":
            params["collation"] = "C"
        return params
