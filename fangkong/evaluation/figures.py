"""The figures of service evaluation (好差评), computed from the rows with grouped queries.

For a subtree (a centre, a station), optionally narrowed to a window, a staff member or a
service, and a period of whole local days:

- ratings and the count at each level; 好评率 (5 and 4 ÷ ratings), 差评率 (2 and 1 ÷
  ratings), 主动评价率 (ratings ÷ cases);
- bad reviews: 差评回访率 (with a callback ÷ bad reviews) and on time (a callback by the
  callback deadline); 整改率 (rectified or closed ÷ those whose outcome needs a fix) and on
  time (rectified by the rectification deadline); 追评 satisfaction (5 and 4 ÷ follow-up
  reviews); appeals upheld;
- coverage: service × station, the pairs offered (at the station or inherited from its
  centre) and the pairs with at least one rating.

A rating excluded by an upheld appeal leaves every figure (its case too); it is counted
only as an appeal upheld. Every figure is one statement per source table, grouped by the
row key (child unit, window, staff member or service): nothing loops over ratings.
"""

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, F, Q, QuerySet, Sum
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from fangkong.core.errors import InvalidInput
from fangkong.core.paths import ancestor_paths, child_prefix, subtree_q
from fangkong.core.retention import local_midnight
from fangkong.core.text import FIRST_DAY, LAST_DAY, parse_date
from fangkong.orgs.models import OrgUnit, UnitKind

from .models import (
    BadReview,
    Case,
    MonthTally,
    Offering,
    Outcome,
    Rating,
    Service,
    Staff,
    Window,
)

LEVELS = (5, 4, 3, 2, 1)
# Outcomes that need a fix: done at once, or a rectification by the deadline.
NEEDS_FIX = (Outcome.FIXED_AT_ONCE, Outcome.RECTIFY)
SERVICE_UNIT_KINDS = (UnitKind.SERVICE_CENTRE, UnitKind.SERVICE_STATION)

GROUPS = {
    "unit": gettext_lazy("Sub-unit"),
    "window": gettext_lazy("Window"),
    "staff": gettext_lazy("Staff member"),
    "service": gettext_lazy("Service"),
}


# ------------------------------------------------------------------ periods


@dataclass(frozen=True)
class Period:
    """Whole local days, ``start`` to ``end`` inclusive."""

    start: dt.date
    end: dt.date

    @property
    def since(self) -> dt.datetime:
        return local_midnight(self.start)

    @property
    def until(self) -> dt.datetime:
        return local_midnight(self.end + dt.timedelta(days=1))

    @property
    def key(self) -> str:
        return f"{self.start:%Y%m%d}-{self.end:%Y%m%d}"

    def previous_month(self) -> "Period":
        return month_period(self.start.replace(day=1) - dt.timedelta(days=1))


def month_period(day: dt.date) -> Period:
    """The calendar month holding ``day``."""
    first = day.replace(day=1)
    following = (first + dt.timedelta(days=32)).replace(day=1)
    return Period(first, following - dt.timedelta(days=1))


def parse_month(text: str) -> Period:
    """``2026-09`` → September 2026; anything else is refused with a clear message."""
    try:
        year, month = (int(part) for part in text.split("-"))
        first = dt.date(year, month, 1)
    except ValueError:
        raise InvalidInput(
            _("Give the month as year-month, for example 2026-09."),
            detail={"month": [_("Give the month as year-month, for example 2026-09.")]},
        ) from None
    if not FIRST_DAY <= first <= LAST_DAY:
        raise InvalidInput(
            _("Give a month between 1900 and 2099."),
            detail={"month": [_("Give a month between 1900 and 2099.")]},
        )
    return month_period(first)


def _day(value: str | None, name: str) -> dt.date | None:
    try:
        return parse_date(value)
    except (ValueError, TypeError, OverflowError):
        message = _("Enter a date between 1900-01-01 and 2099-12-31.")
        raise InvalidInput(message, detail={name: [message]}) from None


def parse_period(start: str | None, end: str | None, today: dt.date) -> Period:
    """The period a page asks for: ``from``/``to`` dates, by default this month so far."""
    first = _day(start, "from") or today.replace(day=1)
    last = _day(end, "to") or today
    if first > last:
        message = _("The start of the period is after its end.")
        raise InvalidInput(message, detail={"from": [message]})
    if (last - first).days > 366 * 3:
        message = _("Choose a period of at most three years.")
        raise InvalidInput(message, detail={"to": [message]})
    return Period(first, last)


