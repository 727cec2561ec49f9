"""Opening items: one at a time or thousands at once."""

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.accounts.models import User
from fangkong.core import calendar
from fangkong.core.audit import audit_rows
from fangkong.core.bulk import insert_returning_pks, insert_values
from fangkong.core.errors import Conflict
from fangkong.core.models import AuditLog
from fangkong.orgs.models import OrgUnit, Person

from .. import kinds
from ..kinds import Kind
from ..models import Entry, Item, ItemClock
from .clocks import _clock_rows, _deadlines, refresh_due
from .common import _CHUNK, _audit, _entry, _invalid, _require, _state_snapshot, _user

# ------------------------------------------------------------------ opening


@transaction.atomic
def item_open(
    *,
    actor: Any,
    kind: str,
    subject: models.Model,
    unit: OrgUnit,
    title: str,
    person: Person | None = None,
    owners: Iterable[User] = (),
    open_key: str | None = None,
    data: dict[str, Any] | None = None,
    opened_at: dt.datetime | None = None,
    clock_starts: dict[str, dt.datetime] | None = None,
) -> tuple[Item, bool]:
    """Open an item of ``kind`` about ``subject`` in ``unit``; return (item, created).

    With ``open_key`` an item still open for the same kind and key is returned instead of
    a duplicate (created=False): receivers may call this for every event.
    """
    spec = kinds.get(kind)
    _require(actor, spec, spec.track_perm, unit.path)
    title = (title or "").strip()[:200]
    if not title:
        raise _invalid("title", _("Give a title."))
    if open_key:
        existing = Item.objects.filter(kind=kind, open_key=open_key, is_open=True).first()
        if existing is not None:
            return existing, False
    now = timezone.now()
    item = Item(
        kind=kind,
        content_type=ContentType.objects.get_for_model(subject),
        object_id=subject.pk,
        person=person,
        unit=unit,
        unit_path=unit.path,
        title=title,
        state=spec.initial,
        open_key=open_key or None,
        follow_up_every_hours=spec.follow_up_every_hours,
        data=data or {},
        opened_at=opened_at or now,
        opened_by=_user(actor),
    )
    try:
        with transaction.atomic():
            item.save()
    except IntegrityError:  # opened at the same moment by someone else: theirs stands
        return Item.objects.get(kind=kind, open_key=open_key, is_open=True), False
    ItemClock.objects.bulk_create(
        _clock_rows(spec, item.pk, item.opened_at, item.follow_up_every_hours, clock_starts)
    )
    refresh_due(item)
    owner_list = [user for user in owners if user is not None]
    if owner_list:
        item.owners.set(owner_list)
    _entry(item, Entry.Kind.SYSTEM, actor, now, _("Opened"), data={"state": item.state})
    _audit(actor, AuditLog.Action.CREATE, item, None, _state_snapshot(item))
    return item, True


@dataclass
class NewItem:
    """One row for ``items_open_bulk``: the arguments of ``item_open`` but the kind."""

    subject: models.Model | None
    unit: OrgUnit
    title: str
    person: Person | None = None
    owners: Sequence[User] = ()
    open_key: str | None = None
    data: dict[str, Any] | None = None
    opened_at: dt.datetime | None = None
    clock_starts: dict[str, dt.datetime] | None = None
    # Set-based callers may name the subject by type and id instead of an instance.
    content_type: ContentType | None = None
    object_id: int | None = None
    owner_ids: Sequence[int] = field(default_factory=tuple)


