"""Deterministic demo reports for the week of demo declarations, so the dashboard tells a story.

Most reporting units attest before the deadline, and most of those with nothing abnormal
send a zero report. The community 翠溪北区 (code ``C01``) missed yesterday's and today's
reports: yesterday it was reminded and escalated; today's alarms come from the real sweep.
One plant (``SXXCL-P1``) reported late yesterday, after its reminder.
"""

import datetime as dt
import random
import uuid
from typing import Any

from django.db import transaction
from django.utils import timezone

from fangkong.accounts.models import RoleAssignment, User
from fangkong.accounts.roles import Perm, Role, role_grants
from fangkong.orgs.demo import DEMO_PASSWORD
from fangkong.orgs.models import OrgUnit

from . import plans, services
from .figures import figures_by_subtree
from .models import ReportAlarm, UnitReport

MISSING_UNIT = "C01"
LATE_UNIT = "SXXCL-P1"
REPORT_ACCOUNTS = [
    # (username, display name, role, unit code)
    ("plant_reporter", "氧化铝厂填报员", Role.REPORTER, "SDLY-P1"),
    ("community_reporter", "翠溪北区填报员", Role.REPORTER, MISSING_UNIT),
    ("sxxcl_admin", "山西新材料防控办", Role.UNIT_ADMIN, "SXXCL"),
]


def create_report_accounts() -> list[tuple[str, str, str]]:
    """Create the reporters and the admin the reports story needs; return (user, role, unit)."""
    units = {u.code: u for u in OrgUnit.objects.filter(code__in=[a[3] for a in REPORT_ACCOUNTS])}
    made = []
    for username, display, role, code in REPORT_ACCOUNTS:
        unit = units.get(code)
        if unit is None or User.objects.filter(username=username).exists():
            continue
        user = User(username=username, display_name=display)
        user.set_password(DEMO_PASSWORD)
        user.save()
        RoleAssignment.objects.create(user=user, role=role, unit=unit)
        made.append((username, str(Role(role).label), unit.name))
    return made


def _attested_at(
    rng: random.Random, unit: Any, day: dt.date, yesterday: dt.date
) -> dt.datetime | None:
    """Return when ``unit`` attested on ``day`` in the story, or None if it did not."""
    if unit.code == MISSING_UNIT and day >= yesterday:
        return None
    if unit.code == LATE_UNIT and day == yesterday:
        return plans.local_moment(day, unit.deadline, minutes=80)
    return plans.local_moment(day, unit.deadline, minutes=-rng.randrange(5, 180))


def _attesters(units: list[Any]) -> dict[int, User]:
    """Who attests each unit's report in the story: the nearest holder of the attest
    permission at or above it (a reporter before an admin of the same unit), so the board
    names someone for every report, as it does for reports attested on the page.
    """
    roles = [role for role in Role if role_grants(role, Perm.ATTEST_REPORT)]
    holders = sorted(
        RoleAssignment.objects.filter(role__in=roles, user__is_active=True).select_related(
            "user", "unit"
        ),
        key=lambda a: (-len(a.unit.path), a.role != Role.REPORTER, a.user_id),
    )
    found = {}
    for unit in units:
        holder = next((a for a in holders if unit.path.startswith(a.unit.path)), None)
        if holder is not None:
            found[unit.pk] = holder.user
    return found


def _past_alarms(units: dict[str, Any], yesterday: dt.date) -> list[ReportAlarm]:
    """The alarms yesterday's sweeps raised: the late plant's reminder, the community's two."""
    alarms = []
    story = [(LATE_UNIT, [ReportAlarm.Kind.REMINDER])]
    story.append((MISSING_UNIT, [ReportAlarm.Kind.REMINDER, ReportAlarm.Kind.ESCALATION]))
    for code, kinds in story:
        unit = units.get(code)
        if unit is None:
            continue
        for kind in kinds:
            grace = unit.grace if kind == ReportAlarm.Kind.ESCALATION else 0
            moment = plans.local_moment(yesterday, unit.deadline, minutes=grace)
            alarms.append(
                ReportAlarm(
                    unit=unit,
                    day=yesterday,
                    kind=kind,
                    sweep=uuid.uuid4(),
                    created_at=moment,
                    sent_at=moment,
                )
            )
    return alarms


@transaction.atomic
def seed_reports(
    *, days: int = 7, now: dt.datetime | None = None, seed: int = 20200317, sweep: bool = True
) -> dict[str, int]:
    """Attest the reports of the ``days`` ending today as the story says; return counts."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    yesterday = today - dt.timedelta(days=1)
    rng = random.Random(seed)
    reports: list[UnitReport] = []
    alarms: list[ReportAlarm] = []
    for offset in range(days - 1, -1, -1):
        day = today - dt.timedelta(days=offset)
        units = list(plans.reporting_units(day).order_by("path"))
        figures = figures_by_subtree([u.path for u in units], day)
        attesters = _attesters(units)
        for unit in units:
            attested_at = _attested_at(rng, unit, day, yesterday)
            if attested_at is None or attested_at > now:
                continue
            f = figures[unit.path]
            reports.append(
                UnitReport(
                    unit=unit,
                    unit_path=unit.path,
                    day=day,
                    **f.report_fields(),
                    is_zero=not f.has_abnormal and rng.random() < 0.85,
                    is_late=attested_at > plans.local_moment(day, unit.deadline),
                    attested_at=attested_at,
                    attested_by=attesters.get(unit.pk),
                )
            )
        if day == yesterday:
            alarms = _past_alarms({u.code: u for u in units}, yesterday)
    UnitReport.objects.bulk_create(reports, batch_size=2000)
    ReportAlarm.objects.bulk_create(alarms)
    swept = services.deadline_sweep(now=now)["new"] if sweep else 0
    return {"reports": len(reports), "alarms": len(alarms) + swept}
