"""Who may see what: a user's scope for a permission is a set of subtrees."""

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone
from django_q.models import OrmQ, Schedule, Task

from fangkong.core.errors import NotFound, PermissionDenied
from fangkong.core.exports import Export
from fangkong.core.models import AuditLog, AuditScope
from fangkong.core.paths import is_within, subtree_q

from .actors import Actor, Viewer
from .models import ApiToken, RoleAssignment, User
from .roles import ROLE_PERMS, Perm


@dataclass(frozen=True)
class Scope:
    """The subtrees (by path) a user may act in for one permission."""

    paths: tuple[str, ...] = ()
    everything: bool = False

    @property
    def is_empty(self) -> bool:
        return not self.everything and not self.paths

    def covers(self, path: str) -> bool:
        """Tell whether the node at ``path`` lies inside this scope."""
        return self.everything or any(is_within(path, root) for root in self.paths)

    def q(self, field: str = "path") -> Q:
        """Return a filter on a path column; matches nothing for an empty scope."""
        if self.everything:
            return Q()
        if not self.paths:
            return Q(pk__in=[])
        condition = Q()
        for root in self.paths:
            condition |= subtree_q(field, root)
        return condition

    def filter(self, queryset: QuerySet[Any], field: str = "path") -> QuerySet[Any]:
        """Restrict a queryset to rows whose ``field`` path lies in the scope."""
        if self.is_empty:
            return queryset.none()
        return queryset.filter(self.q(field))


def _minimal_roots(paths: set[str]) -> tuple[str, ...]:
    """Drop paths that lie inside another path of the set."""
    ordered = sorted(paths, key=len)
    roots: list[str] = []
    for path in ordered:
        if not any(is_within(path, root) for root in roots):
            roots.append(path)
    return tuple(sorted(roots))


def role_rows_for(user: User) -> list[tuple[str, str]]:
    """Return (role, unit path) for each of the user's assignments to open units, cached."""
    cached = getattr(user, "_fk_role_rows", None)
    if cached is None:
        cached = list(
            RoleAssignment.objects.filter(user=user, unit__valid_to__isnull=True).values_list(
                "role", "unit__path"
            )
        )
        user.__dict__["_fk_role_rows"] = cached  # cached on this request's user object
    return cached


def scope_for(user: Actor, perm: Perm) -> Scope:
    """Return the subtrees in which ``user`` holds ``perm``."""
    if not isinstance(user, User) or not user.is_active:  # the system, or anonymous
        return Scope()
    if user.is_superuser:
        return Scope(everything=True)
    paths = {path for role, path in role_rows_for(user) if perm in ROLE_PERMS.get(role, ())}
    return Scope(paths=_minimal_roots(paths))


def user_has_perm_anywhere(user: Actor, perm: Perm) -> bool:
    """Tell whether ``user`` holds ``perm`` on at least one subtree (False for None).

    A read, for showing a link or a button; to refuse, call ``require_perm``.
    """
    return not scope_for(user, perm).is_empty


def api_tokens_for(user: User) -> QuerySet[ApiToken]:
    """Return the user's own tokens, newest first."""
    return ApiToken.objects.filter(user=user).order_by("-created_at")


def audit_entries_visible(user: Viewer) -> QuerySet[Any]:
    """Return the audit rows of the subtrees where the user may read the audit log.

    A row about several subtrees (an export over two enterprises) is shown to whoever may
    read the log of any of them. Rows without a scope (log-ins, tokens) are shown to
    superusers only.
    """
    scope = scope_for(user, Perm.VIEW_AUDIT)
    if scope.is_empty:
        raise PermissionDenied()
    entries = AuditLog.objects.select_related("actor")
    if scope.everything:
        return entries
    in_parts = AuditScope.objects.filter(scope.q("path")).values("entry_id")
    return entries.filter(scope.q("scope_path") | Q(pk__in=in_parts))


def audit_object_types(user: Viewer) -> list[str]:
    """The object types the user's audit rows are about, for the log's filter."""
    rows = audit_entries_visible(user).order_by().values_list("object_type", flat=True)
    return list(rows.distinct())


