"""Every write of the ledger: opening items, follow-ups, transitions, close-out, the sweep.

Each service checks the actor's permission in the item's unit (``actor=None`` is the
system: receivers and the sweep), changes the item, appends a history entry and an audit
row, all in one transaction. Deadlines are computed once, when a clock starts, and stored.
"""

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, connection, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_q.tasks import async_task

from fangkong.accounts.models import User
from fangkong.accounts.roles import Perm, Role
from fangkong.accounts.selectors import scope_for
from fangkong.core import calendar
from fangkong.core.audit import audit_record, audit_rows, snapshot
from fangkong.core.bulk import insert_returning_pks, insert_values
from fangkong.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from fangkong.core.models import AuditLog, CalendarDay, CalendarNotice
from fangkong.core.numbers import fits_column, to_decimal
from fangkong.notify.models import Event
from fangkong.notify.services import notify
from fangkong.orgs.models import OrgUnit, Person

from . import kinds, signals
from .kinds import FOLLOW_UP_CLOCK, Kind
from .models import Entry, Item, ItemClock

MAX_CADENCE_HOURS = 24 * 14
_CHUNK = 500  # ids per IN (...) list: under SQLite's variable limit


# ------------------------------------------------------------------ checks


def _require(actor: Any, kind: Kind, perm: Perm, item_path: str, message: Any = None) -> None:
    """Raise NotFound when the actor cannot see the item, PermissionDenied when seen but
    the actor lacks ``perm`` there. ``actor=None`` is the system.
    """
    if actor is None:
        return
    if scope_for(actor, perm).covers(item_path):
        return
    if scope_for(actor, kind.view_perm).covers(item_path):
        raise PermissionDenied(message or _("Your role may not do this on this item."))
    raise NotFound()


def _invalid(field_name: str, message: str) -> InvalidInput:
    return InvalidInput(message, detail={field_name: [message]})


def _reason(text: str, field_name: str = "reason") -> str:
    text = (text or "").strip()
    if not text:
        raise _invalid(field_name, _("Give a reason."))
    return text


def _require_open(item: Item) -> None:
    if not item.is_open:
        raise Conflict(_("This item is closed out; reopen it first."))


def _user(actor: Any) -> User | None:
    return actor if getattr(actor, "is_authenticated", False) else None


def _audit(actor: Any, action: str, item: Item, before: Any, after: Any) -> None:
    audit_record(
        actor=actor,
        action=action,
        obj=item,
        object_repr=f"{item.kind} #{item.pk} {item.title}",
        scope_path=item.unit_path,
        before=before,
        after=after,
    )


def _entry(item: Item, kind: str, actor: Any, at: dt.datetime, text: str = "", **fields: Any):
    return Entry.objects.create(
        item=item, kind=kind, author=_user(actor), at=at, text=text, **fields
    )


def _locked(item: Item) -> Item:
    """Re-read the item under a row lock: concurrent clicks act on the current state."""
    return Item.objects.select_for_update().get(pk=item.pk)


# ------------------------------------------------------------------ clocks


def clock_due(
    *, kind: Kind, key: str, start: dt.datetime, every_hours: int | None = None
) -> calendar.Deadline:
    """Return when clock ``key`` of ``kind`` started at ``start`` falls due."""
    if key == FOLLOW_UP_CLOCK:
        return calendar.Deadline(start + dt.timedelta(hours=every_hours or 24), False)
    clock = kind.clock(key)
    if clock is None:
        raise ValueError(f"kind {kind.key} has no clock {key}")
    if clock.hours is not None:
        return calendar.Deadline(start + dt.timedelta(hours=clock.hours), False)
    return calendar.working_deadline(start, clock.working_days or 0)


def _deadlines(
    kind: Kind,
    opened_at: dt.datetime,
    every_hours: int | None,
    clock_starts: Mapping[str, dt.datetime] | None,
    known: dict[tuple[Any, ...], calendar.Deadline],
) -> list[tuple[str, calendar.Deadline]]:
    """Return (clock key, deadline) of a new item; ``known`` remembers them across items."""
    starts = clock_starts or {}
    keys = [clock.key for clock in kind.clocks]
    if every_hours:
        keys.append(FOLLOW_UP_CLOCK)
    found = []
    for key in keys:
        start = starts.get(key, opened_at)
        deadline = known.get((key, start, every_hours))
        if deadline is None:
            deadline = clock_due(kind=kind, key=key, start=start, every_hours=every_hours)
            known[(key, start, every_hours)] = deadline
        found.append((key, deadline))
    return found


