"""The people behind each roll-up figure: who a number counts, at a unit and below, on a day.

Each figure names the rows it counts with the same rules as ``figures`` (so a list is as
long as the number it came from) and the permission its names need: who is expected and
who has (not) declared are lists of people (VIEW_PEOPLE); statuses, reasons and quarantine
are health data (VIEW_HEALTH). Counts stay open to every roll-up reader; names do not.
"""

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Exists, F, FilteredRelation, OuterRef, Q, QuerySet
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy

from fangkong.accounts.actors import Viewer
from fangkong.accounts.roles import Perm
from fangkong.accounts.selectors import require_perm, scope_for
from fangkong.core.errors import InvalidInput
from fangkong.core.paths import subtree_q
from fangkong.core.text import clean_cell
from fangkong.health.models import Colour
from fangkong.orgs.models import OrgUnit, Person, place_related
from fangkong.orgs.selectors import person_matching

from .figures import expected_people, placements_on

ABNORMAL = (Colour.YELLOW, Colour.RED)
REASON_FLAGS = {
    "fever": "flag_fever",
    "symptom": "flag_symptom",
    "contact": "flag_contact",
    "risk_area": "flag_risk_area",
    "positive": "flag_positive",
}


@dataclass(frozen=True)
class Figure:
    key: str
    label: Promise
    perm: Perm


FIGURES = {
    figure.key: figure
    for figure in (
        Figure("expected", gettext_lazy("Expected to declare"), Perm.VIEW_PEOPLE),
        Figure("declared", gettext_lazy("Declared"), Perm.VIEW_PEOPLE),
        Figure("not_declared", gettext_lazy("Not declared"), Perm.VIEW_PEOPLE),
        Figure("abnormal", gettext_lazy("Abnormal"), Perm.VIEW_HEALTH),
        Figure("fever", gettext_lazy("Abnormal: fever"), Perm.VIEW_HEALTH),
        Figure("symptom", gettext_lazy("Abnormal: symptoms"), Perm.VIEW_HEALTH),
        Figure("contact", gettext_lazy("Abnormal: contact"), Perm.VIEW_HEALTH),
        Figure("risk_area", gettext_lazy("Abnormal: risk area"), Perm.VIEW_HEALTH),
        Figure("positive", gettext_lazy("Abnormal: positive test"), Perm.VIEW_HEALTH),
        Figure("quarantine", gettext_lazy("In quarantine"), Perm.VIEW_HEALTH),
    )
}


def figure_get(key: str) -> Figure:
    """Return the figure named ``key``; InvalidInput (400) for any other name."""
    if key not in FIGURES:
        raise InvalidInput(detail={"figure": [gettext_lazy("Choose one of the roll-up figures.")]})
    return FIGURES[key]


def linked_figures(user: Viewer, path: str) -> set[str]:
    """Return the figures whose names ``user`` may list at ``path`` (a link per cell)."""
    may = {
        perm: scope_for(user, perm).covers(path) for perm in (Perm.VIEW_PEOPLE, Perm.VIEW_HEALTH)
    }
    return {key for key, figure in FIGURES.items() if may[figure.perm]}


def require_figure(user: Viewer, figure: Figure, unit: OrgUnit) -> None:
    """Refuse a list the user may not see: 403 where the unit is visible, else 404."""
    require_perm(user, figure.perm, unit.path)


def _with_day(people: QuerySet[Person], day: dt.date) -> QuerySet[Any]:
    """Join each person's current declaration of ``day`` (at most one: a unique index)."""
    return people.annotate(
        cur=FilteredRelation(
            "declarations", condition=Q(declarations__day=day, declarations__is_current=True)
        ),
        day_status=F("cur__status"),
        day_reasons=F("cur__reasons"),
        declared_at=F("cur__created_at"),
    )


def figure_people(
    user: Viewer, *, figure: Figure, unit: OrgUnit, day: dt.date, query: str = ""
) -> QuerySet[Any]:
    """Return the people ``figure`` counts in ``unit``'s subtree on ``day``, searchable.

    Counted as ``figures`` counts: declarations by the declarant's unit (declarations follow
    their person), expected people by ``expected_people``, quarantine by ``placements_on``.
    """
    require_figure(user, figure, unit)
    within = subtree_q("unit_path", unit.path)
    if figure.key in ("expected", "not_declared"):
        people = _with_day(expected_people(day).filter(within), day)
        if figure.key == "not_declared":
            people = people.filter(cur__isnull=True)
    elif figure.key == "quarantine":
        placed = placements_on(day).filter(person=OuterRef("pk"))
        people = _with_day(Person.objects.filter(within).filter(Exists(placed)), day)
    else:
        people = _with_day(Person.objects.filter(within), day).filter(cur__isnull=False)
        if figure.key != "declared":
            people = people.filter(cur__status__in=ABNORMAL)
        if figure.key in REASON_FLAGS:
            people = people.filter(**{f"cur__{REASON_FLAGS[figure.key]}": True})
    return (
        _search(people, query)
        .select_related(place_related("unit"))
        .order_by("unit_path", "name", "id")
    )


def _search(people: QuerySet[Any], query: str) -> QuerySet[Any]:
    return people.filter(person_matching(query)) if clean_cell(query) else people


def team_people(user: Viewer, unit: OrgUnit, day: dt.date) -> list[Any] | None:
    """Return a team's own people with their day's status, or None if names are not shown.

    A team (a unit without sub-units) shows its people where the roll-up would show rows.
    """
    if not scope_for(user, Perm.VIEW_PEOPLE).covers(unit.path):
        return None
    return list(_with_day(expected_people(day).filter(unit_path=unit.path), day).order_by("name"))
