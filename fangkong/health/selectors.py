"""Every read of the health card, scoped to what the caller may see."""

import datetime as dt
import functools
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import router
from django.db.models import (
    Case,
    Exists,
    F,
    FilteredRelation,
    IntegerField,
    Model,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    When,
)
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.accounts.actors import Actor, Viewer
from fangkong.accounts.roles import Perm
from fangkong.accounts.selectors import require_perm, scope_for
from fangkong.core import links
from fangkong.core.errors import NotFound
from fangkong.core.memo import Memo
from fangkong.core.models import Division
from fangkong.core.paths import subtree_q
from fangkong.core.prepared import Prepared, instance
from fangkong.orgs.models import PLACE_ANCESTORS, OrgUnit, Person, UnitKind, place_related
from fangkong.orgs.selectors import person_matching

from .models import Declaration, OutbreakProfile, PersonLink, Symptom
from .status import RuleSpec, active_rules


def covers_person(scope: Any, unit_path: str, household_path: str | None) -> bool:
    """Tell whether a proxy scope reaches a person: by the employing unit or the household.

    A community grid worker acts for the residents of the households in the grid, whoever
    employs them (the proxy roster lists household members the same way).
    """
    return scope.covers(unit_path) or bool(household_path and scope.covers(household_path))


def may_declare_for(user: Viewer, person: Person) -> bool:
    """Tell whether ``user`` may declare (and file cards) on ``person``'s behalf."""
    household = person.household.path if person.household_id and person.household else None
    return covers_person(scope_for(user, Perm.DECLARE_FOR_OTHERS), person.unit_path, household)


def require_proxy(actor: Actor, person: Person) -> None:
    """Raise unless ``actor`` may act for ``person``: declare, file a card, hand out a link.

    ``may_declare_for`` decides; a refusal is ``require_perm``'s, with health data as what
    shows the person: 403 where the actor sees the person's health data, 404 elsewhere.
    The system (None) passes.
    """
    if actor is None or may_declare_for(actor, person):
        return
    require_perm(actor, Perm.DECLARE_FOR_OTHERS, person.unit_path, seen_with=Perm.VIEW_HEALTH)


_LINK_SALT = "fangkong.health.link"


def link_token(link: PersonLink) -> str:
    """Return the signed token that goes into the person's link and QR code."""
    return links.link_token(_LINK_SALT, link.key)


def link_key(token: str) -> str:
    """Return the link key a token was signed for, reading nothing; NotFound if forged.

    A signed token may still name a revoked link: only ``link_from_token`` tells.
    """
    return links.link_key(_LINK_SALT, token)


def _columns(model: type[Model], prefix: str = "") -> list[str]:
    return [prefix + field.attname for field in model._meta.concrete_fields]


def _subset(model: type[Model], names: set[str]) -> list[str]:
    """``names`` in the model's column order (which Model.from_db expects)."""
    return [name for name in _columns(model) if name in names]


_LINK_COLUMNS = _columns(PersonLink)
_PERSON_COLUMNS = _columns(Person, "person__")
# What OrgUnit.place reads of the unit and each ancestor it may name (in the model's order,
# which Model.from_db expects).
_PLACE_COLUMNS = [name for name in _columns(OrgUnit) if name in {"id", "name", "kind", "parent_id"}]


def _person_columns(*, with_place: bool) -> list[str]:
    """The person's columns from a link (and those of the unit's place)."""
    columns = list(_PERSON_COLUMNS)
    if with_place:
        for depth in range(PLACE_ANCESTORS + 1):
            prefix = "person__unit__" + "parent__" * depth
            columns += [prefix + name for name in _PLACE_COLUMNS]
    return columns


def _live_link(key: str) -> QuerySet[PersonLink]:
    """The live link of an active person by its key (unique: no ORDER BY)."""
    links = PersonLink.objects.filter(key=key, revoked_at__isnull=True, person__is_active=True)
    return links.order_by()


def _link_read(key: str, *, with_place: bool) -> QuerySet[PersonLink, tuple[Any, ...]]:
    """The live link by its key, with its active person's columns (and the unit's place)."""
    return _live_link(key).values_list(*_LINK_COLUMNS, *_person_columns(with_place=with_place))


# The phone's state and its submit each read the link once, in one row: built once per
# process (core/prepared.py), it costs the database's lookup and little more.
_LINK_READS = {
    with_place: Prepared(
        functools.partial(_link_read, with_place=with_place), PersonLink._meta.get_field("key")
    )
    for with_place in (False, True)
}


def link_from_token(token: str, *, with_place: bool = False) -> PersonLink:
    """Return the live link behind a token; forged, revoked or stale tokens are not found.

    The person comes with it; ``with_place`` also loads the person's unit with what
    ``OrgUnit.place`` names (its other columns are read if asked for).
    """
    rows = _LINK_READS[with_place].rows(link_key(token))
    if not rows:
        raise NotFound()
    return _link_from_row(rows[0], with_place=with_place)


