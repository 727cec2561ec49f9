"""Write audit rows. Every service write calls ``audit_record``."""

from collections.abc import Iterable
from typing import Any

from django.db import models
from django.forms.models import model_to_dict

from .bulk import insert_values
from .middleware import current_ip
from .models import AuditLog, AuditScope
from .paths import ancestor_paths, is_within


def snapshot(obj: models.Model, *, exclude: Iterable[str] = ()) -> dict[str, Any]:
    """Return a JSON-serialisable copy of a model instance's concrete fields."""
    data = model_to_dict(obj, fields=[f.name for f in obj._meta.concrete_fields])
    return {
        key: value if isinstance(value, int | float | bool | str | type(None)) else str(value)
        for key, value in data.items()
        if key not in set(exclude)
    }


def audit_rows(*, actor: Any, action: str, rows: Iterable[dict[str, Any]]) -> None:
    """Append many rows at once (set-based writes audit per unit); each dict holds
    ``object_type``, ``object_id``, ``object_repr``, ``scope_path`` and optionally
    ``before``/``after``."""
    user = actor if getattr(actor, "is_authenticated", False) else None
    ip_address = current_ip.get()
    insert_values(
        AuditLog,
        [
            "actor_id",
            "action",
            "object_type",
            "object_id",
            "object_repr",
            "scope_path",
            "before",
            "after",
            "ip_address",
        ],
        [
            (
                user.pk if user else None,
                action,
                row.get("object_type", ""),
                row.get("object_id", ""),
                row.get("object_repr", "")[:200],
                row.get("scope_path", ""),
                row.get("before"),
                row.get("after"),
                ip_address,
            )
            for row in rows
        ],
    )


def audit_record(
    *,
    actor: Any,
    action: str,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str = "",
    object_repr: str = "",
    scope_path: str = "",
    scope_paths: Iterable[str] = (),
    before: Any = None,
    after: Any = None,
) -> AuditLog:
    """Append one row to the audit log.

    ``scope_path`` names the subtree the row is about; ``scope_paths`` several of them (an
    export over two enterprises): whoever may read the audit log of any of them sees it.
    """
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
        object_repr = object_repr or str(obj)[:200]
    roots = minimal_roots([scope_path, *scope_paths])
    entry = AuditLog.objects.create(
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        action=action,
        object_type=object_type,
        object_id=object_id,
        object_repr=object_repr[:200],
        scope_path=common_ancestor(roots),
        before=before,
        after=after,
        ip_address=current_ip.get(),
    )
    if len(roots) > 1:
        AuditScope.objects.bulk_create(AuditScope(entry=entry, path=path) for path in roots)
    return entry


def minimal_roots(paths: Iterable[str]) -> list[str]:
    """Return the distinct non-empty paths, less those inside another one, sorted."""
    roots: list[str] = []
    for path in sorted({p for p in paths if p}, key=len):
        if not any(is_within(path, root) for root in roots):
            roots.append(path)
    return sorted(roots)


def common_ancestor(paths: list[str]) -> str:
    """Return the deepest path every one of ``paths`` lies in ("" when there is none)."""
    if not paths:
        return ""
    shared = ancestor_paths(paths[0])
    for path in paths[1:]:
        shared = [ancestor for ancestor in shared if is_within(path, ancestor)]
    return shared[-1] if shared else ""