def audit_entries_filtered(
    entries: QuerySet[Any],
    *,
    actor: str = "",
    action: str = "",
    object_type: str = "",
    since: Any = None,
    until: Any = None,
) -> QuerySet[Any]:
    """Narrow audit rows by actor name, action, object type and a day range (inclusive)."""
    if actor:
        entries = entries.filter(
            Q(actor__username__icontains=actor) | Q(actor__display_name__icontains=actor)
        )
    if action:
        entries = entries.filter(action=action)
    if object_type:
        entries = entries.filter(object_type=object_type)
    tz = timezone.get_current_timezone()
    if since:
        entries = entries.filter(at__gte=dt.datetime.combine(since, dt.time.min, tz))
    if until:
        entries = entries.filter(
            at__lt=dt.datetime.combine(until + dt.timedelta(days=1), dt.time.min, tz)
        )
    return entries


def assignments_managed(user: Viewer, *, query: str = "") -> QuerySet[RoleAssignment]:
    """Return the role assignments on units where ``user`` may manage accounts."""
    scope = scope_for(user, Perm.MANAGE_ACCOUNTS)
    if scope.is_empty:
        raise PermissionDenied()
    assignments = RoleAssignment.objects.select_related("user", "unit")
    if not scope.everything:
        assignments = assignments.filter(scope.q("unit__path"))
    if query:
        assignments = assignments.filter(
            Q(user__username__icontains=query) | Q(user__display_name__icontains=query)
        )
    return assignments.order_by("user__username", "unit__path", "role")


# ------------------------------------------------------------------ task queue (jobs page)


def queued_tasks(user: Viewer) -> QuerySet[OrmQ]:
    """Tasks waiting in the queue (a lock means a worker has taken it)."""
    require_perm(user, Perm.VIEW_JOBS)
    return OrmQ.objects.order_by("id")


def finished_tasks(user: Viewer, *, outcome: str = "", query: str = "") -> QuerySet[Task]:
    """Finished tasks, newest first; ``outcome`` is "success", "failure" or "" for both."""
    require_perm(user, Perm.VIEW_JOBS)
    tasks = Task.objects.defer("args", "kwargs")
    if outcome in ("success", "failure"):
        tasks = tasks.filter(success=outcome == "success")
    if query:
        tasks = tasks.filter(Q(func__icontains=query) | Q(name__icontains=query))
    return tasks.order_by("-stopped")


def schedules(user: Viewer) -> QuerySet[Schedule]:
    require_perm(user, Perm.VIEW_JOBS)
    return Schedule.objects.order_by("next_run", "name")


def require_perm(
    actor: Actor,
    perm: Perm,
    path: str | None = None,
    *,
    seen_with: Perm = Perm.VIEW_UNITS,
    message: Any = None,
) -> None:
    """Raise unless ``actor`` holds ``perm``: the one permission check of every app.

    - With a ``path`` (the unit path of the object acted on): the actor must hold ``perm``
      on a subtree containing it. An actor who may see the object (``seen_with`` at the
      path: the unit by default, a ledger kind's or health data's view permission where
      that is what shows the object) is refused with 403; anyone else gets 404, so the
      object's existence stays hidden.
    - Without a path ("anywhere"): the actor must hold ``perm`` on at least one subtree,
      else 403. Lists and group-wide settings ask this; the rows are then scoped by
      ``scope_for``.

    ``actor`` None is the system (a queued job, a signal receiver, seeding, a command):
    it passes every check. An anonymous or inactive user holds nothing. ``message``
    replaces the default 403 text.
    """
    if actor is None:
        return
    scope = scope_for(actor, perm)
    if path is None:
        if scope.is_empty:
            raise PermissionDenied(message)
        return
    if scope.covers(path):
        return
    if scope_for(actor, seen_with).covers(path):
        raise PermissionDenied(message)
    raise NotFound()


def export_with_numbers(request: Any, object_type: str) -> tuple[Export, Scope]:
    """An export of rows that carry ID numbers or phones, and the scope it may export from:
    rows where the user may export, numbers in full only where they may see them (masked
    as on screen elsewhere).
    """
    scope = scope_for(request.user, Perm.EXPORT)
    sensitive = scope_for(request.user, Perm.VIEW_SENSITIVE)
    return Export(request, object_type=object_type, scope=scope, sensitive=sensitive), scope


def export_of(
    request: Any, object_type: str, rows: Any, path: str, *, limit: int
) -> tuple[Export, Any]:
    """An export of a list without ID numbers or phones, and its ``rows`` (their unit path
    at ``path``) where the user may export, refused when longer than ``limit``."""
    export = Export(request, object_type=object_type, scope=scope_for(request.user, Perm.EXPORT))
    return export, export.in_scope(rows, path, limit=limit)