def _clock_rows(
    kind: Kind,
    item_id: int,
    opened_at: dt.datetime,
    every_hours: int | None,
    clock_starts: Mapping[str, dt.datetime] | None,
) -> list[ItemClock]:
    warn = dt.timedelta(hours=kind.warn_before_hours)
    return [
        ItemClock(
            item_id=item_id,
            key=key,
            due_at=deadline.due_at,
            warn_at=deadline.due_at - warn,
            estimated=deadline.estimated,
        )
        for key, deadline in _deadlines(kind, opened_at, every_hours, clock_starts, {})
    ]


def _set_clock(item: Item, kind: Kind, key: str, deadline: calendar.Deadline) -> None:
    """Start (or restart) clock ``key`` of ``item`` at ``deadline``."""
    ItemClock.objects.update_or_create(
        item=item,
        key=key,
        defaults={
            "due_at": deadline.due_at,
            "warn_at": deadline.due_at - dt.timedelta(hours=kind.warn_before_hours),
            "estimated": deadline.estimated,
            "met_at": None,
            "stopped": False,
            "warned_at": None,
            "breached_at": None,
        },
    )


def refresh_due(item: Item) -> None:
    """Copy the earliest unmet clock onto the item: next due, estimated, overdue."""
    pending = list(
        ItemClock.objects.filter(item=item, met_at__isnull=True)
        .order_by("due_at")
        .values_list("due_at", "estimated", "breached_at")
    )
    item.next_due_at = pending[0][0] if pending else None
    item.next_due_estimated = pending[0][1] if pending else False
    item.is_overdue = any(breached is not None for _due, _est, breached in pending)
    item.save(update_fields=["next_due_at", "next_due_estimated", "is_overdue"])


def _stop_clocks(item: Item, at: dt.datetime) -> None:
    ItemClock.objects.filter(item=item, met_at__isnull=True).update(met_at=at, stopped=True)


def _restart_clocks(item: Item, kind: Kind, at: dt.datetime) -> None:
    """Start every clock of the kind again from ``at`` (a reopened item)."""
    for row in _clock_rows(kind, item.pk, at, item.follow_up_every_hours, None):
        _set_clock(item, kind, row.key, calendar.Deadline(row.due_at, row.estimated))


# ------------------------------------------------------------------ opening


def _set_state(item: Item, state: str, **fields: Any) -> None:
    """Save ``item`` in ``state`` (with ``fields``) and tell the kind's app when it changed."""
    previous = item.state
    item.state = state
    for name, value in fields.items():
        setattr(item, name, value)
    item.save(update_fields=["state", *fields])
    if state != previous:
        signals.item_state_changed.send(sender=Item, item=item, previous=previous)


def _state_snapshot(item: Item) -> dict[str, Any]:
    return {
        "state": item.state,
        "is_open": item.is_open,
        "next_due_at": item.next_due_at.isoformat() if item.next_due_at else None,
        "is_overdue": item.is_overdue,
    }


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


# ------------------------------------------------------------------ working an item


@transaction.atomic
def item_follow_up(
    *,
    actor: Any,
    item: Item,
    text: str,
    value: Decimal | None = None,
    unit: str = "",
    file: UploadedFile | None = None,
    at: dt.datetime | None = None,
    data: dict[str, Any] | None = None,
) -> Entry:
    """Record a follow-up (note, measurement or attachment) on an open item.

    It meets the clocks met by a follow-up (first_follow_up) and restarts the recurring
    follow-up clock at ``at`` plus the item's cadence.
    """
    spec = kinds.get(item.kind)
    _require(actor, spec, spec.track_perm, item.unit_path)
    item = _locked(item)
    _require_open(item)
    text = (text or "").strip()
    if not text and value is None and file is None and not data:
        raise _invalid("text", _("Write what the follow-up found."))
    if value is not None:
        value = _measurement(value)
    now = timezone.now()
    at = at or now
    if at > now + dt.timedelta(minutes=5):
        raise _invalid("at", _("A follow-up cannot be in the future."))
    kind = (
        Entry.Kind.ATTACHMENT
        if file is not None
        else Entry.Kind.MEASUREMENT
        if value is not None
        else Entry.Kind.NOTE
    )
    entry = _entry(
        item, kind, actor, at, text, value=value, unit=(unit or "")[:16], data=data or {}
    )
    if file is not None:
        entry.file.save(file.name or "attachment", file, save=True)
    met_keys = [clock.key for clock in spec.clocks if clock.met_by == "follow_up"]
    if met_keys:
        ItemClock.objects.filter(item=item, key__in=met_keys, met_at__isnull=True).update(met_at=at)
    if item.follow_up_every_hours:
        _set_clock(
            item,
            spec,
            FOLLOW_UP_CLOCK,
            clock_due(
                kind=spec, key=FOLLOW_UP_CLOCK, start=at, every_hours=item.follow_up_every_hours
            ),
        )
    before = _state_snapshot(item)
    refresh_due(item)
    _audit(
        actor, AuditLog.Action.UPDATE, item, before, {**_state_snapshot(item), "entry": entry.pk}
    )
    return entry