# ------------------------------------------------------------------ figures


def percent(part: int, whole: int) -> float | None:
    """``part`` of ``whole`` in per cent to one decimal, as every rate is shown."""
    return round(100.0 * part / whole, 1) if whole else None


@dataclass
class Figures:
    """The counts of one subtree, window, staff member or service, and their rates."""

    ratings: int = 0
    levels: dict[int, int] = field(default_factory=lambda: dict.fromkeys(LEVELS, 0))
    cases: int = 0
    bad: int = 0
    called: int = 0
    called_on_time: int = 0
    needing_fix: int = 0
    fixed: int = 0
    fixed_on_time: int = 0
    follow_ups: int = 0
    follow_ups_good: int = 0
    appeals_upheld: int = 0

    @property
    def good(self) -> int:
        return self.levels[5] + self.levels[4]

    @property
    def bad_ratings(self) -> int:
        return self.levels[2] + self.levels[1]

    @property
    def good_rate(self) -> float | None:
        """好评率: very satisfied and satisfied, of all ratings (percent)."""
        return percent(self.good, self.ratings)

    @property
    def bad_rate(self) -> float | None:
        """差评率: dissatisfied and very dissatisfied, of all ratings (percent)."""
        return percent(self.bad_ratings, self.ratings)

    @property
    def rated_rate(self) -> float | None:
        """主动评价率: ratings of cases (percent)."""
        return percent(self.ratings, self.cases)

    @property
    def callback_rate(self) -> float | None:
        return percent(self.called, self.bad)

    @property
    def callback_on_time_rate(self) -> float | None:
        return percent(self.called_on_time, self.bad)

    @property
    def fix_rate(self) -> float | None:
        return percent(self.fixed, self.needing_fix)

    @property
    def fix_on_time_rate(self) -> float | None:
        return percent(self.fixed_on_time, self.needing_fix)

    @property
    def follow_up_rate(self) -> float | None:
        return percent(self.follow_ups_good, self.follow_ups)

    def level_shares(self) -> list[tuple[int, int, float | None]]:
        """(level, count, share of ratings in percent), best first."""
        return [
            (level, self.levels[level], percent(self.levels[level], self.ratings))
            for level in LEVELS
        ]

    def as_dict(self) -> dict[str, Any]:
        return {
            "ratings": self.ratings,
            **{f"level_{level}": self.levels[level] for level in LEVELS},
            "cases": self.cases,
            "good_rate": self.good_rate,
            "bad_rate": self.bad_rate,
            "rated_rate": self.rated_rate,
            "bad": self.bad,
            "called": self.called,
            "callback_rate": self.callback_rate,
            "called_on_time": self.called_on_time,
            "callback_on_time_rate": self.callback_on_time_rate,
            "needing_fix": self.needing_fix,
            "fixed": self.fixed,
            "fix_rate": self.fix_rate,
            "fixed_on_time": self.fixed_on_time,
            "fix_on_time_rate": self.fix_on_time_rate,
            "follow_ups": self.follow_ups,
            "follow_up_rate": self.follow_up_rate,
            "appeals_upheld": self.appeals_upheld,
        }


@dataclass(frozen=True)
class Scope:
    """What the figures are of: a subtree, narrowed to a window, staff member or service."""

    path: str
    window_id: int | None = None
    staff_id: int | None = None
    service_id: int | None = None

    def q(self, prefix: str = "") -> Q:
        condition = subtree_q(f"{prefix}unit_path", self.path)
        if self.window_id:
            condition &= Q(**{f"{prefix}window_id": self.window_id})
        if self.staff_id:
            condition &= Q(**{f"{prefix}staff_id": self.staff_id})
        if self.service_id:
            condition &= Q(**{f"{prefix}service_id": self.service_id})
        return condition


def _keyed(rows: QuerySet[Any], group: str, path: str, prefix: str = "") -> QuerySet[Any]:
    """Annotate each row with its group key: the child unit's path, or a window, staff
    member or service id."""
    if group == "unit":
        return rows.annotate(group_key=child_prefix(path, f"{prefix}unit_path"))
    return rows.annotate(group_key=F(f"{prefix}{group}_id"))


