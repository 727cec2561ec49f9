"""Which units report on a day, and by when. Set-based: one query for the plans, one for units."""

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.db.models import Case, Q, QuerySet, TimeField, Value, When
from django.utils import timezone

from fangkong.core.memo import Memo
from fangkong.orgs.models import OrgUnit

from .models import ReportPlan


def _load_active_plans() -> tuple[ReportPlan, ...]:
    return tuple(ReportPlan.objects.filter(is_active=True).order_by("deadline", "id"))


# Read by every roll-up, board and report page and by the deadline sweep; changed a few
# times a year. A change reaches this process at once and the others within 10 s
# (reports.apps watches the model).
active_plans = Memo(_load_active_plans, seconds=10)


def plans_in_force(day: dt.date) -> list[ReportPlan]:
    """Return the active plans effective on ``day``, earliest deadline first."""
    return [
        plan
        for plan in active_plans.get()
        if in_force(plan, day) and (plan.unit_kinds or plan.depths)
    ]


def plan_q(plan: ReportPlan) -> Q:
    """Return the condition a unit meets to report under ``plan`` (plans match something)."""
    parts = []
    if plan.unit_kinds:
        parts.append(Q(kind__in=list(plan.unit_kinds)))
    if plan.depths:
        parts.append(Q(depth__in=[int(d) for d in plan.depths]))
    condition = parts[0]
    for part in parts[1:]:
        condition |= part
    return condition


def owned_q(plan_list: list[ReportPlan], index: int) -> Q:
    """Return the condition for units whose first matching plan is ``plan_list[index]``."""
    condition = plan_q(plan_list[index])
    for earlier in plan_list[:index]:
        condition &= ~plan_q(earlier)
    return condition


def any_plan_q(plans: list[ReportPlan]) -> Q:
    condition = Q()
    for plan in plans:
        condition |= plan_q(plan)
    return condition


def reporting_units(day: dt.date, plans: list[ReportPlan] | None = None) -> QuerySet[Any]:
    """Return the units that must report on ``day``: open then, and matching a plan in force.

    Each unit carries ``deadline`` (local time) and ``grace`` (minutes) of the first plan that
    matches it in deadline order, i.e. the earliest deadline applies. Unordered: callers
    that list units order them.
    """
    plans = plans_in_force(day) if plans is None else plans
    if not plans:
        # Empty, with the same annotations, so that callers may still filter on them.
        return OrgUnit.objects.none().annotate(
            deadline=Value(None, output_field=TimeField()), grace=Value(0)
        )
    return (
        OrgUnit.objects.open_on(day)
        # Without the model's default order by path, SQLite seeks the (kind, path) index
        # instead of walking every unit of the subtree in path order (half the time for
        # the group roll-up's reporting units).
        .order_by()
        .filter(any_plan_q(plans))
        .annotate(
            deadline=first_match(plans, [p.deadline for p in plans], output_field=TimeField()),
            grace=first_match(plans, [p.grace_minutes for p in plans]),
        )
    )


def first_match(plans: list[ReportPlan], values: Sequence[Any], **case: Any) -> Case:
    """Return a CASE giving each unit ``values[i]`` of the first of ``plans`` it matches."""
    return Case(
        *[When(plan_q(p), then=Value(v)) for p, v in zip(plans, values, strict=True)], **case
    )


def in_force(plan: ReportPlan, day: dt.date) -> bool:
    """Tell whether ``plan`` is effective on ``day`` (as :func:`plans_in_force` selects)."""
    return plan.valid_from <= day and (plan.valid_to is None or plan.valid_to >= day)


def covers(plan: ReportPlan, *, kind: str, depth: int) -> bool:
    """Tell whether a unit of ``kind`` at ``depth`` reports under ``plan`` (as :func:`plan_q`)."""
    return kind in plan.unit_kinds or depth in [int(d) for d in plan.depths]


def plan_for(unit: OrgUnit, day: dt.date) -> ReportPlan | None:
    """Return the plan (earliest deadline) under which ``unit`` reports on ``day``, or None."""
    if unit.valid_from > day or (unit.valid_to is not None and unit.valid_to <= day):
        return None
    for plan in plans_in_force(day):
        if covers(plan, kind=unit.kind, depth=unit.depth):
            return plan
    return None


def local_moment(day: dt.date, at: dt.time, *, minutes: int = 0) -> dt.datetime:
    """Return the aware datetime of local time ``at`` on ``day`` plus ``minutes``."""
    moment = dt.datetime.combine(day, at, timezone.get_default_timezone())
    return moment + dt.timedelta(minutes=minutes)


def deadline_of(plan: Any, day: dt.date) -> dt.datetime:
    return local_moment(day, plan.deadline)


def escalation_of(plan: Any, day: dt.date) -> dt.datetime:
    return local_moment(day, plan.deadline, minutes=plan.grace_minutes)
