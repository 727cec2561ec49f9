"""Every read of the problems, filtered by the reader's scope (VIEW_PROBLEMS).

The 台账 list, the figures by unit and period and the home page's counts all go through
``problems_search`` with a ``ProblemFilter``: a figure and the list it links to count the
same rows. The figures sum a unit's children in one statement per figure group
(``core.paths.sums_by_child``), however many children the unit has.
"""

import datetime as dt
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from django.db.models import Case, Exists, F, IntegerField, OuterRef, Q, QuerySet, Sum, When
from django.utils import timezone

from fangkong.accounts.actors import Viewer
from fangkong.accounts.models import RoleAssignment, User
from fangkong.accounts.roles import Perm, roles_holding
from fangkong.accounts.selectors import require_perm, scope_for
from fangkong.core.errors import NotFound
from fangkong.core.paths import ancestor_paths, subtree_q, subtree_range, sums_by_child
from fangkong.core.retention import local_midnight
from fangkong.orgs.models import OrgUnit, place_related
from fangkong.orgs.selectors import unit_by_key

from .ledger_kind import ACCEPTED, CLOSED, KIND, SUBMITTED
from .models import ColourCount, Problem, Saving, Target
from .services import COLOURED_STATES, effect_check_day

UNIT_PATH = "item__unit_path"


@dataclass(frozen=True)
class ProblemFilter:
    """What the 台账 list can be narrowed to; every field optional.

    ``state``: "open", "closed" or one state of the kind. ``overdue``: open, not yet
    accepted and past the due day (what red means). ``opened_*``/``closed_*``: local days,
    both ends included. ``active_*``: open at some moment of the period (opened before its
    end, not closed before its start). ``awaiting``: submitted work the viewer's units
    accept. ``check_due``: accepted work whose effectiveness check day has come.
    """

    unit: OrgUnit | None = None
    state: str = ""
    colour: str = ""
    source: str = ""
    severity: str = ""
    problem_class: str = ""
    overdue: bool | None = None
    q: str = ""
    opened_from: dt.date | None = None
    opened_to: dt.date | None = None
    closed_from: dt.date | None = None
    closed_to: dt.date | None = None
    active_from: dt.date | None = None
    active_to: dt.date | None = None
    on_time: bool | None = None
    with_targets: bool = False
    with_savings: bool = False
    owner: User | None = None
    awaiting: bool = False
    check_due: bool = False


def _today() -> dt.date:
    return timezone.localdate()


def _day_start(day: dt.date) -> dt.datetime:
    return local_midnight(day)


def _day_end(day: dt.date) -> dt.datetime:
    return local_midnight(day + dt.timedelta(days=1))


def overdue_q(today: dt.date) -> Q:
    """Open work not yet accepted whose due day has passed (the colour red)."""
    return Q(item__is_open=True, item__state__in=COLOURED_STATES, due_on__lt=today)


def is_overdue(problem: Problem, today: dt.date | None = None) -> bool:
    """``overdue_q`` for one problem already read (with its item)."""
    item = problem.item
    today = today or _today()
    return bool(item and item.is_open and item.state in COLOURED_STATES and problem.due_on < today)


def _check_due_q(problems: QuerySet[Problem], today: dt.date) -> Q:
    """Accepted work whose check day (N days after the acceptance) is today or before."""
    days = problems.filter(item__state=ACCEPTED).values_list("effect_check_days", flat=True)
    condition = Q(pk__in=[])
    for n in sorted(set(days)):
        condition |= Q(effect_check_days=n, accepted_at__lt=_day_end(today - dt.timedelta(days=n)))
    return Q(item__state=ACCEPTED, item__is_open=True) & condition


def problems_visible(user: Viewer) -> QuerySet[Problem]:
    """The problems the user may see (403 for a user who sees none anywhere)."""
    require_perm(user, Perm.VIEW_PROBLEMS)
    rows = Problem.objects.filter(item__kind=KIND)
    return scope_for(user, Perm.VIEW_PROBLEMS).filter(rows, UNIT_PATH)