def _measurement(value: Any) -> Decimal:
    """A follow-up's value as its column holds it (10 digits, 2 decimals), or a 422."""
    field = Entry._meta.get_field("value")
    try:
        number = to_decimal(value, places=field.decimal_places)
    except ValueError:
        raise _invalid("value", _("Enter the measurement as a number, e.g. 37.2.")) from None
    if not fits_column(number, max_digits=field.max_digits, places=field.decimal_places):
        raise _invalid(
            "value",
            _("The measurement is too large: at most %(digits)d digits before the point.")
            % {"digits": field.max_digits - field.decimal_places},
        )
    return number


@transaction.atomic
def item_transition(*, actor: Any, item: Item, target: str, note: str = "") -> Item:
    """Move ``item`` along one of its kind's transitions to ``target``."""
    spec = kinds.get(item.kind)
    item = _locked(item)
    transition = spec.transition(item.state, target)
    if transition is None:
        _require(actor, spec, spec.track_perm, item.unit_path)
        raise Conflict(
            _("An item in state “%(state)s” cannot move to “%(target)s”.")
            % {"state": spec.state_label(item.state), "target": spec.state_label(target)}
        )
    _require(actor, spec, transition.perm, item.unit_path)
    _require_open(item)
    if target in spec.closed_states:
        raise Conflict(_("Close an item out with a reason (and an approval where needed)."))
    before = _state_snapshot(item)
    previous = item.state
    _set_state(item, target)
    _entry(
        item,
        Entry.Kind.TRANSITION,
        actor,
        timezone.now(),
        (note or "").strip(),
        data={"from": previous, "to": target},
    )
    _audit(actor, AuditLog.Action.UPDATE, item, before, _state_snapshot(item))
    return item


@transaction.atomic
def item_assign(*, actor: Any, item: Item, owners: Iterable[User]) -> Item:
    """Make ``owners`` the people responsible for ``item`` (replacing the previous ones)."""
    spec = kinds.get(item.kind)
    _require(actor, spec, spec.track_perm, item.unit_path)
    item = _locked(item)
    owner_list = sorted({user for user in owners if user.is_active}, key=lambda u: u.pk)
    before = sorted(item.owners.values_list("pk", flat=True))
    item.owners.set(owner_list)
    after = [user.pk for user in owner_list]
    names = "、".join(user.get_full_name() or user.username for user in owner_list)
    _entry(
        item,
        Entry.Kind.ASSIGNMENT,
        actor,
        timezone.now(),
        names or _("No owner"),
        data={"owners": after},
    )
    _audit(actor, AuditLog.Action.UPDATE, item, {"owners": before}, {"owners": after})
    return item