def _grouped(
    rows: QuerySet[Any], group: str | None, path: str, prefix: str, **aggregates: Any
) -> list[tuple[Any, dict[str, Any]]]:
    if group is None:
        return [(None, rows.aggregate(**aggregates))]
    keyed = _keyed(rows, group, path, prefix).values("group_key").annotate(**aggregates).order_by()
    return [(row.pop("group_key"), row) for row in keyed]


# The bad reviews behind each figure: the figures count them, and the list behind each
# number shows them (selectors.ReviewFilter.figure).
BAD_REVIEW_FIGURES: dict[str, Q] = {
    "called": Q(first_callback_at__isnull=False),
    "needing_fix": Q(outcome__in=NEEDS_FIX),
    # A bad review that needs a fix closes only after it (services._rectified), so the
    # fix's time says it all and no join to the ledger item is needed.
    "fixed": Q(outcome__in=NEEDS_FIX, rectified_at__isnull=False),
    "follow_up": Q(follow_up_level__isnull=False),
    # An upheld appeal takes the rating out of every other figure.
    "upheld": Q(appeal_upheld=True),
}
FIGURE_LABELS = {
    "called": gettext_lazy("Called back"),
    "needing_fix": gettext_lazy("Needing rectification"),
    "fixed": gettext_lazy("Rectified"),
    "follow_up": gettext_lazy("Follow-up reviews"),
    "upheld": gettext_lazy("Appeals upheld"),
}


def figures_by(scope: Scope, period: Period, group: str | None = None) -> dict[Any, Figures]:
    """The figures of ``scope`` in ``period``, one ``Figures`` per key of ``group`` (a child
    unit's path, a window, staff or service id) or, without a group, one under ``None``.

    Ratings and cases of whole local months come from the month tallies, the days before
    and after them from the rows; bad reviews from their rows. Each read is one grouped
    statement.
    """
    if group is not None and group not in GROUPS:
        raise InvalidInput(_("Choose a grouping from the list."))
    result: dict[Any, Figures] = {}

    def at(key: Any) -> Figures:
        return result.setdefault(key, Figures())

    months, edges = _whole_months(period)
    for key, counts in _rating_counts(scope, group, months, edges).items():
        figures = at(key)
        figures.ratings = counts["n"]
        figures.appeals_upheld = counts["upheld"]
        figures.levels = {level: counts[f"l{level}"] for level in LEVELS}
    for key, n in _case_counts(scope, group, months, edges).items():
        at(key).cases = n

    bad_reviews = BadReview.objects.filter(  # the rating's facts are copied: no join
        scope.q(), rated_at__gte=period.since, rated_at__lt=period.until, counted=True
    )
    on_time = Q(first_callback_at__lte=F("callback_due_at"))
    needs_fix = BAD_REVIEW_FIGURES["needing_fix"]
    for key, row in _grouped(
        bad_reviews,
        group,
        scope.path,
        "",
        n=Count("pk"),
        called=Count("pk", filter=BAD_REVIEW_FIGURES["called"]),
        on_time=Count("pk", filter=on_time),
        needing=Count("pk", filter=needs_fix),
        fixed=Count("pk", filter=BAD_REVIEW_FIGURES["fixed"]),
        fixed_on_time=Count("pk", filter=needs_fix & Q(rectified_at__lte=F("rectify_due_at"))),
        follow_ups=Count("pk", filter=BAD_REVIEW_FIGURES["follow_up"]),
        follow_ups_good=Count("pk", filter=Q(follow_up_level__gte=4)),
    ):
        figures = at(key)
        figures.bad = row["n"] or 0
        figures.called = row["called"] or 0
        figures.called_on_time = row["on_time"] or 0
        figures.needing_fix = row["needing"] or 0
        figures.fixed = row["fixed"] or 0
        figures.fixed_on_time = row["fixed_on_time"] or 0
        figures.follow_ups = row["follow_ups"] or 0
        figures.follow_ups_good = row["follow_ups_good"] or 0
    return result


def _whole_months(period: Period) -> tuple[list[dt.date], list[tuple[dt.datetime, dt.datetime]]]:
    """The local months wholly inside ``period`` (read from the month tallies) and the
    stretches before and after them (read from the rows)."""
    first = period.start
    if first.day != 1:
        first = month_period(first).end + dt.timedelta(days=1)
    months: list[dt.date] = []
    month = first
    while month_period(month).end <= period.end:
        months.append(month)
        month = month_period(month).end + dt.timedelta(days=1)
    if not months:
        return [], [(period.since, period.until)]
    edges = [
        (period.since, local_midnight(months[0])),
        (local_midnight(month), period.until),
    ]
    return months, [(since, until) for since, until in edges if since < until]


