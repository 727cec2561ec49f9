"""Every read of the reports app, scoped to what the caller may see.

Roll-up figures are counts without names: VIEW_ROLLUP covers them. Attesting needs
ATTEST_REPORT on the unit.
"""

import datetime as dt
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

from django.db.models import Count, Exists, FilteredRelation, OuterRef, Q, QuerySet, Sum
from django.utils import timezone

from fangkong.accounts.actors import Viewer
from fangkong.accounts.roles import Perm
from fangkong.accounts.selectors import scope_for
from fangkong.core.errors import NotFound, PermissionDenied
from fangkong.core.paths import ancestor_paths, child_prefix, is_within, subtree_q
from fangkong.orgs.models import OrgUnit, Person, place_related
from fangkong.orgs.selectors import subtree_headcount

from . import plans
from .figures import (
    DeclarationFigures,
    subtree_figures,
    tallies_under,
    unit_and_children_figures,
)
from .models import UnitReport

TREND_DAYS_MAX = 92


# ------------------------------------------------------------------ report states


@dataclass
class ReportCounts:
    """How the reporting units of a subtree stand on one day.

    ``missing`` have no report and their deadline has passed; ``pending`` have none yet and
    their deadline is still ahead. ``on_time + late + missing + pending == expected``.
    """

    expected: int = 0
    on_time: int = 0
    late: int = 0
    missing: int = 0
    pending: int = 0
    zero: int = 0

    @property
    def reported(self) -> int:
        return self.on_time + self.late

    def as_dict(self) -> dict[str, int]:
        return {**asdict(self), "reported": self.reported}

    def add(self, state: str, zero: bool, n: int = 1) -> None:
        self.expected += n
        setattr(self, state, getattr(self, state) + n)
        self.zero += n if zero else 0


def with_current_report(units: QuerySet[Any], day: dt.date) -> QuerySet[Any]:
    """Join each unit to its current report of ``day`` (if any) as ``cur``."""
    return units.annotate(
        cur=FilteredRelation(
            "daily_reports",
            condition=Q(daily_reports__day=day, daily_reports__is_current=True),
        )
    )


def report_state(*, late: bool | None, deadline: dt.time, day: dt.date, now: dt.datetime) -> str:
    """Return on_time, late, missing or pending for one unit (``late`` None: no report)."""
    if late is None:
        return "missing" if now >= plans.local_moment(day, deadline) else "pending"
    return "late" if late else "on_time"


# ------------------------------------------------------------------ roll-up


@dataclass
class RollupRow:
    unit: OrgUnit
    figures: DeclarationFigures
    reports: ReportCounts
    # What the page shows of each figure, with the link to what it counts (views.py).
    cells: dict[str, Any] = field(default_factory=dict)
    cells_html: str = ""  # a sub-unit's row of cells, as the page writes it

    def as_dict(self) -> dict[str, Any]:
        return {
            "unit_id": self.unit.pk,
            "code": self.unit.code,
            "name": self.unit.name,
            "kind": self.unit.kind,
            "has_children": getattr(self.unit, "has_children", None),
            **self.figures.as_dict(),
            "reports": self.reports.as_dict(),
        }


@dataclass
class Rollup:
    day: dt.date
    total: RollupRow
    children: list[RollupRow] = field(default_factory=list)


def rollup_unit_get(user: Viewer, unit_id: Any) -> OrgUnit:
    """Return a unit the user may see the roll-up of; NotFound otherwise."""
    from fangkong.orgs.selectors import unit_get

    return unit_get(user, unit_id, Perm.VIEW_ROLLUP)


def rollup_unit_or_default(user: Viewer, unit_id: Any) -> OrgUnit:
    """Return the unit asked for (NotFound outside the scope), else the top of the scope.

    PermissionDenied when the user sees no roll-up at all.
    """
    if unit_id:
        return rollup_unit_get(user, unit_id)
    unit = rollup_default_unit(user)
    if unit is None:
        raise PermissionDenied()
    return unit


def rollup_default_unit(user: Viewer) -> OrgUnit | None:
    """Return the top unit of the user's roll-up scope (the dashboard opens there)."""
    scope = scope_for(user, Perm.VIEW_ROLLUP)
    units = OrgUnit.objects.filter(valid_to__isnull=True)
    if scope.everything:
        return units.order_by("depth", "path").first()
    return units.filter(path__in=scope.paths).order_by("depth", "path").first()