@transaction.atomic
def item_set_cadence(*, actor: Any, item: Item, every_hours: int | None) -> Item:
    """Change how often ``item`` must be followed up (None: no recurring clock).

    The next follow-up falls due ``every_hours`` after the last one (or the opening).
    """
    spec = kinds.get(item.kind)
    _require(actor, spec, spec.track_perm, item.unit_path)
    if every_hours is not None and not 1 <= every_hours <= MAX_CADENCE_HOURS:
        raise _invalid(
            "every_hours",
            _("Follow up between every 1 and every %(max)d hours.") % {"max": MAX_CADENCE_HOURS},
        )
    item = _locked(item)
    if item.follow_up_every_hours == every_hours:
        return item
    before = {**_state_snapshot(item), "every_hours": item.follow_up_every_hours}
    item.follow_up_every_hours = every_hours
    item.save(update_fields=["follow_up_every_hours"])
    if item.is_open:
        if every_hours:
            last = (
                item.entries.filter(
                    kind__in=[Entry.Kind.NOTE, Entry.Kind.MEASUREMENT, Entry.Kind.ATTACHMENT]
                )
                .order_by("-at")
                .values_list("at", flat=True)
                .first()
            )
            start = last or item.opened_at
            _set_clock(
                item,
                spec,
                FOLLOW_UP_CLOCK,
                clock_due(kind=spec, key=FOLLOW_UP_CLOCK, start=start, every_hours=every_hours),
            )
        else:
            ItemClock.objects.filter(item=item, key=FOLLOW_UP_CLOCK, met_at__isnull=True).delete()
        refresh_due(item)
    text = (
        _("Follow up every %(hours)d hours") % {"hours": every_hours}
        if every_hours
        else _("No recurring follow-up")
    )
    _entry(item, Entry.Kind.SYSTEM, actor, timezone.now(), text, data={"every_hours": every_hours})
    _audit(
        actor,
        AuditLog.Action.UPDATE,
        item,
        before,
        {**_state_snapshot(item), "every_hours": every_hours},
    )
    return item


# ------------------------------------------------------------------ close-out (销号)


def _close(item: Item, reason: str, at: dt.datetime) -> None:
    spec = kinds.get(item.kind)
    _set_state(item, spec.close_state, is_open=False, closed_at=at, close_reason=reason)
    _stop_clocks(item, at)
    refresh_due(item)


@transaction.atomic
def item_request_close(*, actor: Any, item: Item, reason: str) -> Item:
    """Ask to close ``item`` out; it closes at once unless the kind needs an approval."""
    spec = kinds.get(item.kind)
    _require(
        actor,
        spec,
        spec.close_perm,
        item.unit_path,
        _("Your role may not close out this item."),
    )
    reason = _reason(reason)
    item = _locked(item)
    _require_open(item)
    if item.state == spec.closing_state and spec.close_needs_approval:
        raise Conflict(_("A close-out is already waiting for approval."))
    if spec.close_check is not None:
        spec.close_check(item)
    before = _state_snapshot(item)
    now = timezone.now()
    previous = item.state
    _entry(item, Entry.Kind.CLOSE_REQUEST, actor, now, reason, data={"from": previous})
    if spec.close_needs_approval:
        _set_state(item, spec.closing_state, close_reason=reason)
        _audit(actor, AuditLog.Action.UPDATE, item, before, _state_snapshot(item))
    else:
        _close(item, reason, now)
        _audit(actor, AuditLog.Action.CLOSE, item, before, _state_snapshot(item))
    return item


def _waiting_close(item: Item, spec: Kind) -> Entry:
    if item.state != spec.closing_state or not item.is_open:
        raise Conflict(_("No close-out is waiting for approval."))
    request = item.entries.filter(kind=Entry.Kind.CLOSE_REQUEST).order_by("-at", "-id").first()
    if request is None:
        raise Conflict(_("No close-out is waiting for approval."))
    return request


@transaction.atomic
def item_approve_close(*, actor: Any, item: Item, note: str = "") -> Item:
    """Approve the waiting close-out of ``item``: it is closed out with the requested reason."""
    spec = kinds.get(item.kind)
    _require(
        actor,
        spec,
        spec.approve_perm,
        item.unit_path,
        _("Your role may not approve close-outs."),
    )
    item = _locked(item)
    request = _waiting_close(item, spec)
    if spec.close_check is not None:
        spec.close_check(item)
    before = _state_snapshot(item)
    now = timezone.now()
    _entry(
        item, Entry.Kind.APPROVAL, actor, now, (note or "").strip(), data={"request": request.pk}
    )
    _close(item, request.text, now)
    _audit(actor, AuditLog.Action.CLOSE, item, before, _state_snapshot(item))
    return item


