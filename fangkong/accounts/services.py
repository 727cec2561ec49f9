"""Every write to accounts: users, role assignments, tokens, log-in bookkeeping, run a job."""

import ast
import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_q.models import Schedule
from django_q.tasks import async_task

from fangkong.core.audit import audit_record
from fangkong.core.errors import InvalidInput, NotFound, PermissionDenied
from fangkong.core.models import AuditLog

from .actors import Actor
from .models import ApiToken, RoleAssignment, User
from .roles import Perm, Role
from .selectors import require_perm

TOKEN_PREFIX = "fk_"


@transaction.atomic
def user_create(
    *,
    actor: Actor,
    username: str,
    password: str | None,
    display_name: str = "",
    email: str = "",
    is_superuser: bool = False,
) -> User:
    """Create a user; a superuser is also staff. Passwords follow the password validators."""
    require_perm(actor, Perm.MANAGE_ACCOUNTS)
    if is_superuser and actor is not None and not actor.is_superuser:
        raise PermissionDenied()
    if User.objects.filter(username=username).exists():
        raise InvalidInput(detail={"username": [_("This username is taken.")]})
    if password and actor is not None:
        try:
            validate_password(password)
        except DjangoValidationError as exc:
            raise InvalidInput(detail={"password": list(exc.messages)}) from None
    user = User(
        username=username,
        display_name=display_name,
        email=email,
        is_superuser=is_superuser,
        is_staff=is_superuser,
    )
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.full_clean(exclude=["password"])
    user.save()
    audit_record(actor=actor, action=AuditLog.Action.CREATE, obj=user, after={"username": username})
    return user


@transaction.atomic
def role_assign(*, actor: Actor, user: User, role: str, unit: Any) -> RoleAssignment:
    """Give ``user`` the ``role`` over the subtree of ``unit`` (idempotent).

    The actor needs the accounts permission on ``unit``; only superusers grant the group
    administrator role, so nobody can raise their own reach.
    """
    if role not in Role.values:
        raise InvalidInput(detail={"role": [_("Unknown role.")]})
    # Roles on a unit the actor may not manage stay hidden: 404, never 403.
    require_perm(actor, Perm.MANAGE_ACCOUNTS, unit.path, seen_with=Perm.MANAGE_ACCOUNTS)
    if role == Role.GROUP_ADMIN and actor is not None and not actor.is_superuser:
        raise PermissionDenied(_("Only a system administrator may grant this role."))
    assignment, created = RoleAssignment.objects.get_or_create(user=user, role=role, unit=unit)
    if created:
        audit_record(
            actor=actor,
            action=AuditLog.Action.ROLE_GRANT,
            obj=assignment,
            scope_path=unit.path,
            after={"user": user.username, "role": role, "unit": unit.code},
        )
    return assignment


@transaction.atomic
def role_grant(
    *,
    actor: Actor,
    username: str,
    role: str,
    unit: Any,
    password: str = "",
    display_name: str = "",
) -> RoleAssignment:
    """Give the user ``username`` a role on ``unit``, creating the account if it is new."""
    user = User.objects.filter(username=username).first()
    if user is None:
        if not password:
            raise InvalidInput(_("Give a new user a password."))
        user = user_create(
            actor=actor, username=username, password=password, display_name=display_name
        )
    return role_assign(actor=actor, user=user, role=role, unit=unit)


@transaction.atomic
def role_revoke(*, actor: Actor, assignment: RoleAssignment) -> None:
    """Take a role assignment away."""
    require_perm(actor, Perm.MANAGE_ACCOUNTS, assignment.unit.path, seen_with=Perm.MANAGE_ACCOUNTS)
    audit_record(
        actor=actor,
        action=AuditLog.Action.ROLE_REVOKE,
        obj=assignment,
        scope_path=assignment.unit.path,
        before={"user": assignment.user.username, "role": assignment.role},
    )
    assignment.delete()


def _hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@transaction.atomic
def api_token_create(*, actor: Actor, user: User, name: str) -> tuple[ApiToken, str]:
    """Create a token and return it with its key, which is shown this once only."""
    if not name.strip():
        raise InvalidInput(detail={"name": ["required"]})
    key = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user, name=name.strip(), prefix=key[:10], key_hash=_hash_key(key)
    )
    audit_record(actor=actor, action=AuditLog.Action.TOKEN_CREATE, obj=token)
    return token, key


@transaction.atomic
def api_token_revoke(*, actor: Actor, token: ApiToken) -> None:
    """Revoke a token at once; requests carrying it are refused from now on."""
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit_record(actor=actor, action=AuditLog.Action.TOKEN_REVOKE, obj=token)


def api_token_authenticate(key: str) -> User | None:
    """Return the active user behind an active token, or None."""
    if not key.startswith(TOKEN_PREFIX):
        return None
    token = (
        ApiToken.objects.select_related("user")
        .filter(key_hash=_hash_key(key), revoked_at__isnull=True)
        .first()
    )
    if token is None or not token.user.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


def login_failure_record(*, user: User, failures: int, locked_until: datetime | None) -> None:
    """Record a failed log-in counted by the log-in backend, and the lock-out it caused.

    The backend counts the attempts atomically; the user row keeps a copy for the admin.
    """
    changes: dict[str, Any] = {"failed_login_count": failures}
    if locked_until is not None:
        changes["locked_until"] = locked_until
    User.objects.filter(pk=user.pk).update(**changes)
    audit_record(actor=None, action=AuditLog.Action.LOGIN_FAILED, obj=user)
    if locked_until is not None:
        audit_record(actor=None, action=AuditLog.Action.LOCKED, obj=user)


def login_success_record(*, user: User) -> None:
    """Reset the failure count after a successful log-in."""
    if user.failed_login_count or user.locked_until:
        user.failed_login_count = 0
        user.locked_until = None
        user.save(update_fields=["failed_login_count", "locked_until"])
    audit_record(actor=user, action=AuditLog.Action.LOGIN, obj=user)


def _literal(text: str | None, default: Any) -> Any:
    try:
        return ast.literal_eval(text) if text else default
    except (SyntaxError, ValueError):
        return default


@transaction.atomic
def schedule_run_now(*, actor: Actor, schedule_id: int) -> str:
    """Queue a schedule's function once, now, without moving its next regular run."""
    require_perm(actor, Perm.VIEW_JOBS)
    schedule = Schedule.objects.filter(pk=schedule_id).first()
    if schedule is None:
        raise NotFound()
    args = _literal(schedule.args, ())
    args = args if isinstance(args, tuple) else (args,)
    kwargs = _literal(schedule.kwargs, {})
    kwargs = kwargs if isinstance(kwargs, dict) else {}
    audit_record(
        actor=actor,
        action=AuditLog.Action.CREATE,
        obj=schedule,
        object_type="django_q.task",
        object_repr=f"run now: {schedule.func}",
        after={"schedule": schedule.name, "func": schedule.func},
    )
    func, name = schedule.func, schedule.name or schedule.func
    # After commit, like every other enqueue: the audit row and the task go together.
    transaction.on_commit(lambda: async_task(func, *args, group=name, **kwargs))
    return func