def _open_keys(kind: str, keys: list[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(keys), _CHUNK):
        found.update(
            key
            for key in Item.objects.filter(
                kind=kind, is_open=True, open_key__in=keys[start : start + _CHUNK]
            ).values_list("open_key", flat=True)
            if key
        )
    return found


@transaction.atomic
def items_open_bulk(*, actor: Any, kind: str, rows: Sequence[NewItem]) -> int:
    """Open many items of ``kind`` at once; return how many were opened.

    Rows whose ``open_key`` is already open (or repeats an earlier row) are skipped. The
    items, clocks, owners and opening entries go in a few multi-row INSERTs; one audit row
    per unit records the ids. For re-checks that open thousands of cards.
    """
    spec = kinds.get(kind)
    if actor is not None:
        for path in {row.unit.path for row in rows}:
            _require(actor, spec, spec.track_perm, path)
    for _attempt in range(3):
        try:
            with transaction.atomic():
                return _insert_new(actor, spec, rows)
        except IntegrityError:  # a key opened meanwhile: look again and skip it
            continue
    raise Conflict(_("Items are being opened concurrently; try again."))


def _insert_new(actor: Any, spec: Kind, rows: Sequence[NewItem]) -> int:
    keys = [row.open_key for row in rows if row.open_key]
    taken = _open_keys(spec.key, keys) if keys else set()
    now = timezone.now()
    items: list[Item] = []
    chosen: list[NewItem] = []
    types: dict[type, ContentType] = {}
    for row in rows:
        if row.open_key:
            if row.open_key in taken:
                continue
            taken.add(row.open_key)
        if row.subject is not None:
            model = type(row.subject)
            if model not in types:
                types[model] = ContentType.objects.get_for_model(model)
            content_type_id, object_id = types[model].pk, row.subject.pk
        else:
            if row.content_type is None or row.object_id is None:
                raise ValueError("a row needs a subject or content_type and object_id")
            content_type_id, object_id = row.content_type.pk, row.object_id
        items.append(
            Item(
                kind=spec.key,
                content_type_id=content_type_id,
                object_id=object_id,
                person=row.person,
                unit=row.unit,
                unit_path=row.unit.path,
                title=row.title.strip()[:200],
                state=spec.initial,
                open_key=row.open_key or None,
                follow_up_every_hours=spec.follow_up_every_hours,
                data=row.data or {},
                opened_at=row.opened_at or now,
                opened_by=_user(actor),
            )
        )
        chosen.append(row)
    if not items:
        return 0
    # Deadlines first, so each item is inserted with its earliest one (no UPDATE after).
    known: dict[tuple[Any, ...], calendar.Deadline] = {}
    deadlines = []
    for item, row in zip(items, chosen, strict=True):
        found = _deadlines(
            spec, item.opened_at, item.follow_up_every_hours, row.clock_starts, known
        )
        first = min((d for _key, d in found), key=lambda d: d.due_at, default=None)
        item.next_due_at = first.due_at if first else None
        item.next_due_estimated = first.estimated if first else False
        deadlines.append(found)
    insert_returning_pks(items)
    # Clocks, owners and entries go as plain rows: an instance each cost more than the INSERT.
    warn = dt.timedelta(hours=spec.warn_before_hours)
    insert_values(
        ItemClock,
        ["item_id", "key", "due_at", "warn_at", "estimated"],
        [
            (item.pk, key, d.due_at, d.due_at - warn, d.estimated)
            for item, found in zip(items, deadlines, strict=True)
            for key, d in found
        ],
    )
    insert_values(
        Item.owners.through,
        ["item_id", "user_id"],
        [
            (item.pk, user_id)
            for item, row in zip(items, chosen, strict=True)
            for user_id in {*row.owner_ids, *(u.pk for u in row.owners)}
        ],
    )
    author, opened = _user(actor), _("Opened")
    insert_values(
        Entry,
        ["item_id", "kind", "author_id", "at", "text", "data"],
        [
            (
                item.pk,
                Entry.Kind.SYSTEM,
                author.pk if author else None,
                now,
                opened,
                {"state": item.state},
            )
            for item in items
        ],
    )
    by_path: dict[str, list[int]] = defaultdict(list)
    for item in items:
        by_path[item.unit_path].append(item.pk)
    audit_rows(
        actor=actor,
        action=AuditLog.Action.CREATE,
        rows=(
            {
                "object_type": "ledger.item",
                "object_id": str(ids[0]),
                "object_repr": f"{spec.key}: {len(ids)} item(s) opened",
                "scope_path": path,
                "after": {"kind": spec.key, "ids": ids},
            }
            for path, ids in by_path.items()
        ),
    )
    return len(items)