def _require_rollup(user: Viewer, unit: OrgUnit) -> None:
    if not scope_for(user, Perm.VIEW_ROLLUP).covers(unit.path):
        raise NotFound()


def _children(unit: OrgUnit, day: dt.date) -> tuple[list[OrgUnit], list[str]]:
    """Return the children open on ``day`` (with ``has_children``) and every child's path."""
    open_below = OrgUnit.objects.open_on(day).filter(parent=OuterRef("pk"))
    every = list(
        OrgUnit.objects.filter(parent=unit)
        .annotate(has_children=Exists(open_below))
        .order_by("code")
    )
    children = [
        child
        for child in every
        if child.valid_from <= day and (child.valid_to is None or child.valid_to > day)
    ]
    return children, [child.path for child in every]


def report_counts_by_child(
    unit: OrgUnit, children: list[OrgUnit], day: dt.date, now: dt.datetime
) -> tuple[ReportCounts, dict[int, ReportCounts]]:
    """Count report states of the reporting units in ``unit``'s subtree, per child (1 query).

    The database counts the units per (child, plan, late, zero): each unit goes to the
    child whose path prefixes its own (``child_prefix``), and a few rows come back however
    many units report. The plan's rank, not its deadline, comes from the database, which
    spares a time per row; the keys are turned into states afterwards.
    """
    plan_list = plans.plans_in_force(day)
    total = ReportCounts()
    by_child = {child.pk: ReportCounts() for child in children}
    if not plan_list:  # a day before any report plan (2019-12-30): nobody reported
        return total, by_child
    rows = (
        with_current_report(plans.reporting_units(day, plan_list), day)
        .filter(subtree_q("path", unit.path))
        .annotate(
            plan_rank=plans.first_match(plan_list, range(len(plan_list))),
            child=child_prefix(unit.path, "path"),
        )
        .values("child", "plan_rank", "cur__is_late", "cur__is_zero")
        .annotate(n=Count("pk"))
        .order_by()
        .values_list("child", "plan_rank", "cur__is_late", "cur__is_zero", "n")
    )
    child_ids = {child.path: child.pk for child in children}
    tally: Counter[tuple[int | None, int, bool | None, bool]] = Counter()
    for path, rank, late, zero, n in rows:
        tally[child_ids.get(path), rank, late, bool(zero)] += n
    for (child, rank, late, zero), n in tally.items():
        state = report_state(late=late, deadline=plan_list[rank].deadline, day=day, now=now)
        total.add(state, zero, n)
        if child in by_child:
            by_child[child].add(state, zero, n)
    return total, by_child


def rollup(*, user: Viewer, unit: OrgUnit, day: dt.date, now: dt.datetime | None = None) -> Rollup:
    """Return the live figures of ``unit`` and of each child open on ``day``.

    The number of queries does not grow with the number of children beyond a dozen (see
    ``figures_by_subtree``): a range count per child up to then, grouped counts above.
    """
    _require_rollup(user, unit)
    now = now or timezone.now()
    children, every_child_path = _children(unit, day)
    figures = unit_and_children_figures(unit.path, every_child_path, day)
    total_reports, child_reports = report_counts_by_child(unit, children, day, now)
    return Rollup(
        day=day,
        total=RollupRow(unit, figures[unit.path], total_reports),
        children=[RollupRow(c, figures[c.path], child_reports[c.pk]) for c in children],
    )


def rollup_breadcrumbs(user: Viewer, unit: OrgUnit) -> list[OrgUnit]:
    """Return the ancestors of ``unit`` whose roll-up the user may see, root first."""
    scope = scope_for(user, Perm.VIEW_ROLLUP)
    paths = [p for p in ancestor_paths(unit.path) if scope.covers(p)]
    by_path = {u.path: u for u in OrgUnit.objects.filter(path__in=paths)}
    return [by_path[p] for p in paths if p in by_path]


# ------------------------------------------------------------------ trend


