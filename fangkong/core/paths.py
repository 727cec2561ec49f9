"""Materialised paths: "/1/7/42/" names a node by its ancestors' ids.

A subtree is the half-open string range [path, path[:-1] + "0"): '/' sorts just before
'0', so every descendant path and nothing else falls inside it. Range conditions use a
plain B-tree index on SQLite and PostgreSQL alike (the column is C-collated there).
"""

from typing import Any

from django.db import models
from django.db.models import Q

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
