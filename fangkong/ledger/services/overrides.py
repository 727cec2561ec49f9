"""Calendar overrides: the calendar lives in core, which cannot check permissions."""

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from fangkong.accounts.roles import Perm
from fangkong.accounts.selectors import scope_for
from fangkong.core.audit import audit_record, snapshot
from fangkong.core.errors import Conflict, NotFound, PermissionDenied
from fangkong.core.models import AuditLog, CalendarDay, CalendarNotice

from .common import _invalid, _user

# ------------------------------------------------------------------ calendar overrides
# The calendar lives in core, which cannot check permissions; its writes live here.


def _require_calendar(actor: Any) -> str:
    """Raise PermissionDenied unless ``actor`` may edit the calendar; return an audit scope."""
    scope = scope_for(actor, Perm.MANAGE_OUTBREAK)
    if scope.is_empty:
        raise PermissionDenied()
    return scope.paths[0] if len(scope.paths) == 1 else ""


@transaction.atomic
def calendar_day_save(
    *, actor: Any, day: dt.date, is_working: bool, name: str = "", note: str = ""
) -> CalendarDay:
    """Enter (or change) the override for ``day`` from the State Council's notice."""
    scope_path = _require_calendar(actor)
    existing = CalendarDay.objects.filter(day=day).first()
    before = snapshot(existing) if existing else None
    row, _created = CalendarDay.objects.update_or_create(
        day=day,
        defaults={"is_working": is_working, "name": name.strip()[:64], "note": note.strip()[:200]},
    )
    audit_record(
        actor=actor,
        action=AuditLog.Action.UPDATE if existing else AuditLog.Action.CREATE,
        obj=row,
        scope_path=scope_path,
        before=before,
        after=snapshot(row),
    )
    return row


@transaction.atomic
def calendar_day_delete(*, actor: Any, override_id: int) -> None:
    """Remove an override: the package's calendar applies to that day again."""
    scope_path = _require_calendar(actor)
    row = CalendarDay.objects.filter(pk=override_id).first()
    if row is None:
        raise NotFound()
    before = snapshot(row)
    row.delete()
    audit_record(
        actor=actor,
        action=AuditLog.Action.DELETE,
        object_type="core.calendarday",
        object_id=str(override_id),
        object_repr=str(before.get("day")),
        scope_path=scope_path,
        before=before,
    )


@transaction.atomic
def calendar_notice_enter(*, actor: Any, year: int, note: str = "") -> CalendarNotice:
    """Mark ``year``'s notice as entered: its deadlines stop being estimates."""
    scope_path = _require_calendar(actor)
    if not 2000 <= year <= 2200:
        raise _invalid("year", _("Give a year between 2000 and 2200."))
    if CalendarNotice.objects.filter(year=year).exists():
        raise Conflict(_("The notice for this year is already entered."))
    row = CalendarNotice.objects.create(year=year, entered_by=_user(actor), note=note.strip()[:200])
    audit_record(
        actor=actor,
        action=AuditLog.Action.CREATE,
        obj=row,
        scope_path=scope_path,
        after=snapshot(row),
    )
    return row
