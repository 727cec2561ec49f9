"""Every read of tracking, scoped: people to open cards for, contacts, cases and their trees."""

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Q, QuerySet

from fangkong.accounts.actors import Viewer
from fangkong.accounts.roles import Perm
from fangkong.accounts.selectors import scope_for
from fangkong.core.errors import NotFound
from fangkong.core.text import clean_cell
from fangkong.ledger.keys import person_key
from fangkong.ledger.models import Item
from fangkong.orgs.models import Person, place_related

from .kinds import ABNORMAL, CONTACT
from .models import CloseContact

TREE_DEPTH = 4  # generations shown below a case: contacts of contacts of …


def people_to_track(user: Viewer, query: str, *, limit: int = 20) -> list[Person]:
    """Find people the user may open cards for, by name, initials or document number."""
    query = clean_cell(query)
    if not query:
        return []
    people = scope_for(user, Perm.TRACK).filter(
        Person.objects.filter(is_active=True).select_related(place_related("unit")), "unit_path"
    )
    people = people.filter(
        Q(name=query)
        | Q(name_initials__startswith=query.lower())
        | Q(id_number=query.upper())
        | Q(name__startswith=query)
    )
    return list(people.order_by("name", "id")[:limit])


def person_for_tracking(user: Viewer, person_id: Any, perm: Perm = Perm.VIEW_HEALTH) -> Person:
    """Return an active person whose health the user may see (or act on), else 404."""
    people = Person.objects.select_related(place_related("unit"))
    person = people.filter(pk=person_id, is_active=True).first()
    if person is None or not scope_for(user, perm).covers(person.unit_path):
        raise NotFound()
    return person


def person_by_document(user: Viewer, number: str) -> Person:
    """Return the person with this document number inside the user's health scope, else 404."""
    number = clean_cell(number).upper()
    people = scope_for(user, Perm.VIEW_HEALTH).filter(
        Person.objects.filter(is_active=True, id_number=number).select_related("unit"),
        "unit_path",
    )
    person = people.first() if number else None
    if person is None:
        raise NotFound()
    return person


def card_get(user: Viewer, pk: Any) -> Item:
    """Return a tracking card (abnormal or contact) the user may see, else 404."""
    item = (
        Item.objects.select_related("person", place_related("unit"))
        .filter(pk=pk, kind__in=(ABNORMAL, CONTACT))
        .first()
    )
    if item is None or not scope_for(user, Perm.VIEW_HEALTH).covers(item.unit_path):
        raise NotFound()
    return item


def open_counts(user: Viewer) -> dict[str, dict[str, int]]:
    """Open, overdue and awaiting-approval cards per kind in the user's scope."""
    items = scope_for(user, Perm.VIEW_HEALTH).filter(
        Item.objects.filter(kind__in=(ABNORMAL, CONTACT), is_open=True), "unit_path"
    )
    rows = items.values("kind").annotate(
        open=Count("id"),
        overdue=Count("id", filter=Q(is_overdue=True)),
        closing=Count("id", filter=Q(state="closing")),
    )
    counts = {kind: {"open": 0, "overdue": 0, "closing": 0} for kind in (ABNORMAL, CONTACT)}
    for row in rows:
        counts[row["kind"]] = {k: row[k] for k in ("open", "overdue", "closing")}
    return counts


def contacts_visible(
    user: Viewer, *, query: str = "", case: Person | None = None
) -> QuerySet[CloseContact]:
    """Contact links whose contact person lies in the user's health scope."""
    links = scope_for(user, Perm.VIEW_HEALTH).filter(
        CloseContact.objects.select_related(
            "person", place_related("person__unit"), "case", "case__unit"
        ),
        "person__unit_path",
    )
    if case is not None:
        links = links.filter(case=case)
    query = clean_cell(query)
    if query:
        links = links.filter(
            Q(person__name__startswith=query)
            | Q(case__name__startswith=query)
            | Q(person__id_number=query.upper())
            | Q(case__id_number=query.upper())
        )
    return links.order_by("-last_contact_day", "-id")


def cases_visible(user: Viewer) -> QuerySet[Person]:
    """Cases (people with recorded contacts) in the user's health scope, with contact counts."""
    people = scope_for(user, Perm.VIEW_HEALTH).filter(
        Person.objects.filter(close_contacts__isnull=False).select_related(place_related("unit")),
        "unit_path",
    )
    return people.annotate(contact_count=Count("close_contacts", distinct=True)).order_by(
        "name", "id"
    )


@dataclass
class Node:
    """One person in a case tree; ``hidden`` when outside the viewer's health scope."""

    person_id: int
    name: str
    unit: str
    hidden: bool
    relation: str = ""
    last_contact_day: Any = None
    children: list["Node"] = field(default_factory=list)


@dataclass
class CaseTree:
    root: Node
    exposed_by: list[Node]
    size: int


def case_tree(user: Viewer, case: Person, *, depth: int = TREE_DEPTH) -> CaseTree:
    """Who was exposed by ``case`` (and by them, ``depth`` generations), and who exposed it.

    One query per generation; a person appears once (the first, nearest path wins), so
    cycles end. People outside the viewer's health scope are shown without names.
    """
    scope = scope_for(user, Perm.VIEW_HEALTH)

    def node(person: Person, link: CloseContact | None = None) -> Node:
        hidden = not scope.covers(person.unit_path)
        return Node(
            person.pk,
            "—" if hidden else person.name,
            "—" if hidden else person.unit.place,
            hidden,
            str(link.get_relation_display()) if link else "",
            link.last_contact_day if link else None,
        )

    root = node(case)
    seen = {case.pk}
    level = {case.pk: root}
    size = 1
    for _generation in range(depth):
        links = (
            CloseContact.objects.filter(case_id__in=list(level))
            .select_related("person", place_related("person__unit"))
            .order_by("case_id", "-last_contact_day", "person_id")
        )
        following: dict[int, Node] = {}
        for link in links:
            if link.person_id in seen:
                continue
            seen.add(link.person_id)
            child = node(link.person, link)
            level[link.case_id].children.append(child)
            following[link.person_id] = child
            size += 1
        if not following:
            break
        level = following
    exposed_by = [
        node(link.case, link)
        for link in CloseContact.objects.filter(person=case)
        .select_related("case", place_related("case__unit"))
        .order_by("-last_contact_day")
    ]
    return CaseTree(root, exposed_by, size)


def require_health(user: Viewer) -> None:
    """403 for a user who may see nobody's health data."""
    from fangkong.core.errors import PermissionDenied

    if scope_for(user, Perm.VIEW_HEALTH).is_empty:
        raise PermissionDenied()


def open_card(person_id: int, kind: str = ABNORMAL) -> Item | None:
    """Return the person's open card of ``kind`` (no scope check: for services and the demo)."""
    return Item.objects.filter(kind=kind, open_key=person_key(person_id), is_open=True).first()
