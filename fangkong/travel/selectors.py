"""Every read of the travel app, scoped to what the caller may see.

Itineraries, cards and decisions are health data (VIEW_HEALTH, by the person's unit).
The risk-area list is a public notice: every signed-in user may read it. Group rules are
read by everyone; a unit's override by those who see the unit.
"""

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from fangkong.accounts.actors import Viewer
from fangkong.accounts.roles import Perm
from fangkong.accounts.selectors import scope_for
from fangkong.core.errors import NotFound
from fangkong.core.paths import subtree_q
from fangkong.health.selectors import covers_person
from fangkong.orgs.models import OrgUnit, Person, place_related
from fangkong.orgs.selectors import person_matching

from .models import Decision, Itinerary, ReturneeCard, ReturnRule, RiskArea, RiskAreaBatch


def person_for_travel(user: Viewer, person_id: Any, perm: Perm = Perm.VIEW_HEALTH) -> Person:
    """Return an active person whose travel data ``user`` may see (or act on), else 404."""
    person = (
        Person.objects.select_related("unit", "household")
        .filter(pk=person_id, is_active=True)
        .first()
    )
    if person is None:
        raise NotFound()
    household = person.household.path if person.household_id and person.household else None
    if not covers_person(scope_for(user, perm), person.unit_path, household):
        raise NotFound()
    return person


def people_for_filing(user: Viewer, query: str, *, limit: int = 30) -> list[Person]:
    """People the user may file a returnee card for, by name, initials or ID-number tail."""
    query = query.strip()
    scope = scope_for(user, Perm.DECLARE_FOR_OTHERS)
    if not query or scope.is_empty:
        return []
    people = Person.objects.filter(is_active=True).select_related("unit")
    people = people.filter(scope.q("unit_path") | scope.q("household__path"))
    return list(people.filter(person_matching(query)).order_by("name", "pk")[:limit])


def open_card(person: Person) -> ReturneeCard | None:
    return ReturneeCard.objects.filter(person=person, is_open=True).first()


def latest_decision(card: ReturneeCard) -> Decision | None:
    return card.decisions.select_related("rule", "rule__unit").first()


def card_get(user: Viewer, pk: Any) -> ReturneeCard:
    """Return a card whose person lies in the caller's health scope, else 404."""
    card = (
        ReturneeCard.objects.select_related("person", "person__unit", "coming_from", "proxy")
        .filter(pk=pk)
        .first()
    )
    if card is None or not scope_for(user, Perm.VIEW_HEALTH).covers(card.person.unit_path):
        raise NotFound()
    return card


def card_decisions(card: ReturneeCard) -> QuerySet[Decision]:
    return card.decisions.select_related("rule", "rule__unit")


def person_itineraries(person: Person, *, since: dt.date | None = None) -> QuerySet[Itinerary]:
    rows = Itinerary.objects.filter(person=person).select_related("division", "created_by")
    if since is not None:
        rows = rows.filter(to_day__gte=since)
    return rows.order_by("-from_day", "-id")


def itinerary_get(user: Viewer, pk: Any) -> Itinerary:
    row = Itinerary.objects.select_related("person", "person__household").filter(pk=pk).first()
    if row is None or not scope_for(user, Perm.VIEW_HEALTH).covers(row.person.unit_path):
        raise NotFound()
    return row


def unit_for_travel(user: Viewer, *, pk: Any = None, code: str = "") -> OrgUnit:
    """Return the unit (by id or code) if the caller may see its health data, else 404."""
    unit = OrgUnit.objects.filter(**({"pk": pk} if pk is not None else {"code": code})).first()
    if unit is None or not scope_for(user, Perm.VIEW_HEALTH).covers(unit.path):
        raise NotFound()
    return unit


@dataclass(frozen=True)
class ReturneeFilter:
    query: str = ""
    unit: OrgUnit | None = None
    outcome: str = ""
    level: str = ""
    return_from: dt.date | None = None
    return_to: dt.date | None = None
    include_closed: bool = False


def _decision_column(name: str) -> Subquery:
    newest = Decision.objects.filter(card=OuterRef("pk")).order_by("-decided_at", "-id")
    return Subquery(newest.values(name)[:1])