def _tally_key(key: Any) -> Any:
    return None if key == 0 else key


def _rating_counts(
    scope: "Scope", group: str | None, months: list[dt.date], edges: list[Any]
) -> dict[Any, dict[str, int]]:
    """Counted ratings, upheld appeals and each level per group key."""
    names = ["n", "upheld", *(f"l{level}" for level in LEVELS)]
    found: dict[Any, dict[str, int]] = {}

    def add(key: Any, row: dict[str, Any]) -> None:
        counts = found.setdefault(key, dict.fromkeys(names, 0))
        for name in names:
            counts[name] += row[name] or 0

    counted = Q(excluded=False)
    for since, until in edges:
        ratings = Rating.objects.filter(scope.q(), rated_at__gte=since, rated_at__lt=until)
        for key, row in _grouped(
            ratings,
            group,
            scope.path,
            "",
            n=Count("pk", filter=counted),
            upheld=Count("pk", filter=Q(excluded=True)),
            **{f"l{level}": Count("pk", filter=counted & Q(level=level)) for level in LEVELS},
        ):
            add(key, row)
    if months:
        tallies = MonthTally.objects.filter(scope.q(), month__in=months)
        for key, row in _grouped(
            tallies,
            group,
            scope.path,
            "",
            n=Sum("ratings"),
            upheld=Sum("upheld"),
            **{f"l{level}": Sum(f"l{level}") for level in LEVELS},
        ):
            add(_tally_key(key), row)
    return found


def _case_counts(
    scope: "Scope", group: str | None, months: list[dt.date], edges: list[Any]
) -> dict[Any, int]:
    """Cases per group key, less those whose rating an upheld appeal excluded."""
    found: dict[Any, int] = {}
    for since, until in edges:
        cases = Case.objects.filter(scope.q(), created_at__gte=since, created_at__lt=until)
        for key, row in _grouped(cases, group, scope.path, "", n=Count("pk")):
            found[key] = found.get(key, 0) + (row["n"] or 0)
        # few: read through a partial index
        excluded = Rating.objects.filter(
            scope.q(), excluded=True, case__created_at__gte=since, case__created_at__lt=until
        )
        for key, row in _grouped(excluded, group, scope.path, "", n=Count("pk")):
            found[key] = found.get(key, 0) - (row["n"] or 0)
    if months:
        tallies = MonthTally.objects.filter(scope.q(), month__in=months)
        for key, row in _grouped(
            tallies, group, scope.path, "", n=Sum("cases"), out=Sum("cases_excluded")
        ):
            key = _tally_key(key)
            found[key] = found.get(key, 0) + (row["n"] or 0) - (row["out"] or 0)
    return found


def figures_of(scope: Scope, period: Period) -> Figures:
    """The totals of ``scope`` in ``period``."""
    return figures_by(scope, period).get(None) or Figures()


# ------------------------------------------------------------------ rows with labels


@dataclass
class Row:
    """One line of a grouped table: what it is, the query parameters that select it (for
    the links to the lists behind each number) and its figures."""

    key: Any
    label: str
    params: dict[str, Any]
    figures: Figures
    unit: OrgUnit | None = None
    rank: int | None = None


def rows_by(scope: Scope, period: Period, group: str) -> list[Row]:
    """The figures of ``scope`` grouped, each row labelled; rows without ratings or cases
    are left out except child units, which are listed whatever they hold."""
    found = figures_by(scope, period, group)
    rows: list[Row] = []
    if group == "unit":
        unit = OrgUnit.objects.get(path=scope.path)
        children = list(OrgUnit.objects.filter(parent=unit).open_on().order_by("code"))
        for child in [unit, *children]:
            figures = found.pop(child.path, None) or Figures()
            if child is unit and not figures.ratings and not figures.cases and not figures.bad:
                continue
            # the unit's own row counts what is placed at the unit itself, not below it
            params = {"unit": child.pk, "own": 1} if child is unit else {"unit": child.pk}
            rows.append(Row(child.path, child.name, params, figures, unit=child))
        return rows
    if group == "window":
        names = {
            window.pk: f"{window.unit.name} · {window}"
            for window in Window.objects.filter(pk__in=[k for k in found if k]).select_related(
                "unit"
            )
        }
    elif group == "staff":
        names = {
            staff.pk: f"{staff.name}（{staff.staff_number}）"
            for staff in Staff.objects.filter(pk__in=[k for k in found if k])
        }
    else:
        names = {
            service.pk: service.name
            for service in Service.objects.filter(pk__in=[k for k in found if k])
        }
    for key, figures in found.items():
        label = names.get(key) if key else _("None recorded")
        rows.append(Row(key, label or str(key), {group: key or ""}, figures))
    rows.sort(key=lambda row: row.label)
    return rows


