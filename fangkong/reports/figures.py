"""The counts behind reports and the roll-up, computed live from the source rows.

No snapshot tables: every figure is a range scan over a path index on the day asked for.
Counts for many subtrees at once are fetched grouped by path (rows come out of the index in
path order) and summed per subtree with prefix sums over the sorted paths, so the number of
queries does not grow with the number of subtrees.
"""

import bisect
import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, fields
from typing import Any

from django.db.models import Count, Q, QuerySet

from fangkong.accounts.selectors import Scope
from fangkong.core.paths import is_within, subtree_upper_bound
from fangkong.health.models import Colour, Declaration, Whereabouts
from fangkong.orgs.models import Person


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

    @property
    def completeness(self) -> float:
        """Declared as a percentage of expected, one decimal, never above 100."""
        if not self.expected:
            return 0.0
        return round(min(100.0, 100.0 * self.declared / self.expected), 1)

    @property
    def has_abnormal(self) -> bool:
        """Tell whether anything stops a zero report: an abnormal status or a quarantine."""
        return bool(self.abnormal or self.quarantine)

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "completeness": self.completeness}


DECLARATION_COUNTS = {
    "declared": Count("id"),
    "abnormal": Count("id", filter=~Q(status=Colour.GREEN)),
    "fever": Count("id", filter=Q(flag_fever=True)),
    "symptom": Count("id", filter=Q(flag_symptom=True)),
    "contact": Count("id", filter=Q(flag_contact=True)),
    "risk_area": Count("id", filter=Q(flag_risk_area=True)),
    "positive": Count("id", filter=Q(flag_positive=True)),
    "quarantine": Count("id", filter=Q(whereabouts=Whereabouts.QUARANTINE)),
    "returnees": Count("id", filter=Q(whereabouts=Whereabouts.TRAVELLING)),
}


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


def current_declarations(day: dt.date) -> QuerySet[Declaration]:
    return Declaration.objects.filter(day=day, is_current=True)


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
    """Return the figures of many subtrees (given by root path) for one day, in two queries."""
    if not paths:
        return {}
    roots = Scope(paths=outermost(paths)).q("unit_path")
    declared = PathSums(
        current_declarations(day)
        .filter(roots)
        .values("unit_path")
        .annotate(**DECLARATION_COUNTS)
        .order_by()
        .values_list("unit_path", *DECLARATION_COUNTS),
        list(DECLARATION_COUNTS),
    )
    expected = PathSums(
        expected_people(day)
        .filter(roots)
        .values("unit_path")
        .annotate(n=Count("id"))
        .order_by()
        .values_list("unit_path", "n"),
        ["expected"],
    )
    return {
        path: DeclarationFigures(**expected.subtree(path), **declared.subtree(path))
        for path in paths
    }


FIGURE_NAMES = [f.name for f in fields(DeclarationFigures)]