def _link_from_row(row: Sequence[Any], *, with_place: bool) -> PersonLink:
    link = instance(PersonLink, row)
    person = instance(Person, row[len(_LINK_COLUMNS) :])
    link.person = person
    if with_place:
        person.unit = _unit_with_ancestors(row[len(_LINK_COLUMNS) + len(_PERSON_COLUMNS) :])
    return link


def person_with_latest(token: str) -> tuple[Person, Declaration | None]:
    """The phone's state in one read: the live link's active person (the name and the
    unit's place) and the person's latest current declaration (the columns the page shows:
    ``STATE_COLUMNS``; any other is deferred and would cost a read).

    The read starts from the declaration, so a person who never declared gets a second
    read, of the link alone; every morning but the first, one read.
    """
    rows = _LATEST_WITH_PERSON.rows(link_key(token))
    if not rows:
        return link_from_token(token, with_place=True).person, None
    row = rows[0]
    width = len(STATE_COLUMNS)
    declaration = Declaration.from_db(router.db_for_read(Declaration), STATE_COLUMNS, row[:width])
    place = width + len(_STATE_PERSON_COLUMNS)
    person = Person.from_db(router.db_for_read(Person), _STATE_PERSON_COLUMNS, row[width:place])
    person.unit = _unit_with_ancestors(row[place:])
    return person, declaration


def link_with_day(token: str, day: dt.date) -> tuple[PersonLink, list[Declaration]]:
    """The phone's submit in one read: the live link with its person (the columns the
    submit uses: ``_SUBMIT_PERSON_COLUMNS``; the others are deferred) and every declaration
    of the person's ``day``, current or not (a retry, the one to supersede, the daily
    limit)."""
    rows = _LINK_WITH_DAY.rows(link_key(token), day)
    if not rows:
        raise NotFound()
    row = rows[0]
    person_at = len(_SUBMIT_LINK_COLUMNS)
    start = person_at + len(_SUBMIT_PERSON_COLUMNS)
    link = PersonLink.from_db(router.db_for_read(PersonLink), _SUBMIT_LINK_COLUMNS, row[:person_at])
    link.person = Person.from_db(
        router.db_for_read(Person), _SUBMIT_PERSON_COLUMNS, row[person_at:start]
    )
    declarations = [instance(Declaration, row[start:]) for row in rows if row[start] is not None]
    return link, declarations


# What the submit uses of the link and its person (services._people_for, the view).
_SUBMIT_LINK_COLUMNS = _subset(PersonLink, {"id", "person_id", "key", "revoked_at"})
_SUBMIT_PERSON_COLUMNS = _subset(Person, {"id", "unit_id", "unit_path", "is_active"})


def _link_with_day_read(key: str, day: dt.date) -> QuerySet[PersonLink, tuple[Any, ...]]:
    day_rows = FilteredRelation("person__declarations", condition=Q(person__declarations__day=day))
    return (
        _live_link(key)
        .annotate(of_day=day_rows)
        .values_list(
            *_SUBMIT_LINK_COLUMNS,
            *("person__" + name for name in _SUBMIT_PERSON_COLUMNS),
            *("of_day__" + column for column in _DECLARATION_COLUMNS),
        )
    )


def _unit_with_ancestors(columns: Sequence[Any]) -> OrgUnit:
    """The unit and its ancestors from ``_PLACE_COLUMNS`` each (None past the root)."""
    width = len(_PLACE_COLUMNS)
    units = [
        None if chunk[0] is None else OrgUnit.from_db("default", _PLACE_COLUMNS, list(chunk))
        for chunk in (columns[start : start + width] for start in range(0, len(columns), width))
    ]
    for child, parent in itertools.pairwise(units):
        if child is not None and child.parent_id is not None:
            child.parent = parent
    unit = units[0]
    assert unit is not None  # a person's unit is required
    return unit


def live_link(person: Person) -> PersonLink | None:
    return PersonLink.objects.filter(person=person, revoked_at__isnull=True).first()


@dataclass(frozen=True)
class HealthCatalogue:
    """What every declaration reads: the open outbreak's profile, symptoms and rules."""

    profile: OutbreakProfile
    symptoms: tuple[Symptom, ...]
    rules: tuple[RuleSpec, ...]

    @property
    def symptom_codes(self) -> frozenset[str]:
        return frozenset(symptom.code for symptom in self.symptoms)


def _load_catalogue() -> HealthCatalogue:
    profile = OutbreakProfile.current()
    return HealthCatalogue(
        profile=profile,
        symptoms=tuple(Symptom.objects.filter(is_active=True)),
        rules=tuple(active_rules(profile)),
    )


