"""Writes to the working-day calendar (``calendar``): single-day overrides and the notices.

Core sits below accounts, so it cannot tell who may edit the calendar: the caller checks
the permission (the calendar page: *manage the outbreak*, anywhere) and passes the subtree
the audit row is about (``scope_path``). Every write is audited; the calendar's cache of
the override table drops itself on each change (signals in ``core.apps``).
"""

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from .audit import audit_record, snapshot
from .errors import Conflict, InvalidInput, NotFound
from .models import AuditLog, CalendarDay, CalendarNotice


@transaction.atomic
def calendar_day_save(
    *,
    actor: Any,
    scope_path: str,
    day: dt.date,
    is_working: bool,
    name: str = "",
    note: str = "",
) -> CalendarDay:
    """Enter (or change) the override for ``day`` from the State Council's notice."""
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
def calendar_day_delete(*, actor: Any, scope_path: str, override_id: int) -> None:
    """Remove an override: the package's calendar applies to that day again."""
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
def calendar_notice_enter(
    *, actor: Any, scope_path: str, year: int, note: str = ""
) -> CalendarNotice:
    """Mark ``year``'s notice as entered: its deadlines stop being estimates."""
    if not 2000 <= year <= 2200:
        message = _("Give a year between 2000 and 2200.")
        raise InvalidInput(message, detail={"year": [message]})
    if CalendarNotice.objects.filter(year=year).exists():
        raise Conflict(_("The notice for this year is already entered."))
    row = CalendarNotice.objects.create(
        year=year,
        entered_by=actor if getattr(actor, "is_authenticated", False) else None,
        note=note.strip()[:200],
    )
    audit_record(
        actor=actor,
        action=AuditLog.Action.CREATE,
        obj=row,
        scope_path=scope_path,
        after=snapshot(row),
    )
    return row
