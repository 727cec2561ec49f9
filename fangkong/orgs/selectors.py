"""Every read of the org tree and its people, always scoped to what the caller may see."""

import bisect
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import (
    Case,
    Count,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce

from fangkong.accounts.actors import Viewer
from fangkong.accounts.roles import Perm
from fangkong.accounts.selectors import Scope, scope_for
from fangkong.core.audit import audit_record
from fangkong.core.errors import NotFound
from fangkong.core.masking import mask_id_number, mask_phone
from fangkong.core.models import AuditLog
from fangkong.core.paths import (
    RANGES_PER_STATEMENT,
    ancestor_paths,
    range_sums,
    subtree_q,
    subtree_range,
    subtree_upper_bound,
    sums_by_child,
)
from fangkong.core.text import clean_cell

from .models import ImportJob, OrgUnit, Person, UnitHeadcount, place_related

_INITIALS = re.compile(r"^[a-z]+$")


def units_visible(user: Viewer, perm: Perm = Perm.VIEW_UNITS) -> QuerySet[OrgUnit]:
    """Return every unit the user may see (or act on with ``perm``)."""
    return scope_for(user, perm).filter(OrgUnit.objects.all())


def unit_get(user: Viewer, unit_id: Any, perm: Perm = Perm.VIEW_UNITS) -> OrgUnit:
    """Return one unit in the user's scope; NotFound when missing or outside it."""
    try:
        return units_visible(user, perm).get(pk=int(unit_id))
    except (OrgUnit.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None


def unit_get_by_code(user: Viewer, code: str, perm: Perm = Perm.VIEW_UNITS) -> OrgUnit:
    """Return the unit with ``code`` in the user's scope; NotFound otherwise."""
    unit = units_visible(user, perm).filter(code=code).first()
    if unit is None:
        raise NotFound()
    return unit


def unit_by_key(user: Viewer, key: str, perm: Perm = Perm.VIEW_UNITS) -> OrgUnit:
    """The unit a filter names by its code (any case: sdly-p1 is SDLY-P1) or its id, in
    the user's scope for ``perm``; NotFound otherwise."""
    key = (key or "").strip()
    scope = scope_for(user, perm)
    unit = OrgUnit.objects.filter(code__iexact=key).order_by("code").first() if key else None
    if unit is None and key.isdigit() and len(key) <= 18:
        unit = OrgUnit.objects.filter(pk=int(key)).first()
    if unit is None or not scope.covers(unit.path):
        raise NotFound()
    return unit


def unit_search(
    user: Viewer, query: str, *, kind: str = "", include_closed: bool = False
) -> QuerySet[OrgUnit]:
    """Find units by name, code or pinyin initials (``sdly`` finds 山东铝业).

    The best matches come first (exact name or code, then a prefix, then pinyin, then a
    part of the name), each group in tree order; every row carries what ``place`` names.
    """
    units = units_visible(user).select_related(place_related())
    if not include_closed:
        units = units.filter(valid_to__isnull=True)
    if kind:
        units = units.filter(kind=kind)
    query = clean_cell(query)
    if not query:
        return units.order_by("depth", "path")
    lowered = query.lower()
    pinyin = Q()
    if _INITIALS.match(lowered):
        pinyin = Q(name_initials__startswith=lowered) | Q(name_pinyin__startswith=lowered)
    exact = Q(name__iexact=query) | Q(code__iexact=query)
    prefix = Q(name__istartswith=query) | Q(code__istartswith=query)
    return (
        units.filter(Q(name__icontains=query) | Q(code__istartswith=query) | pinyin)
        .annotate(relevance=_relevance(exact, prefix, pinyin))
        .order_by("relevance", "path")
    )


def _relevance(*conditions: Q) -> Case:
    """Rank rows by the first condition they meet (0, 1, …); the rest come last."""
    return Case(
        *[When(cond, then=Value(rank)) for rank, cond in enumerate(conditions) if cond],
        default=Value(len(conditions)),
        output_field=IntegerField(),
    )


def unit_roots(user: Viewer) -> list[OrgUnit]:
    """Return the top units of the user's scope (the tree page starts there)."""
    scope = scope_for(user, Perm.VIEW_UNITS)
    if scope.everything:
        return list(OrgUnit.objects.filter(parent__isnull=True).order_by("code"))
    return list(OrgUnit.objects.filter(path__in=scope.paths).order_by("path"))


def unit_children(user: Viewer, unit: OrgUnit, *, include_closed: bool = False) -> list[OrgUnit]:
    """Return the visible children of ``unit`` with ``headcount`` and ``child_count`` set."""
    children = (
        units_visible(user)
        .filter(parent=unit)
        .select_related(place_related())
        .annotate(child_count=_child_count())
    )
    if not include_closed:
        children = children.filter(valid_to__isnull=True)
    result: list[OrgUnit] = list(children.order_by("code"))
    # One query however many children the page lists (``child_headcounts``).
    counts = child_headcounts(unit.path, [child.path for child in result]) if result else {}
    for child in result:
        child.headcount = counts[child.path]  # type: ignore[attr-defined]
    return result


def _child_count() -> Coalesce:
    """Each unit's number of children (closed ones too), a count on the parent index per
    unit: joining the children and grouping by every column of the row (and of the three
    ancestors ``place`` loads) sorted the whole join."""
    counts = (
        OrgUnit.objects.filter(parent=OuterRef("pk"))
        .order_by()
        .values("parent")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counts), 0)


def unit_breadcrumbs(user: Viewer, unit: OrgUnit) -> list[OrgUnit]:
    """Return the unit's visible ancestors, root first, then the unit itself."""
    by_path = {u.path: u for u in units_visible(user).filter(path__in=ancestor_paths(unit.path))}
    return [by_path[p] for p in ancestor_paths(unit.path) if p in by_path]


def subtree_headcount(path: str) -> int:
    """Count the active people employed anywhere in the subtree rooted at ``path``.

    One range sum over the kept per-unit counts (``UnitHeadcount``): a row per unit with
    people, not a row per person.
    """
    rows = UnitHeadcount.objects.filter(subtree_q("unit_path", path))
    return rows.aggregate(n=Sum("n"))["n"] or 0


def subtree_unit_count(path: str, *, kind: str = "") -> int:
    """Count the open units in the subtree rooted at ``path``, optionally of one kind."""
    units = OrgUnit.objects.open_on().filter(subtree_q("path", path))
    if kind:
        units = units.filter(kind=kind)
    return units.count()


def headcounts_by_subtree(units: list[OrgUnit]) -> dict[int, int]:
    """Return unit id → active people in its subtree, in one query (``headcounts_by_path``)."""
    counts = headcounts_by_path([unit.path for unit in units])
    return {unit.pk: counts[unit.path] for unit in units}


def headcounts_by_path(paths: Sequence[str]) -> dict[str, int]:
    """Return path → active people in the subtree rooted there, in one query.

    A few subtrees are summed in SQL, a range sum each in one statement (cheaper than
    grouping or filtering every row); many (an export of every unit) fetch the per-unit
    counts once and sum each subtree over the sorted paths.
    """
    distinct = sorted(set(paths))
    if not distinct:
        return {}
    if len(distinct) <= RANGES_PER_STATEMENT:
        ranges = [subtree_range(path) for path in distinct]
        sums = range_sums(UnitHeadcount.objects.all(), "unit_path", ranges, ["n"])
        return {path: n for path, (n,) in zip(distinct, sums, strict=True)}
    # One range from the first subtree to the end of the last (SQLite refuses an OR of
    # thousands of ranges); rows between the subtrees are left out by the sums.
    end = max(subtree_upper_bound(path) for path in distinct)
    rows = UnitHeadcount.objects.filter(unit_path__gte=distinct[0], unit_path__lt=end)
    ordered = sorted(rows.values_list("unit_path", "n"))
    found = [path for path, _n in ordered]
    running = [0]
    for _path, n in ordered:
        running.append(running[-1] + n)
    result = {}
    for path in distinct:
        low = bisect.bisect_left(found, path)
        high = bisect.bisect_left(found, subtree_upper_bound(path))
        result[path] = running[high] - running[low]
    return result


def child_headcounts(path: str, child_paths: Sequence[str] | None = None) -> dict[str, int]:
    """Return child path → active people in that child's subtree, and ``path`` → the people
    employed in the unit itself, in one query.

    With ``child_paths`` (the children to count) up to ``RANGES_PER_STATEMENT`` of them, a
    range sum each in one statement; otherwise every row of the subtree grouped by the
    path prefix one level below ``path`` (``/1/5/`` + ``77/``; the unit's own row by
    ``/1/5/``), so the answer has a row per child however many units and people lie below.
    Without ``child_paths``, children without people are left out.
    """
    sums = sums_by_child(UnitHeadcount.objects.all(), "unit_path", path, ["n"], child_paths)
    return {child: n for child, (n,) in sums.items()}


@dataclass(frozen=True)
class PeopleFilter:
    query: str = ""
    unit: OrgUnit | None = None
    category: str = ""
    party_member: bool | None = None
    include_inactive: bool = False


def people_visible(user: Viewer, filters: PeopleFilter | None = None) -> QuerySet[Person]:
    """Return the people the user may see, narrowed by ``filters``."""
    filters = filters or PeopleFilter()
    people = scope_for(user, Perm.VIEW_PEOPLE).filter(Person.objects.all(), "unit_path")
    if not filters.include_inactive:
        people = people.filter(is_active=True)
    if filters.unit is not None:
        people = people.filter(subtree_q("unit_path", filters.unit.path))
    if filters.category:
        people = people.filter(category=filters.category)
    if filters.party_member is not None:
        people = people.filter(is_party_member=filters.party_member)
    people = people.select_related(place_related("unit"), "household")
    query = clean_cell(filters.query)
    if not query:
        return people.order_by("unit_path", "name", "id")
    initials = Q()
    if _INITIALS.match(query.lower()):
        initials = Q(name_initials__startswith=query.lower())
    exact, prefix = Q(name=query), Q(name__startswith=query)
    return (
        people.filter(person_matching(query))
        .annotate(relevance=_relevance(exact, prefix, initials))
        .order_by("relevance", "unit_path", "name", "id")
    )


def person_matching(query: str, field: str = "") -> Q:
    """People a search box's text finds: part of the name, pinyin initials, or the last 4 or
    more characters of the ID or phone number. ``field`` names the person from another model
    ("person"). The one rule for every list that searches people."""
    prefix = f"{field}__" if field else ""
    query = clean_cell(query)
    condition = Q(**{f"{prefix}name__icontains": query})
    if _INITIALS.match(query.lower()):
        condition |= Q(**{f"{prefix}name_initials__startswith": query.lower()})
    if re.fullmatch(r"[0-9Xx]{4,18}", query):
        condition |= Q(**{f"{prefix}id_number__endswith": query.upper()})
        condition |= Q(**{f"{prefix}phone__endswith": query})
    return condition


def person_get(user: Viewer, person_id: Any) -> Person:
    """Return one person in the user's scope; NotFound when missing or outside it."""
    try:
        return people_visible(user, PeopleFilter(include_inactive=True)).get(pk=int(person_id))
    except (Person.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None


def can_see_sensitive(user: Viewer, person: Person) -> bool:
    """Tell whether the user may see this person's full document and phone numbers."""
    return scope_for(user, Perm.VIEW_SENSITIVE).covers(person.unit_path)


def person_public_fields(person: Person, *, sensitive_scope: Scope) -> dict[str, Any]:
    """Return the document and phone numbers as this viewer may see them, and ``masked``.

    The date of birth goes with the number: a masked number hides the digits that carry it.
    """
    if sensitive_scope.covers(person.unit_path):
        return {
            "id_number": person.id_number,
            "phone": person.phone,
            "birth_date": person.birth_date,
            "masked": False,
        }
    return {
        "id_number": mask_id_number(person.id_number),
        "phone": mask_phone(person.phone),
        "birth_date": None,
        "masked": True,
    }


def sensitive_view_log(user: Viewer, person: Person) -> None:
    """Record that ``user`` saw this person's full personal data."""
    audit_record(
        actor=user, action=AuditLog.Action.VIEW_SENSITIVE, obj=person, scope_path=person.unit_path
    )


def sensitive_list_view_log(user: Viewer, person_ids: list[int]) -> None:
    """Record that ``user`` saw a page of people with their full numbers (if any were shown)."""
    if person_ids:
        units = Person.objects.filter(pk__in=person_ids).values_list("unit_path", flat=True)
        audit_record(
            actor=user,
            action=AuditLog.Action.VIEW_SENSITIVE,
            object_type="orgs.person",
            object_repr=f"list ({len(person_ids)})",
            scope_paths=units.distinct(),
            after={"ids": person_ids},
        )


def person_history(person: Person, *, limit: int = 50) -> QuerySet[AuditLog]:
    """Return the audit rows about one person (already fetched within the viewer's scope)."""
    return AuditLog.objects.filter(
        object_type="orgs.person", object_id=str(person.pk)
    ).select_related("actor")[:limit]


def duplicate_groups(user: Viewer, *, limit: int = 200) -> list[list[Person]]:
    """Return active people who share a document number, grouped, within the user's scope."""
    visible = people_visible(user)
    numbers = (
        visible.values("id_type", "id_number")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .order_by("id_number")[:limit]
    )
    keys = [(row["id_type"], row["id_number"]) for row in numbers]
    if not keys:
        return []
    condition = Q()
    for id_type, id_number in keys:
        condition |= Q(id_type=id_type, id_number=id_number)
    groups: dict[tuple[str, str], list[Person]] = {key: [] for key in keys}
    for person in visible.filter(condition).order_by("id"):
        groups[(person.id_type, person.id_number)].append(person)
    return list(groups.values())


def import_jobs_visible(user: Viewer) -> QuerySet[ImportJob]:
    """Return the import jobs whose unit lies in the user's import scope."""
    jobs = scope_for(user, Perm.IMPORT).filter(ImportJob.objects.all(), "scope_path")
    return jobs.select_related("created_by", "scope_unit")


def import_job_get(user: Viewer, job_id: Any) -> ImportJob:
    """Return one import job in the user's scope; NotFound otherwise."""
    try:
        return import_jobs_visible(user).get(pk=int(job_id))
    except (ImportJob.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None
