"""Every write of the reports app: attesting a daily report and sweeping for missing ones."""

import datetime as dt
import uuid
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django_q.tasks import async_task

from fangkong.accounts.actors import Actor, acting_user
from fangkong.accounts.roles import Perm, Role
from fangkong.accounts.selectors import require_perm
from fangkong.core.audit import audit_record, snapshot
from fangkong.core.errors import Conflict, InvalidInput, KeyReused
from fangkong.core.models import AuditLog
from fangkong.notify.models import Event
from fangkong.notify.services import notify
from fangkong.orgs.models import OrgUnit, place_related

from . import plans
from .figures import subtree_figures
from .models import ReportAlarm, UnitReport


@transaction.atomic
def report_attest(
    *,
    actor: Actor,
    unit: OrgUnit,
    day: dt.date,
    zero: bool = False,
    note: str = "",
    client_uuid: uuid.UUID | None = None,
    now: dt.datetime | None = None,
) -> UnitReport:
    """Attest ``unit``'s report for ``day`` with the figures its declarations give now.

    ``zero`` asks for a zero report (nothing abnormal); it is refused when the figures show
    an abnormal declaration or someone in quarantine. A second attestation for the same day
    is a correction: version n+1 becomes current and the earlier versions stay. Retrying
    with the same ``client_uuid`` returns the report already made.
    """
    require_perm(actor, Perm.ATTEST_REPORT, unit.path)
    if client_uuid is not None:
        existing = UnitReport.objects.filter(uuid=client_uuid).first()
        if existing is not None:
            if (existing.unit_id, existing.day, existing.is_zero, existing.note) != (
                unit.pk,
                day,
                zero,
                note.strip(),
            ):
                raise KeyReused(detail={"uuid": [str(KeyReused.default_message)]})
            return existing
    now = now or timezone.now()
    if day > timezone.localdate(now):
        raise InvalidInput.at("day", _("A report cannot be attested before its day."))
    plan = plans.plan_for(unit, day)
    if plan is None:
        raise InvalidInput.at("unit", _("This unit does not report on this day."))
    figures = subtree_figures(unit.path, day)
    if zero and figures.has_abnormal:
        raise InvalidInput.at(
            "zero",
            _(
                "A zero report is not possible: %(abnormal)d abnormal declaration(s) and "
                "%(quarantine)d person(s) in quarantine. Attest the report instead."
            )
            % {"abnormal": figures.abnormal, "quarantine": figures.quarantine},
        )
    previous = (
        UnitReport.objects.select_for_update().filter(unit=unit, day=day, is_current=True).first()
    )
    first = UnitReport.objects.filter(unit=unit, day=day, version=1).first()
    report = UnitReport(
        uuid=client_uuid or uuid.uuid4(),
        unit=unit,
        unit_path=unit.path,
        day=day,
        version=previous.version + 1 if previous else 1,
        is_zero=zero,
        is_late=first.is_late if first else now > plans.deadline_of(plan, day),
        note=note.strip(),
        attested_by=acting_user(actor),
        attested_at=now,
        **figures.report_fields(),
    )
    if previous is not None:
        UnitReport.objects.filter(pk=previous.pk).update(is_current=False)
    try:
        with transaction.atomic():
            report.save()
    except IntegrityError:
        raise Conflict(_("Someone attested this report at the same moment; reload.")) from None
    audit_record(
        actor=actor,
        action=AuditLog.Action.UPDATE if previous else AuditLog.Action.CREATE,
        obj=report,
        object_repr=f"{unit.name} {day.isoformat()} v{report.version}",
        scope_path=unit.path,
        before=snapshot(previous) if previous else None,
        after=snapshot(report),
    )
    return report


# ------------------------------------------------------------------ deadline sweep