def problems_search(
    user: Viewer, filters: ProblemFilter | None = None, *, today: dt.date | None = None
) -> QuerySet[Problem]:
    """The user's problems narrowed by ``filters``, the most urgent first."""
    f = filters or ProblemFilter()
    today = today or _today()
    rows = problems_visible(user)
    if f.unit is not None:
        rows = rows.filter(subtree_q(UNIT_PATH, f.unit.path))
    if f.state == "open":
        rows = rows.filter(item__is_open=True)
    elif f.state == "closed":
        rows = rows.filter(item__is_open=False)
    elif f.state:
        rows = rows.filter(item__state=f.state)
    if f.colour:
        rows = rows.filter(colour="" if f.colour == "none" else f.colour, item__is_open=True)
    for name in ("source", "severity", "problem_class"):
        if getattr(f, name):
            rows = rows.filter(**{name: getattr(f, name)})
    if f.overdue is True:
        rows = rows.filter(overdue_q(today))
    elif f.overdue is False:
        rows = rows.exclude(overdue_q(today))
    if f.q.strip():
        q = f.q.strip()
        rows = rows.filter(Q(title__icontains=q) | Q(source_ref__icontains=q))
    if f.opened_from:
        rows = rows.filter(item__opened_at__gte=_day_start(f.opened_from))
    if f.opened_to:
        rows = rows.filter(item__opened_at__lt=_day_end(f.opened_to))
    if f.closed_from or f.closed_to:
        rows = rows.filter(item__is_open=False, item__state=CLOSED)
    if f.closed_from:
        rows = rows.filter(item__closed_at__gte=_day_start(f.closed_from))
    if f.closed_to:
        rows = rows.filter(item__closed_at__lt=_day_end(f.closed_to))
    if f.active_to:
        rows = rows.filter(item__opened_at__lt=_day_end(f.active_to))
    if f.active_from:
        rows = rows.filter(
            Q(item__is_open=True) | Q(item__closed_at__gte=_day_start(f.active_from))
        )
    if f.on_time is not None:
        rows = rows.filter(on_time=f.on_time)
    if f.with_targets:
        rows = rows.filter(Exists(Target.objects.filter(problem=OuterRef("pk"))))
    if f.with_savings:
        rows = rows.filter(Exists(Saving.objects.filter(problem=OuterRef("pk"))))
    if f.owner is not None:
        rows = rows.filter(item__owners=f.owner, item__is_open=True)
    if f.awaiting:
        accepting = scope_for(user, Perm.ACCEPT_PROBLEMS)
        rows = accepting.filter(rows.filter(item__state=SUBMITTED), "assigning_path")
        if isinstance(user, User):  # an owner never accepts their own work
            rows = rows.exclude(item__owners=user)
    if f.check_due:
        accepting = scope_for(user, Perm.ACCEPT_PROBLEMS)
        rows = accepting.filter(rows, "assigning_path")
        rows = rows.filter(_check_due_q(rows, today))
    return rows


def with_list_columns(rows: QuerySet[Problem]) -> QuerySet[Problem]:
    """What a list row shows, loaded in a fixed number of queries whatever its length."""
    return (
        rows.select_related("item", place_related("item__unit"), "assigning_unit")
        .prefetch_related("targets", "item__owners")
        .order_by("-item__is_open", "due_on", "-id")
    )


def problem_get(user: Viewer, pk: Any) -> Problem:
    """Problem ``pk`` if the user may see it; NotFound otherwise."""
    problem = (
        Problem.objects.select_related("item", place_related("item__unit"), "assigning_unit")
        .filter(pk=pk, item__kind=KIND)
        .first()
    )
    if problem is None or problem.item is None:
        raise NotFound()
    if not scope_for(user, Perm.VIEW_PROBLEMS).covers(problem.item.unit_path):
        raise NotFound()
    return problem


def owner_candidates(problem: Problem) -> QuerySet[User]:
    """Active users holding RECTIFY on the problem's responsible unit or a unit above it."""
    assert problem.item is not None
    roles = roles_holding(Perm.RECTIFY)
    holders = RoleAssignment.objects.filter(
        role__in=roles,
        unit__path__in=ancestor_paths(problem.item.unit_path),
        unit__valid_to__isnull=True,
    ).values("user_id")
    return User.objects.filter(pk__in=holders, is_active=True).order_by("username")