def trend(
    *,
    user: Viewer,
    unit: OrgUnit,
    days: int = 30,
    today: dt.date | None = None,
    last: DeclarationFigures | None = None,
) -> list[dict[str, Any]]:
    """Return expected, declared, abnormal and report counts for each of the last ``days``.

    Seven queries whatever the number of days: declarations and reports grouped by day,
    people by joining date, reporting units by period and kind. ``last`` is the unit's
    figures of the last day when the caller has them already (the roll-up of that day):
    its expected, declared and abnormal people are not counted again (one query fewer,
    and the day's tallies are not read twice).
    """
    _require_rollup(user, unit)
    days = max(1, min(int(days), TREND_DAYS_MAX))
    today = today or timezone.localdate()
    window = [today - dt.timedelta(days=n) for n in range(days - 1, -1, -1)]
    inside = subtree_q("unit_path", unit.path)
    declared: dict[dt.date, dict[str, Any]] = {
        row["day"]: row
        for row in tallies_under(unit.path)
        .filter(day__in=window if last is None else window[:-1])
        .filter(inside)
        .values("day")
        .annotate(declared=Sum("declared"), abnormal=Sum("abnormal"))
        .order_by()
    }
    if last is not None:
        declared[today] = {"declared": last.declared, "abnormal": last.abnormal}
    expected_by_day = _expected_by_day(unit, window, last.expected if last else None)
    reported = {
        row["day"]: row
        for row in UnitReport.objects.filter(is_current=True, day__in=window)
        .filter(subtree_q("unit_path", unit.path))
        .values("day")
        .annotate(  # columns of the index, so PostgreSQL counts from it alone (not the id)
            reported=Count("day"),
            late=Count("is_late", filter=Q(is_late=True)),
            zero=Count("is_zero", filter=Q(is_zero=True)),
        )
        .order_by()
    }
    reports_expected = _reporting_units_by_day(unit, window)
    result = []
    for day in window:
        d, r = declared.get(day, {}), reported.get(day, {})
        result.append(
            {
                "day": day,
                "expected": expected_by_day[day],
                "declared": d.get("declared", 0),
                "abnormal": d.get("abnormal", 0),
                "reports_expected": reports_expected[day],
                "reported": r.get("reported", 0),
                "late": r.get("late", 0),
                "zero": r.get("zero", 0),
            }
        )
    return result


