"""The counts behind reports and the roll-up, computed live from the source rows.

No snapshot tables and no batch job: head-counts are summed from the per-unit counts that
triggers on the people table keep exact (``orgs.headcount``), declaration
figures are summed from the per-unit day tallies that each declaration write keeps exact
(``health.tally``), "in quarantine" is counted from the placements (what 隔离管理 shows,
not what people declared as their whereabouts), all with range scans over path indexes.
Rows fetched for several subtrees at once are summed per subtree with prefix sums over
their sorted paths.
"""

import bisect
import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet

from fangkong.accounts.selectors import Scope
from fangkong.core.paths import (
    RANGES_PER_STATEMENT,
    child_prefix,
    is_within,
    range_sums,
    subtree_q,
    subtree_range,
    subtree_upper_bound,
    sums_by_child,
)
from fangkong.core.retention import local_midnight
from fangkong.health import subtree_tally, tally
from fangkong.health.models import DayTally, Declaration, SubtreeTally
from fangkong.orgs.models import Person
from fangkong.orgs.selectors import child_headcounts, headcounts_by_path
from fangkong.quarantine.models import Placement


@dataclass
class DeclarationFigures:
    """What a subtree's current declarations of one day say."""

    expected: int = 0
    declared: int = 0
    abnormal: int = 0
    fever: int = 0
    symptom: int = 0
    contact: int = 0
    risk_area: int = 0
    positive: int = 0
    quarantine: int = 0
    returnees: int = 0
    # Expected people without a current declaration of the day (``declared`` also counts
    # people no longer expected: left since, or joined after the day).
    not_declared: int = 0

    @property
    def completeness(self) -> float:
        """Declared as a percentage of expected, one decimal, never above 100."""
        if not self.expected:
            return 0.0
        return round(min(100.0, 100.0 * self.declared / self.expected), 1)

    @property
    def completeness_text(self) -> str:
        """The completeness as a page shows it: "—" when nobody is expected (0 of 0 is no rate)."""
        return f"{self.completeness}%" if self.expected else "—"

    @property
    def has_abnormal(self) -> bool:
        """Tell whether anything stops a zero report: an abnormal status or a quarantine."""
        return bool(self.abnormal or self.quarantine)

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "completeness": self.completeness}

    def report_fields(self) -> dict[str, int]:
        """Return the figures as a ``UnitReport`` stores them (``expected`` is its head-count)."""
        figures = asdict(self)
        figures.pop("not_declared")
        return {"headcount": figures.pop("expected"), **figures}


def placements_on(day: dt.date) -> QuerySet[Placement]:
    """Return the placements of people in quarantine on ``day`` (at its end, or now today).

    Started by then and not released before the next day; cancelled ones never count.
    """
    released_later = Q(
        state=Placement.State.RELEASED, released_at__gte=local_midnight(day + dt.timedelta(days=1))
    )
    return Placement.objects.filter(start__lte=day).filter(
        Q(state__in=Placement.OPEN_STATES) | released_later
    )


def expected_people(day: dt.date) -> QuerySet[Person]:
    """Return the people expected to declare on ``day``: active, and joined by then."""
    return Person.objects.filter(is_active=True).filter(
        Q(joined_on__isnull=True) | Q(joined_on__lte=day)
    )


def outermost(paths: Iterable[str]) -> tuple[str, ...]:
    """Return the paths not inside another of them (the ranges to scan)."""
    roots: list[str] = []
    for path in sorted(set(paths)):
        if not (roots and is_within(path, roots[-1])):
            roots.append(path)
    return tuple(roots)


# Above this many separate subtrees, one range from the first to the last replaces their OR
# (SQLite refuses expressions deeper than 1,000; the extra rows are left out by the sums).
RANGES_LIMIT = 50


def within_q(paths: Sequence[str]) -> Q:
    """Return a condition on ``unit_path`` covering every subtree rooted at ``paths``."""
    roots = outermost(paths)
    if len(roots) <= RANGES_LIMIT:
        return Scope(paths=roots).q("unit_path")
    return Q(unit_path__gte=roots[0], unit_path__lt=subtree_upper_bound(roots[-1]))