@transaction.atomic
def item_reject_close(*, actor: Any, item: Item, reason: str) -> Item:
    """Refuse the waiting close-out: the item goes back to the state it was in."""
    spec = kinds.get(item.kind)
    _require(
        actor,
        spec,
        spec.approve_perm,
        item.unit_path,
        _("Your role may not approve close-outs."),
    )
    reason = _reason(reason)
    item = _locked(item)
    request = _waiting_close(item, spec)
    before = _state_snapshot(item)
    _set_state(item, request.data.get("from") or spec.initial, close_reason="")
    _entry(item, Entry.Kind.REJECTION, actor, timezone.now(), reason, data={"request": request.pk})
    _audit(actor, AuditLog.Action.UPDATE, item, before, _state_snapshot(item))
    return item


@transaction.atomic
def item_reopen(*, actor: Any, item: Item, reason: str) -> Item:
    """Reopen a closed-out item: its clocks start again from now."""
    spec = kinds.get(item.kind)
    _require(
        actor,
        spec,
        spec.approve_perm,
        item.unit_path,
        _("Your role may not reopen items."),
    )
    reason = _reason(reason)
    item = _locked(item)
    if item.is_open:
        raise Conflict(_("This item is open."))
    if (
        item.open_key
        and Item.objects.filter(kind=item.kind, open_key=item.open_key, is_open=True).exists()
    ):
        raise Conflict(_("Another open item covers the same case; work on that one."))
    before = _state_snapshot(item)
    now = timezone.now()
    _set_state(
        item, spec.reopen_state or spec.initial, is_open=True, closed_at=None, close_reason=""
    )
    _restart_clocks(item, spec, now)
    refresh_due(item)
    _entry(item, Entry.Kind.REOPEN, actor, now, reason, data={"to": item.state})
    _audit(actor, AuditLog.Action.UPDATE, item, before, _state_snapshot(item))
    return item


@transaction.atomic
def item_escalate(*, actor: Any, item: Item, reason: str) -> Item:
    """Escalate ``item`` (e.g. not normal after the follow-up period): the parent unit's
    admins are told.
    """
    spec = kinds.get(item.kind)
    _require(actor, spec, spec.track_perm, item.unit_path)
    if not spec.has_escalation:
        raise Conflict(_("Items of this kind cannot be escalated."))
    reason = _reason(reason)
    item = _locked(item)
    _require_open(item)
    if item.state == spec.escalated_state:
        raise Conflict(_("This item is already escalated."))
    before = _state_snapshot(item)
    previous = item.state
    _set_state(item, spec.escalated_state or item.state)
    _entry(
        item,
        Entry.Kind.TRANSITION,
        actor,
        timezone.now(),
        reason,
        data={"from": previous, "to": item.state, "escalated": True},
    )
    _audit(actor, AuditLog.Action.UPDATE, item, before, _state_snapshot(item))
    unit = OrgUnit.objects.select_related("parent").get(pk=item.unit_id)
    target = unit.parent or unit
    notify(
        event=Event.ITEM_ESCALATED,
        unit=target,
        subject=_("Escalated: %(title)s") % {"title": item.title},
        body=_("%(kind)s “%(title)s” of %(unit)s was escalated: %(reason)s")
        % {"kind": spec.label, "title": item.title, "unit": unit.name, "reason": reason},
        link=item_link(item.pk),
        to_roles=[Role.UNIT_ADMIN],
    )
    return item


def item_link(pk: int) -> str:
    from django.urls import reverse

    return reverse("ledger:item", args=[pk])


def kind_link(kind: str, unit_id: int, *, overdue: bool = False) -> str:
    from django.urls import reverse

    url = f"{reverse('ledger:list', args=[kind])}?unit={unit_id}"
    return url + "&overdue=1" if overdue else url


# ------------------------------------------------------------------ overdue sweep


