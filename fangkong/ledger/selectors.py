"""Every read of the ledger, filtered by the reader's scope.

Items about people carry health data: a kind's ``view_perm`` (VIEW_HEALTH by default)
decides who sees them. Counts per unit for the roll-up carry no names (VIEW_ROLLUP).
"""

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.accounts.actors import Viewer, viewer_id
from fangkong.accounts.roles import Perm
from fangkong.accounts.selectors import require_perm, scope_for
from fangkong.core import calendar
from fangkong.core.errors import Conflict, NotFound
from fangkong.core.paths import child_prefix, subtree_q
from fangkong.orgs.models import OrgUnit, place_related
from fangkong.orgs.selectors import unit_by_key

from . import kinds
from .kinds import Kind
from .models import Entry, Item, ItemClock


def _scoped(user: Viewer, kind: Kind) -> QuerySet[Item]:
    require_perm(user, kind.view_perm)
    return scope_for(user, kind.view_perm).filter(Item.objects.filter(kind=kind.key), "unit_path")


def kinds_visible(user: Viewer) -> list[Kind]:
    """Return the registered kinds whose items ``user`` may see somewhere."""
    return [k for k in kinds.all_kinds() if not scope_for(user, k.view_perm).is_empty]


def items_for(
    user: Viewer,
    *,
    kind: str,
    unit: OrgUnit | None = None,
    state: str | None = None,
    overdue: bool | None = None,
    owner: Any = None,
    q: str | None = None,
    due_before: dt.datetime | None = None,
    is_open: bool | None = None,
    opened_after: dt.datetime | None = None,
) -> QuerySet[Item]:
    """Return the items of ``kind`` the user may see, narrowed by the filters.

    ``unit`` is a subtree; ``state`` "open"/"closed" are shorthands for all open or all
    closed states; ``q`` searches the title, the person's name, pinyin initials and exact
    document number or phone. Ordered by next deadline (overdue first), then newest.
    """
    spec = kinds.get(kind)
    items = _scoped(user, spec)
    if unit is not None:
        items = items.filter(subtree_q("unit_path", unit.path))
    if state == "open":
        is_open = True
    elif state == "closed":
        is_open = False
    elif state:
        items = items.filter(state=state)
    if is_open is not None:
        items = items.filter(is_open=is_open)
    if overdue is not None:
        items = (
            items.filter(is_overdue=overdue, is_open=True)
            if overdue
            else items.filter(is_overdue=False)
        )
    if owner is not None:
        items = items.filter(owners=owner)
    if due_before is not None:
        items = items.filter(next_due_at__lte=due_before, is_open=True)
    if opened_after is not None:
        items = items.filter(opened_at__gt=opened_after)
    if q:
        q = q.strip()
        items = items.filter(
            Q(title__icontains=q)
            | Q(person__name__icontains=q)
            | Q(person__name_initials__istartswith=q)
            | Q(person__id_number=q.upper())
            | Q(person__phone=q)
        )
    return (
        items.select_related("person", place_related("unit"))
        .prefetch_related("owners")
        .order_by("-is_open", "-is_overdue", "next_due_at", "-opened_at", "-id")
    )


def item_get(user: Viewer, pk: int) -> Item:
    """Return item ``pk`` if the user may see it; NotFound otherwise (also for unknown kinds)."""
    items = Item.objects.select_related("person", place_related("unit"), "opened_by")
    item = items.filter(pk=pk).first()
    if item is None:
        raise NotFound()
    spec = kinds.find(item.kind)
    if spec is None or not scope_for(user, spec.view_perm).covers(item.unit_path):
        raise NotFound()
    return item


def require_generic_steps(item: Item) -> None:
    """Refuse the ledger's own steps (follow-up, take over, close-out...) from its pages and
    API for a kind worked on its own page (``Kind.work_page``), by its own rules."""
    if kinds.get(item.kind).work_page:
        raise Conflict(_("Work on this item on its own page."))


def item_history(item: Item) -> QuerySet[Entry]:
    """Return the item's entries, oldest first, with their authors."""
    return item.entries.select_related("author").order_by("at", "id")