def ranked(rows: Iterable[Row]) -> list[Row]:
    """The rows with ratings, best first: higher 好评率, then fewer bad ratings, then more
    ratings. Each row gets its position (equal figures share a position)."""
    rated = [row for row in rows if row.figures.ratings and row.key]
    order = sorted(
        rated,
        key=lambda r: (-(r.figures.good_rate or 0.0), r.figures.bad_ratings, -r.figures.ratings),
    )
    previous: tuple[Any, ...] | None = None
    for position, row in enumerate(order, start=1):
        mark = (row.figures.good_rate, row.figures.bad_ratings)
        row.rank = position if mark != previous else order[position - 2].rank
        previous = mark
    return order


def bottom(rows: list[Row]) -> list[Row]:
    """The rows at the last position of a ranking of at least two positions."""
    if len({row.rank for row in rows}) < 2:
        return []
    last = rows[-1].rank
    return [row for row in rows if row.rank == last]


# ------------------------------------------------------------------ coverage


@dataclass
class Coverage:
    """Service × station: which pairs are offered and which had a rating in the period."""

    units: list[OrgUnit]
    services: list[Service]
    offered: set[tuple[int, int]]  # (service id, unit id)
    rated: set[tuple[int, int]]

    @property
    def offered_count(self) -> int:
        return len(self.offered)

    @property
    def covered_count(self) -> int:
        return len(self.offered & self.rated)

    @property
    def rate(self) -> float | None:
        return percent(self.covered_count, self.offered_count)

    def grid(self) -> list[tuple[Service, list[str]]]:
        """Per service, per unit: "covered", "gap" (offered, no rating) or "" (not offered)."""
        lines = []
        for service in self.services:
            cells = []
            for unit in self.units:
                pair = (service.pk, unit.pk)
                cells.append(
                    ("covered" if pair in self.rated else "gap") if pair in self.offered else ""
                )
            lines.append((service, cells))
        return lines

    def gaps(self) -> list[tuple[Service, OrgUnit]]:
        by_id = {unit.pk: unit for unit in self.units}
        services = {service.pk: service for service in self.services}
        return [
            (services[s], by_id[u]) for s, u in sorted(self.offered - self.rated) if s in services
        ]


def coverage(unit: OrgUnit, period: Period) -> Coverage:
    """The coverage matrix of the centres and stations in ``unit``'s subtree (the unit
    itself when it is one). A station offers its own services and its centre's."""
    units = list(
        OrgUnit.objects.filter(subtree_q("path", unit.path), kind__in=SERVICE_UNIT_KINDS)
        .open_on()
        .order_by("path")
    )
    paths = {path for u in units for path in ancestor_paths(u.path)}
    offerings = list(
        Offering.objects.filter(unit__path__in=paths, service__is_active=True).values_list(
            "service_id", "unit_path"
        )
    )
    offered = {
        (service_id, u.pk)
        for service_id, offered_path in offerings
        for u in units
        if u.path.startswith(offered_path)
    }
    # Ratings are placed at a centre or station (a window belongs to one): one grouped read.
    rated_rows = (
        Rating.objects.filter(
            subtree_q("unit_path", unit.path),
            rated_at__gte=period.since,
            rated_at__lt=period.until,
            excluded=False,
        )
        .values_list("service_id", "unit_path")
        .distinct()
        .order_by()
    )
    by_path = {u.path: u.pk for u in units}
    rated = set()
    for service_id, rated_path in rated_rows:
        # the nearest listed unit holding the rating's unit
        for path in reversed(ancestor_paths(rated_path)):
            if path in by_path:
                rated.add((service_id, by_path[path]))
                break
    service_ids = {service_id for service_id, _unit in offered}
    services = list(Service.objects.filter(pk__in=service_ids).order_by("category", "code"))
    return Coverage(units=units, services=services, offered=offered, rated=rated)