def returnees_search(
    user: Viewer, filters: ReturneeFilter, *, with_outcome: bool = True
) -> QuerySet[ReturneeCard]:
    """Cards in the caller's health scope narrowed by the list's filters, with the decision."""
    cards = scope_for(user, Perm.VIEW_HEALTH).filter(
        ReturneeCard.objects.select_related("person", place_related("person__unit"), "proxy"),
        "person__unit_path",
    )
    if filters.unit is not None:
        cards = cards.filter(subtree_q("person__unit_path", filters.unit.path))
    if not filters.include_closed:
        cards = cards.filter(is_open=True)
    if with_outcome and filters.outcome:
        cards = cards.filter(outcome=filters.outcome)
    if filters.return_from:
        cards = cards.filter(planned_return__gte=filters.return_from)
    if filters.return_to:
        cards = cards.filter(planned_return__lte=filters.return_to)
    if query := filters.query.strip():
        cards = cards.filter(person_matching(query, "person"))
    cards = cards.annotate(
        decision_level=_decision_column("level"),
        decision_rule=_decision_column("rule_label"),
        decision_text=_decision_column("explanation"),
        decision_until=_decision_column("quarantine_until"),
    )
    if filters.level:
        cards = cards.filter(decision_level=filters.level)
    return cards.order_by("planned_return", "person__unit_path", "person__name", "pk")


def outcome_counts(user: Viewer, filters: ReturneeFilter) -> dict[str, int]:
    """How many cards of the filtered list have each outcome (the tabs' numbers)."""
    cards = returnees_search(user, filters, with_outcome=False)
    rows = cards.order_by().values("outcome").annotate(n=Count("pk")).values_list("outcome", "n")
    return dict(rows)


# ---------------------------------------------------------------- risk areas


def risk_areas_current(
    *, query: str = "", level: str = "", on: dt.date | None = None
) -> QuerySet[RiskArea]:
    """The list in force on ``on`` (today): one row per region."""
    on = on or timezone.localdate()
    rows = RiskArea.objects.select_related("division", "batch").filter(effective_from__lte=on)
    rows = rows.filter(Q(effective_to__isnull=True) | Q(effective_to__gt=on))
    if level:
        rows = rows.filter(level=level)
    if query := query.strip():
        if query.isdigit():
            rows = rows.filter(division_id__startswith=query)
        else:
            rows = rows.filter(
                Q(division__full_name__contains=query)
                | Q(division__initials__startswith=query.lower())
            )
    return rows.order_by("-level", "division_id")


def risk_area_history(*, code: str = "") -> QuerySet[RiskArea]:
    rows = RiskArea.objects.select_related("division", "batch", "batch__created_by")
    if code:
        rows = rows.filter(division_id=code)
    return rows.order_by("division_id", "-effective_from", "-id")


def risk_area_get(pk: Any) -> RiskArea:
    area = RiskArea.objects.select_related("division").filter(pk=pk).first()
    if area is None:
        raise NotFound()
    return area


def risk_area_batches() -> QuerySet[RiskAreaBatch]:
    return RiskAreaBatch.objects.select_related("created_by").annotate(areas_count=Count("areas"))


# ---------------------------------------------------------------- rules


def group_rules() -> dict[str, ReturnRule]:
    return {rule.level: rule for rule in ReturnRule.objects.filter(unit__isnull=True)}


def unit_rules(user: Viewer, unit: OrgUnit) -> dict[str, ReturnRule]:
    """Return the unit's own overrides by level (404 when the unit is not visible)."""
    if not scope_for(user, Perm.VIEW_UNITS).covers(unit.path):
        raise NotFound()
    return {rule.level: rule for rule in ReturnRule.objects.filter(unit=unit)}


def overrides_visible(user: Viewer) -> QuerySet[ReturnRule]:
    """Every unit override in the units the caller may see."""
    rules = ReturnRule.objects.filter(unit__isnull=False).select_related("unit")
    return (
        scope_for(user, Perm.VIEW_UNITS).filter(rules, "unit__path").order_by("unit__path", "level")
    )


def unit_for_rules(user: Viewer, *, pk: Any = None, code: str = "") -> OrgUnit:
    unit = OrgUnit.objects.filter(**({"pk": pk} if pk is not None else {"code": code})).first()
    if unit is None or not scope_for(user, Perm.VIEW_UNITS).covers(unit.path):
        raise NotFound()
    return unit


def rule_get(user: Viewer, pk: Any) -> ReturnRule:
    rule = ReturnRule.objects.select_related("unit").filter(pk=pk).first()
    if rule is None or (rule.unit and not scope_for(user, Perm.VIEW_UNITS).covers(rule.unit.path)):
        raise NotFound()
    return rule