def item_clocks(item: Item) -> QuerySet[ItemClock]:
    return item.clocks.order_by("due_at", "id")


def open_counts_by_unit(
    user: Viewer, *, kind: str, unit: OrgUnit, children: Sequence[OrgUnit] | None = None
) -> dict[int, dict[str, int]]:
    """Return {unit id: {"open", "overdue", "closing"}} for ``unit`` and its open children.

    A child's counts cover its whole subtree; ``unit``'s own row counts the items placed
    on it directly. Counts without names: the roll-up permission suffices. The database
    counts the items per (child, overdue, state) in one query; ``children`` are the open
    children when the caller has them already (one query fewer).
    """
    spec = kinds.get(kind)
    if not scope_for(user, Perm.VIEW_ROLLUP).covers(unit.path):
        raise NotFound()
    if children is None:
        children = list(OrgUnit.objects.open_on(timezone.localdate()).filter(parent=unit))
    ids = {unit.path: unit.pk} | {child.path: child.pk for child in children}
    counts = {pk: {"open": 0, "overdue": 0, "closing": 0} for pk in ids.values()}
    rows = (
        Item.objects.filter(kind=kind, is_open=True)
        .filter(subtree_q("unit_path", unit.path))
        .annotate(child=child_prefix(unit.path))
        .values("child", "is_overdue", "state")
        .annotate(n=Count("pk"))
        .order_by()
        .values_list("child", "is_overdue", "state", "n")
    )
    for child, overdue, state, n in rows:
        if child in ids:
            found = counts[ids[child]]
            found["open"] += n
            found["overdue"] += n if overdue else 0
            found["closing"] += n if state == spec.closing_state else 0
    return counts


def opened_on(day: dt.date) -> Q:
    """Items opened on the local ``day`` (Asia/Shanghai midnight to midnight)."""
    start = dt.datetime.combine(day, dt.time.min, calendar.LOCAL_TZ)
    return Q(opened_at__gte=start, opened_at__lt=start + dt.timedelta(days=1))


def my_due_today(user: Viewer, *, day: dt.date | None = None) -> QuerySet[Item]:
    """Return the open items ``user`` owns that fall due by the end of ``day`` (today),
    overdue ones included, the most urgent first.

    An item opened that day is on the list too, even when its first deadline is tomorrow
    (a card opened at 23:00): a new card is the owner's work the day it arrives.
    """
    day = day or timezone.localdate()
    visible = Q(pk__in=[])
    for spec in kinds.all_kinds():
        scope = scope_for(user, spec.view_perm)
        if not scope.is_empty:
            visible |= Q(kind=spec.key) & scope.q("unit_path")
    return (
        Item.objects.filter(visible, owners__id=viewer_id(user), is_open=True)
        .filter(Q(next_due_at__lte=calendar.end_of_day(day)) | opened_on(day))
        .select_related("person", place_related("unit"))
        .prefetch_related("owners")
        .order_by("next_due_at", "id")
    )


def kind_totals(user: Viewer, *, kind: str) -> dict[str, int]:
    """Return the open, overdue and awaiting-approval counts of ``kind`` in the user's scope."""
    spec = kinds.get(kind)
    return (
        _scoped(user, spec)
        .filter(is_open=True)
        .aggregate(
            open=Count("pk"),
            overdue=Count("pk", filter=Q(is_overdue=True)),
            closing=Count("pk", filter=Q(state=spec.closing_state)),
        )
    )


def unit_for_ledger(user: Viewer, *, kind: str, key: str) -> OrgUnit:
    """Return the unit named by code or id if the user sees the kind's items there."""
    return unit_by_key(user, key, kinds.get(kind).view_perm)


def calendar_audit_scope(user: Viewer) -> str:
    """Refuse (403) a user who may not edit the working-day calendar (*manage the outbreak*,
    anywhere); return the subtree its audit rows are about: the user's one root, else "".
    """
    require_perm(user, Perm.MANAGE_OUTBREAK)
    scope = scope_for(user, Perm.MANAGE_OUTBREAK)
    return scope.paths[0] if len(scope.paths) == 1 else ""
