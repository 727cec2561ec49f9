"""Materialised paths: "/1/7/42/" names a node by its ancestors' ids.

A subtree is the half-open string range [path, path[:-1] + "0"): '/' sorts just before
'0', so every descendant path and nothing else falls inside it. Range conditions use a
plain B-tree index on SQLite and PostgreSQL alike (the column is C-collated there).
"""

from typing import Any

from django.db import models
from django.db.models import Q, Value
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


def child_prefix(path: str, field: str = "unit_path") -> Substr:
    """The path of the child of ``path`` that holds each row's ``field`` (``path`` itself for
    the unit's own rows): grouped by it, a subtree's rows give one sum per child in one query.

    ``/1/5/`` + ``77/9/`` → ``/1/5/77/``: everything up to the first separator after ``path``.
    """
    start = len(path) + 1  # SQL counts from 1: the first character after ``path``
    return Substr(field, 1, StrIndex(Substr(field, start), Value(SEPARATOR)) + (start - 1))


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