def _returning_item_ids(sql: str, params: list[Any]) -> list[int]:
    """Run an UPDATE … RETURNING item_id (SQLite ≥ 3.35 and PostgreSQL) and return the ids."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]


def _chunks(ids: Sequence[int]) -> Iterable[Sequence[int]]:
    for start in range(0, len(ids), _CHUNK):
        yield ids[start : start + _CHUNK]


def _by_ids(sql: str, ids: Sequence[int]) -> list[tuple[Any, ...]]:
    """Run ``sql`` whose ``{ids}`` names the id list: one array parameter on PostgreSQL
    (one statement for 10,000 ids), chunks of ``IN (…)`` on SQLite; return all rows.
    """
    rows: list[tuple[Any, ...]] = []
    if not ids:
        return rows
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(sql.format(ids="= ANY(%s)"), [list(ids)])
            return list(cursor.fetchall()) if cursor.description else rows
        for chunk in _chunks(ids):
            cursor.execute(sql.format(ids=f"IN ({', '.join(['%s'] * len(chunk))})"), chunk)
            if cursor.description:
                rows.extend(cursor.fetchall())
    return rows


@transaction.atomic
def overdue_sweep(now: dt.datetime | None = None) -> dict[str, Any]:
    """Warn about clocks due soon, mark breached clocks and their items overdue, notify.

    Set-based: two UPDATE … RETURNING statements over the pending-clock partial indexes
    claim the clocks (a concurrent sweep gets none of them); the items are grouped by unit
    and one queued job sends one notification per unit and event with the counts per
    kind (``sweep_notices_send``). Returns the counts and the number of notifications.
    """
    now = now or timezone.now()
    table = connection.ops.quote_name(ItemClock._meta.db_table)
    stamp = connection.ops.adapt_datetimefield_value(now)
    warned = _returning_item_ids(
        f"UPDATE {table} SET warned_at = %s "  # noqa: S608
        "WHERE met_at IS NULL AND warned_at IS NULL AND warn_at <= %s AND due_at > %s "
        "RETURNING item_id",
        [stamp, stamp, stamp],
    )
    # A breached clock is warned too: it leaves the warning index however late the sweep.
    breached = _returning_item_ids(
        f"UPDATE {table} SET breached_at = %s, warned_at = COALESCE(warned_at, %s) "  # noqa: S608
        "WHERE met_at IS NULL AND breached_at IS NULL AND due_at <= %s "
        "RETURNING item_id",
        [stamp, stamp, stamp],
    )
    breached_items = sorted(set(breached))
    items = connection.ops.quote_name(Item._meta.db_table)
    _by_ids(
        f"UPDATE {items} SET is_overdue = TRUE WHERE id {{ids}} AND NOT is_overdue",  # noqa: S608
        breached_items,
    )
    batches = [
        *_unit_batches(sorted(set(warned)), Event.ITEM_DUE_SOON),
        *_unit_batches(breached_items, Event.ITEM_OVERDUE),
    ]
    if batches:
        audit_record(
            actor=None,
            action=AuditLog.Action.UPDATE,
            object_type="ledger.sweep",
            object_id=now.isoformat(),
            object_repr=f"{len(set(warned))} warned, {len(breached_items)} overdue",
            after={"warned": len(set(warned)), "overdue": len(breached_items)},
        )
        # Sent by the queue (the same database carries it: the job appears with these rows),
        # so a sweep holds its transaction only for the set-based marking.
        async_task("fangkong.ledger.tasks.send_sweep_notices", batches, task_name="ledger-sweep")
    return {
        "warned": len(set(warned)),
        "overdue": len(breached_items),
        "notifications": len(batches),
    }


def _unit_batches(item_ids: Sequence[int], event: str) -> list[dict[str, Any]]:
    """Group items by unit: counts per kind and owners, as JSON for the queued job."""
    counts: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    owners: dict[int, set[int]] = defaultdict(set)
    quote = connection.ops.quote_name
    by_unit = _by_ids(
        f"SELECT unit_id, kind, COUNT(*) FROM {quote(Item._meta.db_table)} "  # noqa: S608
        "WHERE id {ids} GROUP BY unit_id, kind",
        item_ids,
    )
    for unit_id, kind, count in by_unit:
        counts[unit_id][kind] += count
    through = Item.owners.through._meta.db_table
    owned = _by_ids(
        f"SELECT DISTINCT i.unit_id, o.user_id FROM {quote(through)} o "  # noqa: S608
        f"JOIN {quote(Item._meta.db_table)} i ON i.id = o.item_id WHERE o.item_id {{ids}}",
        item_ids,
    )
    for unit_id, user_id in owned:
        owners[unit_id].add(user_id)
    return [
        {
            "event": event,
            "unit": unit_id,
            "counts": dict(counts[unit_id]),
            "owners": sorted(owners[unit_id]),
        }
        for unit_id in sorted(counts)
    ]


def sweep_notices_send(*, batches: Sequence[Mapping[str, Any]]) -> int:
    """Send one notification per unit batch of a sweep; return how many were sent.

    Due-soon goes to the unit's trackers and the items' owners; overdue to the parent
    unit's admins (a root's own admins) and the owners.
    """
    if not batches:
        return 0
    units = OrgUnit.objects.select_related("parent").in_bulk([b["unit"] for b in batches])
    users = User.objects.in_bulk(sorted({pk for b in batches for pk in b["owners"]}))
    sent = 0
    for batch in batches:
        unit = units.get(batch["unit"])
        if unit is None:
            continue
        parts = []
        for key, count in sorted(batch["counts"].items()):
            spec = kinds.find(key)
            parts.append(f"{spec.label_plural if spec else key} {count}")
        names = {
            "unit": unit.name,
            "count": sum(batch["counts"].values()),
            "detail": "，".join(parts),
        }
        breached = batch["event"] == Event.ITEM_OVERDUE
        only_kind = next(iter(batch["counts"])) if len(batch["counts"]) == 1 else None
        link = kind_link(only_kind, unit.pk, overdue=breached) if only_kind else ""
        owners = [users[pk] for pk in batch["owners"] if pk in users]
        if breached:
            notify(
                event=Event.ITEM_OVERDUE,
                unit=unit.parent or unit,
                subject=_("%(unit)s: %(count)d ledger item(s) overdue") % names,
                body=_("%(count)d item(s) of %(unit)s passed a deadline: %(detail)s.") % names,
                link=link,
                to_roles=[Role.UNIT_ADMIN],
                to_users=owners,
            )
        else:
            notify(
                event=Event.ITEM_DUE_SOON,
                unit=unit,
                subject=_("%(unit)s: %(count)d ledger item(s) due soon") % names,
                body=_("%(count)d item(s) of %(unit)s fall due soon: %(detail)s.") % names,
                link=link,
                to_roles=[Role.TRACKER],
                to_users=owners,
            )
        sent += 1
    return sent


# ------------------------------------------------------------------ calendar overrides
# The calendar lives in core, which cannot check permissions; its writes live here.


def _require_calendar(actor: Any) -> str:
    """Raise PermissionDenied unless ``actor`` may edit the calendar; return an audit scope."""
    scope = scope_for(actor, Perm.MANAGE_OUTBREAK)
    if scope.is_empty:
        raise PermissionDenied()
    return scope.paths[0] if len(scope.paths) == 1 else ""


@transaction.atomic
def calendar_day_save(
    *, actor: Any, day: dt.date, is_working: bool, name: str = "", note: str = ""
) -> CalendarDay:
    """Enter (or change) the override for ``day`` from the State Council's notice."""
    scope_path = _require_calendar(actor)
    existing = CalendarDay.objects.filter(day=day).first()
    before = snapshot(existing) if existing else None
    row, _created = CalendarDay.objects.update_or_create(
        day=day,
        defaults={"is_working": is_working, "name": name.strip()[:64], "note": note.strip()[:200]},
    )
    audit_record(
        actor=actor,
        action=AuditLog.Action.UPDATE if existing else AuditLog.Action.CREATE,
        obj=row,
        scope_path=scope_path,
        before=before,
        after=snapshot(row),
    )
    return row