def assigning_units(user: Viewer) -> QuerySet[OrgUnit]:
    """The units where the user holds RECTIFY: those they may register problems for."""
    scope = scope_for(user, Perm.RECTIFY)
    if scope.everything:
        return OrgUnit.objects.filter(parent__isnull=True, valid_to__isnull=True)
    return OrgUnit.objects.filter(path__in=scope.paths, valid_to__isnull=True).order_by("path")


def unit_for_problems(user: Viewer, key: str) -> OrgUnit:
    """The unit named by code or id, if the user sees problems there; NotFound else."""
    return unit_by_key(user, key, Perm.VIEW_PROBLEMS)


def default_unit(user: Viewer) -> OrgUnit | None:
    """The top of the user's problem scope (the first subtree root)."""
    scope = scope_for(user, Perm.VIEW_PROBLEMS)
    if scope.everything:
        return OrgUnit.objects.filter(parent__isnull=True).order_by("path").first()
    return OrgUnit.objects.filter(path__in=scope.paths).order_by("path").first()


# ------------------------------------------------------------------ the problem page


@dataclass
class TargetRow:
    target: Target
    percent: int


def done_percent(target: Target) -> int:
    """How much of a target is done, rounded (300 of 698: 43), at most 100."""
    return round(min(target.done / target.target, Decimal(1)) * 100)


def target_rows(problem: Problem) -> list[TargetRow]:
    return [TargetRow(t, done_percent(t)) for t in problem.targets.all()]


def saved_percent(baseline: Decimal | int, current: Decimal | int) -> Decimal | None:
    """How much lower ``current`` is than ``baseline``, in percent, one decimal."""
    if not baseline:
        return None
    return ((Decimal(baseline) - Decimal(current)) * 100 / Decimal(baseline)).quantize(
        Decimal("0.1")
    )


def check_day(problem: Problem) -> dt.date | None:
    return effect_check_day(problem)


# ------------------------------------------------------------------ figures


@dataclass
class Figures:
    """One unit's (or one child's subtree's) figures for a period."""

    unit: OrgUnit
    found: int = 0
    closed: int = 0
    on_time: int = 0
    overdue: int = 0
    target_done: int = 0
    target_total: int = 0
    baseline: int = 0
    current: int = 0
    own: bool = False  # the unit's own row (problems placed on it directly)

    @property
    def done_percent(self) -> Decimal | None:
        if not self.target_total:
            return None
        return (Decimal(self.target_done) * 100 / self.target_total).quantize(Decimal("0.1"))

    @property
    def saved_percent(self) -> Decimal | None:
        return saved_percent(self.baseline, self.current)


def _flag(condition: Q) -> Case:
    return Case(When(condition, then=1), default=0, output_field=IntegerField())


def figures_by_child(
    user: Viewer, unit: OrgUnit, start: dt.date, end: dt.date, *, today: dt.date | None = None
) -> tuple[Figures, list[Figures]]:
    """The unit's total and a row per open child (its subtree), plus the unit's own row
    when problems sit on it directly; each group of figures is one statement."""
    require_perm(user, Perm.VIEW_PROBLEMS, unit.path, seen_with=Perm.VIEW_PROBLEMS)
    today = today or _today()
    children = list(OrgUnit.objects.open_on(today).filter(parent=unit).order_by("code", "path"))
    paths = [child.path for child in children]
    f = ProblemFilter
    problems = Problem.objects.filter(item__kind=KIND).annotate(
        f_found=_flag(_conditions(f(opened_from=start, opened_to=end), today)),
        f_closed=_flag(_conditions(f(closed_from=start, closed_to=end), today)),
        f_on_time=_flag(_conditions(f(closed_from=start, closed_to=end, on_time=True), today)),
        f_overdue=_flag(overdue_q(today)),
    )
    counts = sums_by_child(
        problems, UNIT_PATH, unit.path, ["f_found", "f_closed", "f_on_time", "f_overdue"], paths
    )
    active = _active_q(start, end, "problem__")
    targets = Target.objects.filter(active, problem__item__kind=KIND).annotate(
        t_done=F("done"), t_total=F("target")
    )
    target_sums = sums_by_child(
        targets, f"problem__{UNIT_PATH}", unit.path, ["t_done", "t_total"], paths
    )
    savings = Saving.objects.filter(active, problem__item__kind=KIND).annotate(
        s_base=F("baseline"), s_now=F("current")
    )
    saving_sums = sums_by_child(
        savings, f"problem__{UNIT_PATH}", unit.path, ["s_base", "s_now"], paths
    )

    def row(path: str, owner: OrgUnit, own: bool) -> Figures:
        c, t, s = counts[path], target_sums[path], saving_sums[path]
        return Figures(
            owner,
            found=c[0],
            closed=c[1],
            on_time=c[2],
            overdue=c[3],
            target_done=t[0],
            target_total=t[1],
            baseline=s[0],
            current=s[1],
            own=own,
        )

    rows = [row(child.path, child, False) for child in children]
    own = row(unit.path, unit, True)
    total = Figures(unit, own=False)
    for part in [*rows, own]:
        for name in ("found", "closed", "on_time", "overdue"):
            setattr(total, name, getattr(total, name) + getattr(part, name))
        for name in ("target_done", "target_total", "baseline", "current"):
            setattr(total, name, getattr(total, name) + getattr(part, name))
    return total, rows + ([own] if _has_any(own) else [])


