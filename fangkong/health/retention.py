"""Closing an outbreak, and erasing its personal data once its retention is over.

An outbreak's period runs from its first day (the day after the previous close; none for
the first outbreak) to the day it was closed. ``purge_after_days`` later, every purger
registered in ``core.retention`` (declarations here; card follow-ups, itineraries and
quarantine checks by the apps above) erases the rows of that period. The day tallies
(``DayTally``) are never touched, so the roll-up and the trend show the same numbers for
those days afterwards. The job runs daily on the task queue and is idempotent: rows that
were still in use at one run (an open card) are erased by a later one.
"""

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from fangkong.accounts.actors import Actor
from fangkong.accounts.roles import Perm
from fangkong.accounts.selectors import require_perm
from fangkong.core import retention
from fangkong.core.audit import audit_record, snapshot
from fangkong.core.errors import Conflict, InvalidInput, NotFound
from fangkong.core.models import AuditLog

from .models import Declaration, OutbreakProfile

PURGE_OBJECT_TYPE = "core.personal_data_purge"
# The numbers the next outbreak starts with: everything but the period and its purge.
_PERIOD_FIELDS = ("id", "created_at", "updated_at", "started_on", "closed_on", "purged_at")


# ------------------------------------------------------------------ closing


def _clean_purge_days(value: Any) -> int:
    field_ = OutbreakProfile._meta.get_field("purge_after_days")
    try:
        days = int(value)
        field_.run_validators(days)
    except (TypeError, ValueError, OverflowError, ValidationError):
        raise InvalidInput(
            detail={"purge_after_days": [_("Give a number of days between 1 and 3650.")]}
        ) from None
    return days


@transaction.atomic
def outbreak_close(
    *, actor: Actor, outbreak_id: Any, purge_after_days: Any, today: dt.date | None = None
) -> OutbreakProfile:
    """Close the open outbreak ``outbreak_id`` today and open the next one tomorrow; audited.

    The id guards against a double submission: an outbreak already closed answers 409
    instead of closing its successor too.
    """
    require_perm(actor, Perm.MANAGE_OUTBREAK)  # the outbreak is group-wide: held anywhere
    days = _clean_purge_days(purge_after_days)
    today = today or timezone.localdate()
    try:
        profile = OutbreakProfile.objects.select_for_update().get(pk=int(outbreak_id))
    except (TypeError, ValueError, OverflowError, OutbreakProfile.DoesNotExist):
        raise NotFound() from None
    if profile.closed_on is not None:
        raise Conflict(
            _("This outbreak was already closed on %(day)s.") % {"day": profile.closed_on}
        )
    if profile.started_on is not None and profile.started_on > today:
        raise Conflict(
            _("This outbreak starts on %(day)s; it cannot be closed before its first day.")
            % {"day": profile.started_on}
        )
    before = snapshot(profile, exclude=("created_at", "updated_at"))
    profile.closed_on, profile.purge_after_days = today, days
    profile.save(update_fields=["closed_on", "purge_after_days", "updated_at"])
    successor = _open_successor(profile)
    audit_record(
        actor=actor,
        action=AuditLog.Action.CLOSE,
        obj=profile,
        before=before,
        after={
            **snapshot(profile, exclude=("created_at", "updated_at")),
            "purge_due_on": str(profile.purge_due_on),
            "next_outbreak": successor.pk,
        },
    )
    return profile


def _open_successor(closed: OutbreakProfile) -> OutbreakProfile:
    numbers = {
        f.name: getattr(closed, f.name)
        for f in OutbreakProfile._meta.concrete_fields
        if f.name not in _PERIOD_FIELDS
    }
    assert closed.closed_on is not None
    # Ids are given, not drawn: the first profile was inserted as id 1 (by a migration or
    # ``current``), which PostgreSQL's sequence never saw. The lock on the closed row
    # keeps two closes from picking the same id.
    next_id = (OutbreakProfile.objects.aggregate(last=Max("pk"))["last"] or 0) + 1
    return OutbreakProfile.objects.create(
        pk=next_id, **numbers, started_on=closed.closed_on + dt.timedelta(days=1)
    )


def closed_outbreaks() -> list[OutbreakProfile]:
    """Return the closed outbreaks, latest first (the outbreak page lists them)."""
    return list(OutbreakProfile.objects.filter(closed_on__isnull=False).order_by("-closed_on"))


# ------------------------------------------------------------------ the health card's purger


def _declarations_due(period: retention.Period) -> Any:
    return Declaration.objects.filter(period.days("day"))


def register() -> None:
    """Called from ``HealthConfig.ready``; DayTally is not registered: the tallies stay."""
    retention.register(
        retention.Purger(
            key="health.declarations",
            label=gettext_lazy("Health declarations"),
            due=_declarations_due,
        )
    )


# ------------------------------------------------------------------ the run


def outbreak_period(outbreak: OutbreakProfile) -> retention.Period:
    assert outbreak.closed_on is not None
    return retention.Period(first=outbreak.started_on, last=outbreak.closed_on)


def outbreaks_due(today: dt.date) -> list[OutbreakProfile]:
    """Return the closed outbreaks whose retention is over on ``today``."""
    closed = OutbreakProfile.objects.filter(closed_on__isnull=False).order_by("closed_on")
    return [o for o in closed if o.purge_due_on is not None and o.purge_due_on <= today]


@dataclass
class PurgeReport:
    """What a run erased (or, dry, would erase): rows per purger key and expired audit rows."""

    dry_run: bool
    outbreaks: list[int] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def as_dict(self) -> dict[str, Any]:
        return {"dry_run": self.dry_run, "outbreaks": self.outbreaks, "counts": self.counts}

    def lines(self) -> list[str]:
        """One line per kind of row, for the management command and the job's log."""
        return [
            f"{self.labels.get(key, key)} ({key}): {n}" for key, n in sorted(self.counts.items())
        ]


def purge_personal_data(
    *, dry_run: bool = False, now: dt.datetime | None = None, actor: Actor = None
) -> PurgeReport:
    """Erase (or, dry, count) the personal data whose retention is over; audited when real."""
    audit_days = retention.audit_retention_days()  # a bad setting stops the run up front
    now = now or timezone.now()
    today = timezone.localdate(now)
    report = PurgeReport(dry_run=dry_run)
    for purger in retention.purgers():
        report.counts[purger.key] = 0
        report.labels[purger.key] = str(purger.label)
    for outbreak in outbreaks_due(today):
        report.outbreaks.append(outbreak.pk)
        period = outbreak_period(outbreak)
        for purger in retention.purgers():
            n = purger.count(period) if dry_run else purger.run(period)
            report.counts[purger.key] += n
        if not dry_run and outbreak.purged_at is None:
            OutbreakProfile.objects.filter(pk=outbreak.pk).update(purged_at=now)
    report.labels[retention.AUDIT_KEY] = _("Audit log entries")
    report.counts[retention.AUDIT_KEY] = (
        retention.expired_audit_rows(now).count() if dry_run else retention.audit_log_purge(now)
    )
    if not dry_run:
        audit_record(
            actor=actor,
            action=AuditLog.Action.DELETE,
            object_type=PURGE_OBJECT_TYPE,
            object_repr="personal data purge",
            after={**report.as_dict(), "audit_retention_days": audit_days},
        )
    return report