# Saved through the outbreak page or the admin, a change reaches this process at once and
# the other workers within 10 s (health.apps watches the models).
catalogue = Memo(_load_catalogue, seconds=10)


def symptoms_active() -> tuple[Symptom, ...]:
    return catalogue.get().symptoms


def latest_declaration(person: Person, *, before: dt.date | None = None) -> Declaration | None:
    """Return the person's most recent current declaration (before ``before`` if given)."""
    if before is None:  # the plain page: prepared
        rows = _LATEST.rows(person.pk)
        return _declaration_from_row(rows[0]) if rows else None
    queryset = Declaration.objects.filter(person=person, is_current=True, day__lt=before)
    return queryset.select_related("division").order_by("-day").first()


def _declaration_from_row(row: Sequence[Any]) -> Declaration:
    declaration = instance(Declaration, row)
    declaration.division = instance(Division, row[len(_DECLARATION_COLUMNS) :])
    return declaration


_DECLARATION_COLUMNS = _columns(Declaration)
_LATEST_COLUMNS = [*_DECLARATION_COLUMNS, *_columns(Division, "division__")]
_LATEST = Prepared(
    lambda person_id: (
        Declaration.objects.filter(person_id=person_id, is_current=True)
        .order_by("-day")
        .values_list(*_LATEST_COLUMNS)[:1]
    ),
    Declaration._meta.get_field("person"),
)


# What the link's page shows of the latest declaration (views._status_json, _answers_json).
STATE_COLUMNS = _subset(
    Declaration,
    {
        "id",
        "uuid",
        "person_id",
        "day",
        "status",
        "reasons",
        "created_at",
        "temperature",
        "symptoms",
        "division_id",
        "whereabouts",
        "contact",
        "risk_area_stay",
        "test_result",
    },
)
_STATE_PERSON_COLUMNS = _subset(Person, {"id", "name"})


def _latest_with_person(key: str) -> QuerySet[Declaration, tuple[Any, ...]]:
    """The latest current declaration of the live link's active person (its
    ``STATE_COLUMNS``), then the person's name and the unit's place; the link is found by
    its key and gives nothing more."""
    place = _person_columns(with_place=True)[len(_PERSON_COLUMNS) :]
    return (
        Declaration.objects.filter(
            person__links__key=key,
            person__links__revoked_at__isnull=True,
            person__is_active=True,
            is_current=True,
        )
        .order_by("-day")
        .values_list(
            *STATE_COLUMNS, *("person__" + name for name in _STATE_PERSON_COLUMNS), *place
        )[:1]
    )


_LATEST_WITH_PERSON = Prepared(_latest_with_person, PersonLink._meta.get_field("key"))
_LINK_WITH_DAY = Prepared(
    _link_with_day_read, PersonLink._meta.get_field("key"), Declaration._meta.get_field("day")
)


def declarations_visible(user: Viewer) -> QuerySet[Declaration]:
    """Declarations of people in the units where ``user`` may see health data."""
    queryset = Declaration.objects.select_related(
        "person", place_related("person__unit"), "division", "proxy"
    )
    return scope_for(user, Perm.VIEW_HEALTH).filter(queryset, "unit_path")


def person_for_health(user: Viewer, person_id: Any, perm: Perm = Perm.VIEW_HEALTH) -> Person:
    """Return an active person whose health data ``user`` may see (or act on), else 404."""
    person = Person.objects.select_related("unit").filter(pk=person_id, is_active=True).first()
    if person is None or not scope_for(user, perm).covers(person.unit_path):
        raise NotFound()
    return person


def person_status_history(person: Person, *, days: int = 30) -> QuerySet[Declaration]:
    """The person's declarations (current and superseded) of the last ``days`` days."""
    since = timezone.localdate() - dt.timedelta(days=days)
    return (
        Declaration.objects.filter(person=person, day__gte=since)
        .select_related("division", "proxy")
        .order_by("-day", "-created_at")
    )


def roster_for_proxy(
    user: Viewer, unit: OrgUnit, day: dt.date
) -> list[tuple[Person, Declaration | None]]:
    """Return a household's or team's people (not sub-units) with the day's declaration."""
    if not scope_for(user, Perm.DECLARE_FOR_OTHERS).covers(unit.path):
        raise NotFound()
    people = list(Person.objects.filter(unit=unit, is_active=True).order_by("name", "pk"))
    people += list(
        Person.objects.filter(household=unit, is_active=True).exclude(unit=unit).order_by("name")
    )
    declared = {
        row.person_id: row
        for row in Declaration.objects.filter(
            person__in=people, day=day, is_current=True
        ).select_related("division")
    }
    return [(person, declared.get(person.pk)) for person in people]