def subtree_figures(path: str, day: dt.date) -> DeclarationFigures:
    """Return the figures of one subtree for one day (two range scans)."""
    return figures_by_subtree([path], day)[path]


class PathSums:
    """Per-path counts in path order with running sums, so any subtree sums by bisection."""

    def __init__(self, rows: Iterable[Sequence[Any]], columns: Sequence[str]) -> None:
        ordered = sorted(rows, key=lambda row: row[0])
        self.columns = list(columns)
        self.paths = [row[0] for row in ordered]
        self.running = [[0] * len(self.columns)]
        for row in ordered:
            last = self.running[-1]
            self.running.append([last[i] + (row[i + 1] or 0) for i in range(len(self.columns))])

    def subtree(self, path: str) -> dict[str, int]:
        low = bisect.bisect_left(self.paths, path)
        high = bisect.bisect_left(self.paths, subtree_upper_bound(path))
        return {
            column: self.running[high][i] - self.running[low][i]
            for i, column in enumerate(self.columns)
        }


def figures_by_subtree(paths: Sequence[str], day: dt.date) -> dict[str, DeclarationFigures]:
    """Return the figures of many subtrees (given by root path) for one day.

    Head-counts are sums of the kept per-unit counts (``UnitHeadcount``), in one query.
    Declaration figures are sums of the day's tallies (one row per unit with declarants).
    People who joined after the day are few rows found by seeking an index.
    """
    if not paths:
        return {}
    tallies = _tally_sums(day, paths)
    active = headcounts_by_path(paths)
    quarantined = _range_counts(placements_on(day), paths)
    return _assemble(paths, day, tallies=tallies, active=active, quarantined=quarantined)


def unit_and_children_figures(
    unit_path: str, child_paths: Sequence[str], day: dt.date
) -> dict[str, DeclarationFigures]:
    """Return the figures of a unit and of its children, in a bounded number of queries.

    Tallies, head-counts and placements are one query each, however many children: a
    range sum per child in one statement while they are few, else the subtree's rows
    grouped by the child's path prefix (``core.paths.sums_by_child``); placements, a few
    rows, are always grouped. ``child_paths`` must list every child (closed ones too): the
    unit's counts are its own rows plus its children's.
    """
    paths = [unit_path, *child_paths]
    rows = tallies_under(unit_path, per_child=True).filter(day=day)
    sums = sums_by_child(rows, "unit_path", unit_path, tally.COUNTS, child_paths)
    tallies = {path: dict(zip(tally.COUNTS, sums[path], strict=True)) for path in child_paths}
    tallies[unit_path] = {
        name: sum(counts[i] for counts in sums.values()) for i, name in enumerate(tally.COUNTS)
    }
    active = _headcounts(unit_path, child_paths)
    placements = _by_child(placements_on(day), unit_path, child_paths, n=Count("pk"))
    quarantined = {path: sums["n"] for path, sums in placements.items()}
    return _assemble(paths, day, tallies=tallies, active=active, quarantined=quarantined)


def day_tallies(day: dt.date) -> QuerySet[DayTally]:
    return DayTally.objects.filter(day=day)


def tallies_under(path: str, *, per_child: bool = False) -> QuerySet[Any]:
    """The tallies to sum for the subtree of ``path`` (or for each of its children): a row
    per enterprise-level subtree where those rows sum it exactly (``health.subtree_tally``:
    the group's 15,000 unit rows a day are 548 such rows), else a row per unit."""
    exact = subtree_tally.serves_children(path) if per_child else subtree_tally.serves(path)
    return (SubtreeTally if exact else DayTally).objects.all()


def _headcounts(unit_path: str, child_paths: Sequence[str]) -> dict[str, int]:
    """The unit's and each child's head-count, in one query (``child_headcounts``)."""
    by_child = child_headcounts(unit_path, child_paths)  # with the unit's own people
    active = {path: by_child[path] for path in child_paths}
    active[unit_path] = sum(by_child.values())
    return active


