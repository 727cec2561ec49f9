"""Opening items, one way: ``item_open`` is a one-row call of the bulk path.

So one item and the thousands a risk-area raise opens keep the same rules: the permission
in every unit, a title, one open item per key, clocks, owners, the opening entry, the
audit row (one per unit) and the owners' notice (one per unit, sent after commit).
"""

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, models, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from fangkong.accounts.actors import Actor, acting_user
from fangkong.accounts.models import User
from fangkong.accounts.selectors import require_perm
from fangkong.core import calendar
from fangkong.core.audit import audit_rows
from fangkong.core.bulk import insert_returning_pks, insert_values
from fangkong.core.errors import Conflict, InvalidInput
from fangkong.core.models import AuditLog
from fangkong.notify.models import Event
from fangkong.notify.services import notify
from fangkong.orgs.models import OrgUnit, Person, place_related

from .. import kinds, signals
from ..kinds import Kind
from ..models import Entry, Item, ItemClock
from .clocks import _deadlines
from .common import (
    _CHUNK,
    NOT_ON_ITEM,
    _item_repr,
    _state_snapshot,
    item_link,
    kind_link,
)


@dataclass
class NewItem:
    """One item to open: the arguments of ``item_open`` but the kind."""

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


@transaction.atomic
def item_open(
    *,
    actor: Actor,
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
    a duplicate (created=False): receivers may call this for every event. One row of the
    bulk path, so both keep the same rules.
    """
    row = NewItem(
        subject=subject,
        unit=unit,
        title=title,
        person=person,
        owners=[user for user in owners if user is not None],
        open_key=open_key,
        data=data,
        opened_at=opened_at,
        clock_starts=clock_starts,
    )
    opened = _open_rows(actor, kinds.get(kind), [row])
    if opened:
        return opened[0], True
    existing = Item.objects.filter(kind=kind, open_key=open_key, is_open=True).first()
    if existing is None:  # closed again between our look and this one
        raise Conflict(_("Items are being opened concurrently; try again."))
    return existing, False


@transaction.atomic
def items_open_bulk(*, actor: Actor, kind: str, rows: Sequence[NewItem]) -> int:
    """Open many items of ``kind`` at once; return how many were opened.

    Rows whose ``open_key`` is already open (or repeats an earlier row) are skipped. The
    items, clocks, owners and opening entries go in a few multi-row INSERTs; one audit row
    per unit records the ids. For re-checks that open thousands of cards.
    """
    return len(_open_rows(actor, kinds.get(kind), rows))


def _open_rows(actor: Actor, spec: Kind, rows: Sequence[NewItem]) -> list[Item]:
    """Check, then insert the rows whose key is not open yet; return the items opened."""
    if actor is not None:
        for path in {row.unit.path for row in rows}:
            require_perm(
                actor, spec.track_perm, path, seen_with=spec.view_perm, message=NOT_ON_ITEM
            )
    if any(not _title(row) for row in rows):
        raise InvalidInput.at("title", _("Give a title."))
    for _attempt in range(3):
        try:
            with transaction.atomic():
                return _insert_new(actor, spec, rows)
        except IntegrityError:  # a key opened meanwhile: look again and skip it
            continue
    raise Conflict(_("Items are being opened concurrently; try again."))


def _title(row: NewItem) -> str:
    return (row.title or "").strip()[:200]


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


def _insert_new(actor: Actor, spec: Kind, rows: Sequence[NewItem]) -> list[Item]:
    """Insert the rows whose open key is free (the first of repeated keys); return the items.

    Items go in multi-row INSERTs that return their ids; clocks, owners and entries go as
    plain rows: building an instance each cost more than the INSERT.
    """
    chosen = _free_rows(spec.key, rows)
    if not chosen:
        return []
    now = timezone.now()
    types: dict[type, ContentType] = {}
    items = [_new_item(actor, spec, row, now, types) for row in chosen]
    # Deadlines first, so each item is inserted with its earliest one (no UPDATE after).
    deadlines = _first_deadlines(spec, items, chosen)
    insert_returning_pks(items)
    _insert_clocks(spec, items, deadlines)
    insert_values(
        Item.owners.through,
        ["item_id", "user_id"],
        [
            (item.pk, user_id)
            for item, row in zip(items, chosen, strict=True)
            for user_id in {*row.owner_ids, *(u.pk for u in row.owners)}
        ],
    )
    _insert_opening_entries(actor, items, now)
    _audit_opened(actor, spec, items)
    _tell_owners_after_commit(actor, spec, items, chosen)
    signals.items_opened.send(sender=Item, kind=spec.key, items=items)
    return items


def _free_rows(kind: str, rows: Sequence[NewItem]) -> list[NewItem]:
    """Return the rows without a key, and the first row of each key not open yet."""
    keys = [row.open_key for row in rows if row.open_key]
    taken = _open_keys(kind, keys) if keys else set()
    free = []
    for row in rows:
        if row.open_key:
            if row.open_key in taken:
                continue
            taken.add(row.open_key)
        free.append(row)
    return free


def _new_item(
    actor: Actor, spec: Kind, row: NewItem, now: dt.datetime, types: dict[type, ContentType]
) -> Item:
    if row.subject is not None:
        model = type(row.subject)
        if model not in types:
            types[model] = ContentType.objects.get_for_model(model)
        content_type_id, object_id = types[model].pk, row.subject.pk
    else:
        if row.content_type is None or row.object_id is None:
            raise ValueError("a row needs a subject or content_type and object_id")
        content_type_id, object_id = row.content_type.pk, row.object_id
    return Item(
        kind=spec.key,
        content_type_id=content_type_id,
        object_id=object_id,
        person=row.person,
        unit=row.unit,
        unit_path=row.unit.path,
        title=_title(row),
        state=spec.initial,
        open_key=row.open_key or None,
        follow_up_every_hours=spec.follow_up_every_hours,
        data=row.data or {},
        opened_at=row.opened_at or now,
        opened_by=acting_user(actor),
    )


def _first_deadlines(
    spec: Kind, items: list[Item], rows: list[NewItem]
) -> list[list[tuple[str, calendar.Deadline]]]:
    """Return each item's (clock key, deadline) pairs and copy its earliest onto it."""
    known: dict[tuple[Any, ...], calendar.Deadline] = {}
    deadlines = []
    for item, row in zip(items, rows, strict=True):
        found = _deadlines(
            spec, item.opened_at, item.follow_up_every_hours, row.clock_starts, known
        )
        first = min((d for _key, d in found), key=lambda d: d.due_at, default=None)
        item.next_due_at = first.due_at if first else None
        item.next_due_estimated = first.estimated if first else False
        deadlines.append(found)
    return deadlines


def _insert_clocks(
    spec: Kind, items: list[Item], deadlines: list[list[tuple[str, calendar.Deadline]]]
) -> None:
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


def _insert_opening_entries(actor: Actor, items: list[Item], now: dt.datetime) -> None:
    author, opened = acting_user(actor), _("Opened")
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


def _audit_opened(actor: Actor, spec: Kind, items: list[Item]) -> None:
    """Write one audit row per unit with the ids opened there.

    A unit's lone item gets the row an item's write has (its name and state), so opening
    one item reads in the log as it always did.
    """
    by_path: dict[str, list[Item]] = defaultdict(list)
    for item in items:
        by_path[item.unit_path].append(item)
    rows = []
    for path, group in by_path.items():
        ids = [item.pk for item in group]
        lone = group[0] if len(group) == 1 else None
        rows.append(
            {
                "object_type": "ledger.item",
                "object_id": str(ids[0]),
                "object_repr": _item_repr(lone)
                if lone
                else f"{spec.key}: {len(ids)} item(s) opened",
                "scope_path": path,
                "after": {
                    **(_state_snapshot(lone) if lone else {}),
                    "kind": spec.key,
                    "ids": ids,
                },
            }
        )
    audit_rows(actor=actor, action=AuditLog.Action.CREATE, rows=rows)


# ------------------------------------------------------------------ telling the owners


@dataclass(frozen=True)
class OpenedBatch:
    """The items one opening put in one unit, and whom to tell about them."""

    kind: str
    unit_id: int
    item_ids: tuple[int, ...]
    owner_ids: tuple[int, ...]
    first_due_at: dt.datetime | None  # the earliest deadline of a lone item


def _tell_owners_after_commit(
    actor: Actor, spec: Kind, items: list[Item], rows: list[NewItem]
) -> None:
    """Send one notice per unit once the opening commits (none if it is rolled back).

    ``robust``: the items are stored by then, so a failed notice is logged, never the
    caller's error. A kind that sends an alert of its own (a bad review names the service,
    the level and the tags) asks for none (``Kind.opened_notice``).
    """
    if not spec.opened_notice:
        return
    batches = _opened_batches(actor, spec, items, rows)
    # A lambda, not a partial: a robust hook's failure is logged by its __qualname__.
    transaction.on_commit(lambda: opened_notices_send(batches=batches), robust=True)


def _opened_batches(
    actor: Actor, spec: Kind, items: list[Item], rows: list[NewItem]
) -> list[OpenedBatch]:
    """Group the opened items by unit with their owners (the acting user, who knows, left
    out).
    """
    ids: dict[int, list[int]] = defaultdict(list)
    owners: dict[int, set[int]] = defaultdict(set)
    first_due: dict[int, dt.datetime | None] = {}
    for item, row in zip(items, rows, strict=True):
        ids[item.unit_id].append(item.pk)
        owners[item.unit_id].update({*row.owner_ids, *(u.pk for u in row.owners)})
        first_due[item.unit_id] = item.next_due_at
    author = acting_user(actor)
    knows = {author.pk} if author is not None else set()
    return [
        OpenedBatch(
            kind=spec.key,
            unit_id=unit_id,
            item_ids=tuple(ids[unit_id]),
            owner_ids=tuple(sorted(owners[unit_id] - knows)),
            first_due_at=first_due[unit_id] if len(ids[unit_id]) == 1 else None,
        )
        for unit_id in sorted(ids)
    ]


def opened_notices_send(*, batches: Sequence[OpenedBatch]) -> int:
    """Tell each unit's owners (inbox) and subscribed channels what was opened; return the
    number of notifications.

    A lone item links to itself; several link to the kind's list for the unit, so a raise
    that opens hundreds of cards sends one summary per unit. Counts and kinds only, no
    names: channel messages land in group chats, and the link is checked when followed.
    Written in the site's language, whoever's request opened the items.
    """
    units = OrgUnit.objects.select_related(place_related()).in_bulk([b.unit_id for b in batches])
    users = User.objects.in_bulk(sorted({pk for b in batches for pk in b.owner_ids}))
    sent = 0
    with translation.override(settings.LANGUAGE_CODE):
        for batch in batches:
            unit, spec = units.get(batch.unit_id), kinds.find(batch.kind)
            if unit is None or spec is None:
                continue
            notify(
                event=Event.ITEM_OPENED,
                unit=unit,
                **_opened_message(spec, unit, batch),
                to_users=[users[pk] for pk in batch.owner_ids if pk in users],
            )
            sent += 1
    return sent


def _opened_message(spec: Kind, unit: OrgUnit, batch: OpenedBatch) -> dict[str, str]:
    """Return the subject, body and link of one unit's notice."""
    count = len(batch.item_ids)
    names = {
        "unit": unit.place,
        "kind": spec.label,
        "kinds": spec.label_plural,
        "count": count,
    }
    if count > 1:
        return {
            "subject": _("%(unit)s: %(count)d %(kinds)s opened") % names,
            "body": _("%(count)d %(kinds)s were opened in %(unit)s.") % names,
            "link": kind_link(spec.key, unit.pk),
        }
    if batch.first_due_at is None:
        body = _("A %(kind)s was opened in %(unit)s.") % names
    else:
        due = timezone.localtime(batch.first_due_at)
        body = _("A %(kind)s was opened in %(unit)s. First deadline: %(due)s.") % {
            **names,
            "due": f"{due:%Y-%m-%d %H:%M}",
        }
    return {
        "subject": _("%(unit)s: new %(kind)s") % names,
        "body": body,
        "link": item_link(batch.item_ids[0]),
    }