def unit_for_health(user: Viewer, *, pk: Any = None, code: str = "") -> OrgUnit:
    """Return the unit (by id, or by code) if ``user`` may see its health data, else 404."""
    unit = OrgUnit.objects.filter(**({"pk": pk} if pk is not None else {"code": code})).first()
    if unit is None or not scope_for(user, Perm.VIEW_HEALTH).covers(unit.path):
        raise NotFound(_("No unit with this code in your scope.") if code else None)
    return unit


def latest_declarations(person_ids: list[int], *, days: int = 30) -> dict[int, Declaration]:
    """Return each person's most recent current declaration of the last ``days`` days."""
    since = timezone.localdate() - dt.timedelta(days=days)
    latest: dict[int, Declaration] = {}
    rows = (
        Declaration.objects.filter(person_id__in=person_ids, is_current=True, day__gte=since)
        .select_related("division")
        .order_by("person_id", "-day")
    )
    for row in rows:
        latest.setdefault(row.person_id, row)
    return latest


def live_links(person_ids: list[int]) -> dict[int, PersonLink]:
    return {
        link.person_id: link
        for link in PersonLink.objects.filter(person_id__in=person_ids, revoked_at__isnull=True)
    }


def unit_for_proxy(user: Viewer, unit_id: Any) -> OrgUnit:
    """Return an open unit where ``user`` may declare for others, else 404."""
    unit = OrgUnit.objects.filter(pk=unit_id, valid_to__isnull=True).first()
    if unit is None or not scope_for(user, Perm.DECLARE_FOR_OTHERS).covers(unit.path):
        raise NotFound()
    return unit


# The units a proxy declares for: households and teams, and any unit people work in directly.
PROXY_KINDS = (UnitKind.HOUSEHOLD, UnitKind.TEAM)


class _Count(Subquery):
    """The number of rows of a correlated subquery."""

    template = "(SELECT COUNT(*) FROM (%(subquery)s) _rows)"
    output_field = IntegerField()


def _roster_of(unit_ref: Any) -> Q:
    """People on a proxy roster: employed by the unit or living in it (``roster_for_proxy``)."""
    return Q(unit_id=unit_ref) | Q(household_id=unit_ref)


def proxy_units_search(
    user: Viewer, query: str = "", *, day: dt.date, pending: bool = False
) -> QuerySet[OrgUnit]:
    """Open households and teams (and units with people of their own) where ``user`` may
    declare for others, each with ``expected`` (its roster) and ``declared`` (on ``day``).

    ``pending`` keeps the units where someone has not declared yet. Those come first (the
    work left), then by path, so a household sits under its building.
    """
    scope = scope_for(user, Perm.DECLARE_FOR_OTHERS)
    people = Person.objects.filter(_roster_of(OuterRef("pk")), is_active=True)
    has_own_people = Exists(Person.objects.filter(unit_id=OuterRef("pk"), is_active=True))
    units = scope.filter(
        OrgUnit.objects.filter(valid_to__isnull=True).filter(
            Q(kind__in=PROXY_KINDS) | has_own_people
        ),
        "path",
    )
    if query := query.strip():
        condition = Q(name__icontains=query) | Q(code__istartswith=query)
        if query.isascii() and query.isalpha():
            condition |= Q(name_initials__startswith=query.lower())
        units = units.filter(condition)
    units = units.annotate(
        expected=_Count(people.values("pk")),
        declared=_Count(
            people.filter(declarations__day=day, declarations__is_current=True).values("pk")
        ),
    )
    if pending:
        units = units.filter(declared__lt=F("expected"))
    work_left = Case(When(declared__lt=F("expected"), then=0), default=1)
    return units.select_related("parent").order_by(work_left, "path")


@dataclass(frozen=True)
class DeclarationFilter:
    query: str = ""
    unit: OrgUnit | None = None
    day: dt.date | None = None
    status: str = ""
    filed_by: str = ""
    include_history: bool = False


def declarations_search(user: Viewer, filters: DeclarationFilter) -> QuerySet[Declaration]:
    """Declarations in the caller's health scope narrowed by the list's filters.

    ``filters.unit`` comes from ``unit_for_health``; the rows are within the caller's
    scope in any case, so narrowing to the unit's subtree never widens them.
    """
    rows = declarations_visible(user)
    if filters.unit is not None:
        rows = rows.filter(subtree_q("unit_path", filters.unit.path))
    if not filters.include_history:
        rows = rows.filter(is_current=True)
    if filters.day:
        rows = rows.filter(day=filters.day)
    if filters.status:
        rows = rows.filter(status=filters.status)
    if filters.filed_by:
        rows = rows.filter(filed_by=filters.filed_by)
    if query := filters.query.strip():
        rows = rows.filter(person_matching(query, "person"))
    return rows.order_by("-day", "unit_path", "person__name", "-created_at")