def _by_child(
    rows: QuerySet[Any], unit_path: str, child_paths: Sequence[str], **sums: Any
) -> dict[str, dict[str, int]]:
    """Sum ``rows`` of the subtree per child (and in all, under ``unit_path``): one query."""
    grouped = (
        rows.filter(subtree_q("unit_path", unit_path))
        .annotate(child=child_prefix(unit_path))
        .values("child")
        .annotate(**sums)
        .order_by()
    )
    found = {row.pop("child"): row for row in grouped}
    result = {
        path: {name: found.get(path, {}).get(name) or 0 for name in sums} for path in child_paths
    }
    result[unit_path] = {name: sum(row[name] or 0 for row in found.values()) for name in sums}
    return result


def _tally_sums(day: dt.date, paths: Sequence[str]) -> dict[str, dict[str, int]]:
    """Sum the day's tallies per subtree: in SQL while few subtrees, else by prefix sums."""
    rows = day_tallies(day)
    if len(paths) <= RANGES_PER_STATEMENT:
        sums = range_sums(rows, "unit_path", [subtree_range(p) for p in paths], tally.COUNTS)
        return {
            path: dict(zip(tally.COUNTS, counts, strict=True))
            for path, counts in zip(paths, sums, strict=True)
        }
    prefix_sums = PathSums(
        rows.filter(within_q(paths)).order_by().values_list("unit_path", *tally.COUNTS),
        tally.COUNTS,
    )
    return {path: prefix_sums.subtree(path) for path in paths}


def _assemble(
    paths: Sequence[str],
    day: dt.date,
    *,
    tallies: dict[str, dict[str, int]],
    active: dict[str, int],
    quarantined: dict[str, int],
) -> dict[str, DeclarationFigures]:
    # Few people join after a given day: fetch them all (index on joined_on), then sum.
    joined_later = PathSums(((path, 1) for path in _people_joined_after(day)), ["n"])
    # Fewer still declared while not expected (since left, or joined after the day).
    unexpected = PathSums(((path, 1) for path in _declarants_not_expected(day)), ["n"])
    figures = {}
    for path in paths:
        expected = active[path] - joined_later.subtree(path)["n"]
        declared_expected = tallies[path]["declared"] - unexpected.subtree(path)["n"]
        figures[path] = DeclarationFigures(
            expected=expected,
            **{**tallies[path], "quarantine": quarantined[path]},
            not_declared=expected - declared_expected,
        )
    return figures


def _people_joined_after(day: dt.date) -> list[str]:
    return list(
        Person.objects.filter(is_active=True, joined_on__gt=day).values_list("unit_path", flat=True)
    )


def _declarants_not_expected(day: dt.date) -> list[str]:
    """The paths of the day's declarations by people not expected (few rows).

    Two seeks, one per kind of person: an OR of both conditions reads every person.
    """
    left = Person.objects.filter(is_active=False)  # the partial index on the inactive
    joined_later = Person.objects.filter(is_active=True, joined_on__gt=day)
    declarations = Declaration.objects.filter(day=day, is_current=True)
    return [
        path
        for people in (left, joined_later)
        for path in declarations.filter(person_id__in=people.values("pk")).values_list(
            "unit_path", flat=True
        )
    ]


def _range_counts(rows: QuerySet[Any], paths: Sequence[str]) -> dict[str, int]:
    """Count ``rows`` in each subtree: a range count each, or grouped by path when many."""
    if len(paths) <= RANGES_PER_STATEMENT:
        return {path: rows.filter(subtree_q("unit_path", path)).count() for path in paths}
    sums = PathSums(
        rows.filter(within_q(paths))
        .values("unit_path")
        .annotate(n=Count("pk"))
        .order_by()
        .values_list("unit_path", "n"),
        ["n"],
    )
    return {path: sums.subtree(path)["n"] for path in paths}