def trend_since_first_data(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Drop the days before the first declaration or report (the last day always stays):
    a chart of the weeks before the system was used shows nothing but empty bars.
    """
    first = next(
        (n for n, row in enumerate(rows) if row["declared"] or row["reported"]), len(rows) - 1
    )
    return rows[max(first, 0) :]


def _expected_by_day(
    unit: OrgUnit, window: list[dt.date], last: int | None = None
) -> dict[dt.date, int]:
    """People expected on each day: those expected on the last day (given, or today's
    head-count less those who join after it) less those who joined after each day.

    At most two queries that read no person but the few who joined inside the window (the
    index on ``joined_on``): the head-count is a sum of the kept per-unit counts.
    """
    # Everyone who joined since, then the subtree in Python: with a path range in the
    # query SQLite walks the whole subtree on the path index (the group: every person).
    joined_later: Counter[dt.date] = Counter(
        joined_on
        for path, joined_on in Person.objects.filter(
            is_active=True, joined_on__gt=window[0]
        ).values_list("unit_path", "joined_on")
        if joined_on is not None and is_within(path, unit.path)
    )
    if last is None:
        not_yet = sum(n for day, n in joined_later.items() if day > window[-1])
        last = subtree_headcount(unit.path) - not_yet
    result = {window[-1]: last}
    for day, next_day in zip(window[-2::-1], window[:0:-1], strict=True):
        result[day] = result[next_day] - joined_later.get(next_day, 0)
    return result


def _reporting_units_by_day(unit: OrgUnit, window: list[dt.date]) -> dict[dt.date, int]:
    """Reporting units on each day, from units grouped by kind, depth and period (2 queries)."""
    all_plans = list(plans.active_plans.get())
    if not all_plans:
        return dict.fromkeys(window, 0)
    # Only units some plan covers (a seek on the (kind, path) index, not every unit).
    groups: list[dict[str, Any]] = list(
        OrgUnit.objects.filter(plans.any_plan_q(all_plans))
        .filter(subtree_q("path", unit.path), valid_from__lte=window[-1])
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gt=window[0]))
        .values("kind", "depth", "valid_from", "valid_to")
        .annotate(n=Count("id"))
        .order_by()
    )
    result = {}
    for day in window:
        in_force = [p for p in all_plans if plans.in_force(p, day)]
        result[day] = sum(
            g["n"]
            for g in groups
            if g["valid_from"] <= day
            and (g["valid_to"] is None or g["valid_to"] > day)
            and any(plans.covers(p, kind=g["kind"], depth=g["depth"]) for p in in_force)
        )
    return result


# ------------------------------------------------------------------ daily reports


def attestable_units(user: Viewer, day: dt.date) -> QuerySet[OrgUnit]:
    """Return the units that must report on ``day`` and that the user may attest."""
    return scope_for(user, Perm.ATTEST_REPORT).filter(plans.reporting_units(day))


def report_unit_get(user: Viewer, unit_id: Any) -> OrgUnit:
    """Return a unit whose report the user may see or attest; NotFound otherwise.

    Attesting itself is checked by the service (403 for a unit seen but not attestable).
    """
    from fangkong.orgs.selectors import unit_get

    unit = unit_get(user, unit_id)
    _require_rollup_or_attest(user, unit)
    return unit


@dataclass(frozen=True)
class ReportFilter:
    day: dt.date
    unit: OrgUnit | None = None
    # on_time, late, missing (no report yet, deadline or not), overdue (no report and the
    # deadline has passed: the roll-up's "missing"), zero
    state: str = ""
    query: str = ""


def report_board(user: Viewer, filters: ReportFilter) -> QuerySet[Any]:
    """Return the reporting units of a day in the user's roll-up scope with their report.

    Each unit carries ``deadline`` and the current report's fields as ``cur__…``.
    PermissionDenied when the user sees no roll-up at all.
    """
    scope = scope_for(user, Perm.VIEW_ROLLUP)
    if scope.is_empty:
        raise PermissionDenied()
    units = scope.filter(plans.reporting_units(filters.day))
    if filters.unit is not None:
        units = units.filter(subtree_q("path", filters.unit.path))
    if filters.query:
        units = units.filter(Q(name__icontains=filters.query) | Q(code__istartswith=filters.query))
    units = with_current_report(units, filters.day)
    if filters.state == "on_time":
        units = units.filter(cur__is_late=False)
    elif filters.state == "late":
        units = units.filter(cur__is_late=True)
    elif filters.state == "missing":
        units = units.filter(cur__id__isnull=True)
    elif filters.state == "overdue":
        units = units.filter(cur__id__isnull=True).filter(_deadline_passed(filters.day))
    elif filters.state == "zero":
        units = units.filter(cur__is_zero=True)
    return units.select_related(place_related()).order_by("path")


def _deadline_passed(day: dt.date, now: dt.datetime | None = None) -> Q:
    """Reporting units whose deadline on ``day`` has passed (``report_state``'s "missing")."""
    now = timezone.localtime(now or timezone.now())
    if day < now.date():
        return Q()
    if day > now.date():
        return Q(pk__in=[])
    return Q(deadline__lte=now.time())


def board_rows(units: Any, day: dt.date, now: dt.datetime | None = None) -> list[dict[str, Any]]:
    """Return one row per unit: its current report (or None) and its state."""
    now = now or timezone.now()
    units = list(units)
    reports = {
        r.unit_id: r
        for r in UnitReport.objects.filter(
            unit__in=[u.pk for u in units], day=day, is_current=True
        ).select_related("attested_by")
    }
    rows = []
    for unit in units:
        report = reports.get(unit.pk)
        late = None if report is None else report.is_late
        rows.append(
            {
                "unit": unit,
                "report": report,
                "state": report_state(late=late, deadline=unit.deadline, day=day, now=now),
            }
        )
    return rows


def report_history(user: Viewer, unit: OrgUnit, day: dt.date) -> list[UnitReport]:
    """Return every version of ``unit``'s report for ``day``, newest first."""
    _require_rollup_or_attest(user, unit)
    return list(
        UnitReport.objects.filter(unit=unit, day=day)
        .select_related("attested_by")
        .order_by("-version")
    )


def _require_rollup_or_attest(user: Viewer, unit: OrgUnit) -> None:
    if not (
        scope_for(user, Perm.VIEW_ROLLUP).covers(unit.path)
        or scope_for(user, Perm.ATTEST_REPORT).covers(unit.path)
    ):
        raise NotFound()


def report_prefill(user: Viewer, unit: OrgUnit, day: dt.date) -> DeclarationFigures:
    """Return the figures a report of ``unit`` for ``day`` would carry now."""
    _require_rollup_or_attest(user, unit)
    return subtree_figures(unit.path, day)


def deadline_for(unit: OrgUnit, day: dt.date) -> dt.datetime | None:
    """Return when ``unit``'s report for ``day`` is due, or None if it does not report."""
    plan = plans.plan_for(unit, day)
    return plans.deadline_of(plan, day) if plan else None