@transaction.atomic
def calendar_day_delete(*, actor: Any, override_id: int) -> None:
    """Remove an override: the package's calendar applies to that day again."""
    scope_path = _require_calendar(actor)
    row = CalendarDay.objects.filter(pk=override_id).first()
    if row is None:
        raise NotFound()
    before = snapshot(row)
    row.delete()
    audit_record(
        actor=actor,
        action=AuditLog.Action.DELETE,
        object_type="core.calendarday",
        object_id=str(override_id),
        object_repr=str(before.get("day")),
        scope_path=scope_path,
        before=before,
    )


@transaction.atomic
def calendar_notice_enter(*, actor: Any, year: int, note: str = "") -> CalendarNotice:
    """Mark ``year``'s notice as entered: its deadlines stop being estimates."""
    scope_path = _require_calendar(actor)
    if not 2000 <= year <= 2200:
        raise _invalid("year", _("Give a year between 2000 and 2200."))
    if CalendarNotice.objects.filter(year=year).exists():
        raise Conflict(_("The notice for this year is already entered."))
    row = CalendarNotice.objects.create(year=year, entered_by=_user(actor), note=note.strip()[:200])
    audit_record(
        actor=actor,
        action=AuditLog.Action.CREATE,
        obj=row,
        scope_path=scope_path,
        after=snapshot(row),
    )
    return row