def _due_units(day: dt.date, plan_list: list[Any], now: dt.datetime, kind: str) -> list[int]:
    """Return ids of units whose ``kind`` alarm is due at ``now`` and not raised yet (one query).

    A unit follows the first plan (in deadline order) that matches it; it is due when that
    plan's deadline (reminder) or deadline plus grace (escalation) has passed, it has no
    current report for ``day`` and no alarm of this kind yet.
    """
    grace = kind == ReportAlarm.Kind.ESCALATION
    due = Q(pk__in=[])
    for index, plan in enumerate(plan_list):
        moment = plans.escalation_of(plan, day) if grace else plans.deadline_of(plan, day)
        if now >= moment:
            due |= plans.owned_q(plan_list, index)
    reported = UnitReport.objects.filter(unit=OuterRef("pk"), day=day, is_current=True)
    alarmed = ReportAlarm.objects.filter(unit=OuterRef("pk"), day=day, kind=kind)
    return list(
        plans.reporting_units(day, plan_list)
        .filter(due)
        .filter(~Exists(reported), ~Exists(alarmed))
        .values_list("pk", flat=True)
    )


@transaction.atomic
def deadline_sweep(*, now: dt.datetime) -> dict[str, Any]:
    """Raise the reminders and escalations due at ``now`` for today's missing reports.

    After a plan's deadline every unit it covers without a current report gets a reminder
    (to its reporters); after the deadline plus the grace period, an escalation (to the
    parent unit's admins). Each alarm row is unique per unit, day and kind, so a unit is
    reminded and escalated at most once a day, however often the sweep runs. The rows this
    sweep inserted carry its id and are notified by :func:`alarms_send`.
    """
    day = timezone.localdate(now)
    sweep = uuid.uuid4()
    plan_list = plans.plans_in_force(day)
    candidates = 0
    for kind in ReportAlarm.Kind:
        unit_ids = _due_units(day, plan_list, now, kind) if plan_list else []
        candidates += len(unit_ids)
        ReportAlarm.objects.bulk_create(
            [
                ReportAlarm(unit_id=pk, day=day, kind=kind, sweep=sweep, created_at=now)
                for pk in unit_ids
            ],
            batch_size=500,
            ignore_conflicts=True,  # a concurrent sweep got there first: its row stands
        )
    new = ReportAlarm.objects.filter(sweep=sweep).count() if candidates else 0
    if new:
        audit_record(
            actor=None,
            action=AuditLog.Action.CREATE,
            object_type="reports.reportalarm",
            object_id=str(sweep),
            object_repr=f"{day.isoformat()}: {new} alarm(s)",
            after={"day": day.isoformat(), "new": new},
        )
        # The same database carries the queue: the job becomes visible with these rows.
        async_task("fangkong.reports.tasks.send_alarms", str(sweep), task_name=f"alarms-{sweep}")
    return {"day": day, "sweep": sweep, "new": new}


def alarms_send(*, sweep: uuid.UUID | str) -> int:
    """Notify the recipients of the alarms one sweep raised; return how many were sent."""
    alarms = ReportAlarm.objects.filter(sweep=sweep, sent_at__isnull=True).select_related(
        place_related("unit")
    )
    sent = 0
    for alarm in alarms:
        notify(**_alarm_message(alarm))
        ReportAlarm.objects.filter(pk=alarm.pk).update(sent_at=timezone.now())
        sent += 1
    return sent


def _alarm_message(alarm: ReportAlarm) -> dict[str, Any]:
    """Return the ``notify()`` arguments of one alarm.

    A reminder goes to the unit's reporters; an escalation to the parent unit's admins (a
    root unit has no parent: its own admins hear about it).
    """
    unit, day = alarm.unit, alarm.day.isoformat()
    names = {"unit": unit.place, "day": day}
    if alarm.kind == ReportAlarm.Kind.REMINDER:
        return {
            "event": Event.REPORT_REMINDER,
            "unit": unit,
            "subject": _("Daily report of %(unit)s is missing") % names,
            "body": _(
                "The daily report of %(unit)s for %(day)s has not been attested and the "
                "deadline has passed. Please attest it now (a zero report if nothing is "
                "abnormal)."
            )
            % names,
            "link": f"{reverse('reports:today')}?unit={unit.pk}",
            "to_roles": [Role.REPORTER],
        }
    target = unit.parent or unit
    return {
        "event": Event.REPORT_ESCALATION,
        "unit": target,
        "subject": _("%(unit)s has not reported") % names,
        "body": _(
            "%(unit)s has still not attested its daily report for %(day)s after the deadline "
            "and the grace period. Please follow up."
        )
        % names,
        "link": f"{reverse('reports:rollup')}?unit={target.pk}&day={day}",
        "to_roles": [Role.UNIT_ADMIN],
    }