def _has_any(figures: Figures) -> bool:
    return any(
        (figures.found, figures.closed, figures.overdue, figures.target_total, figures.baseline)
    )


def _conditions(f: ProblemFilter, today: dt.date) -> Q:
    """The row condition of a filter's period fields (what problems_search applies)."""
    condition = Q()
    if f.opened_from:
        condition &= Q(item__opened_at__gte=_day_start(f.opened_from))
    if f.opened_to:
        condition &= Q(item__opened_at__lt=_day_end(f.opened_to))
    if f.closed_from or f.closed_to:
        condition &= Q(item__is_open=False, item__state=CLOSED)
    if f.closed_from:
        condition &= Q(item__closed_at__gte=_day_start(f.closed_from))
    if f.closed_to:
        condition &= Q(item__closed_at__lt=_day_end(f.closed_to))
    if f.on_time is not None:
        condition &= Q(on_time=f.on_time)
    return condition


def _active_q(start: dt.date, end: dt.date, prefix: str = "") -> Q:
    return Q(**{f"{prefix}item__opened_at__lt": _day_end(end)}) & (
        Q(**{f"{prefix}item__is_open": True})
        | Q(**{f"{prefix}item__closed_at__gte": _day_start(start)})
    )


@dataclass
class ColourDay:
    day: dt.date
    blue: int = 0
    yellow: int = 0
    red: int = 0
    plain: int = 0

    @property
    def total(self) -> int:
        return self.blue + self.yellow + self.red + self.plain


def colour_series(unit: OrgUnit, start: dt.date, end: dt.date) -> list[ColourDay]:
    """Open problems by colour on each day of the period in the unit's subtree, from the
    nightly counts (one query); days without a count are left out."""
    low, high = subtree_range(unit.path)
    rows = (
        ColourCount.objects.filter(unit_path__gte=low, unit_path__lt=high)
        .filter(day__gte=start, day__lte=end)
        .values("day", "colour")
        .annotate(total=Sum("n"))
        .order_by("day", "colour")
        .values_list("day", "colour", "total")
    )
    days: dict[dt.date, ColourDay] = {}
    for day, colour, total in rows:
        entry = days.setdefault(day, ColourDay(day))
        name = colour if colour in ("blue", "yellow", "red") else "plain"
        setattr(entry, name, getattr(entry, name) + int(total or 0))
    return [days[day] for day in sorted(days)]


def filter_for_figure(figure: str, unit: OrgUnit, start: dt.date, end: dt.date) -> ProblemFilter:
    """The list filter behind one figure of the figures page."""
    base = ProblemFilter(unit=unit)
    return {
        "found": replace(base, opened_from=start, opened_to=end),
        "closed": replace(base, closed_from=start, closed_to=end),
        "on_time": replace(base, closed_from=start, closed_to=end, on_time=True),
        "overdue": replace(base, overdue=True),
        "targets": replace(base, active_from=start, active_to=end, with_targets=True),
        "savings": replace(base, active_from=start, active_to=end, with_savings=True),
    }[figure]
