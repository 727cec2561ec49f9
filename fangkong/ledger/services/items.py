"""Working an open item: follow-ups, transitions, owners, cadence, escalation."""

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.accounts.actors import Actor
from fangkong.accounts.models import User
from fangkong.accounts.roles import Role
from fangkong.accounts.selectors import require_perm
from fangkong.core.errors import Conflict, InvalidInput
from fangkong.core.models import AuditLog
from fangkong.core.numbers import fits_column, to_decimal
from fangkong.notify.models import Event
from fangkong.notify.services import notify
from fangkong.orgs.models import OrgUnit, place_related

from .. import kinds
from ..kinds import FOLLOW_UP_CLOCK
from ..models import Entry, Item, ItemClock
from .clocks import _set_clock, clock_due, refresh_due
from .common import (
    NOT_ON_ITEM,
    _audit,
    _entry,
    _locked,
    _reason,
    _require_open,
    _set_state,
    _state_snapshot,
    item_link,
)

MAX_CADENCE_HOURS = 24 * 14


# ------------------------------------------------------------------ working an item


@transaction.atomic
def item_follow_up(
    *,
    actor: Actor,
    item: Item,
    text: str,
    value: Decimal | None = None,
    unit: str = "",
    file: UploadedFile | None = None,
    at: dt.datetime | None = None,
    data: dict[str, Any] | None = None,
) -> Entry:
    """Record a follow-up (note, measurement or attachment) on an open item.

    It meets the clocks met by a follow-up (first_follow_up), restarts the recurring
    follow-up clock at ``at`` plus the item's cadence, and moves an item still in its
    initial state to the kind's ``first_follow_up_state`` (a history entry records it).
    """
    spec = kinds.get(item.kind)
    require_perm(
        actor, spec.track_perm, item.unit_path, seen_with=spec.view_perm, message=NOT_ON_ITEM
    )
    item = _locked(item)
    _require_open(item)
    text = (text or "").strip()
    if not text and value is None and file is None and not data:
        raise InvalidInput.at("text", _("Write what the follow-up found."))
    if value is not None:
        value = _measurement(value)
    now = timezone.now()
    at = at or now
    if at > now + dt.timedelta(minutes=5):
        raise InvalidInput.at("at", _("A follow-up cannot be in the future."))
    before = _state_snapshot(item)
    _start_following(item, spec, actor, at)
    kind = (
        Entry.Kind.ATTACHMENT
        if file is not None
        else Entry.Kind.MEASUREMENT
        if value is not None
        else Entry.Kind.NOTE
    )
    # The unit of measure comes prefilled on the form: without a value it says nothing.
    unit = (unit or "")[:16] if value is not None else ""
    entry = _entry(item, kind, actor, at, text, value=value, unit=unit, data=data or {})
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
    refresh_due(item)
    _audit(
        actor, AuditLog.Action.UPDATE, item, before, {**_state_snapshot(item), "entry": entry.pk}
    )
    return entry


def _start_following(item: Item, spec: kinds.Kind, actor: Actor, at: dt.datetime) -> None:
    """Move an item still in its initial state to where the kind says a first follow-up leads."""
    target = spec.first_follow_up_state
    if not target or item.state != spec.initial or target == item.state:
        return
    previous = item.state
    _set_state(item, target)
    _entry(item, Entry.Kind.TRANSITION, actor, at, data={"from": previous, "to": target})


def _measurement(value: Any) -> Decimal:
    """A follow-up's value as its column holds it (10 digits, 2 decimals), or a 422."""
    field = Entry._meta.get_field("value")
    try:
        number = to_decimal(value, places=field.decimal_places)
    except ValueError:
        raise InvalidInput.at("value", _("Enter the measurement as a number, e.g. 37.2.")) from None
    if not fits_column(number, max_digits=field.max_digits, places=field.decimal_places):
        raise InvalidInput.at(
            "value",
            _("The measurement is too large: at most %(digits)d digits before the point.")
            % {"digits": field.max_digits - field.decimal_places},
        )
    return number


@transaction.atomic
def item_transition(
    *, actor: Actor, item: Item, target: str, note: str = "", by_hand: bool = True
) -> Item:
    """Move ``item`` along one of its kind's transitions to ``target``.

    ``by_hand=False`` is for the kind's own services, which take the transitions the
    pages and the API may not (``Transition.by_hand``) after checks of their own.
    """
    spec = kinds.get(item.kind)
    item = _locked(item)
    transition = spec.transition(item.state, target)
    if transition is not None and by_hand and not transition.by_hand:
        transition = None
    if transition is None:
        require_perm(
            actor, spec.track_perm, item.unit_path, seen_with=spec.view_perm, message=NOT_ON_ITEM
        )
        raise Conflict(
            _("An item in state “%(state)s” cannot move to “%(target)s”.")
            % {"state": spec.state_label(item.state), "target": spec.state_label(target)}
        )
    require_perm(
        actor, transition.perm, item.unit_path, seen_with=spec.view_perm, message=NOT_ON_ITEM
    )
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
def item_assign(*, actor: Actor, item: Item, owners: Iterable[User]) -> Item:
    """Make ``owners`` the people responsible for ``item`` (replacing the previous ones)."""
    spec = kinds.get(item.kind)
    require_perm(
        actor, spec.track_perm, item.unit_path, seen_with=spec.view_perm, message=NOT_ON_ITEM
    )
    item = _locked(item)
    owner_list = sorted({user for user in owners if user.is_active}, key=lambda u: u.pk)
    before = sorted(item.owners.values_list("pk", flat=True))
    item.owners.set(owner_list)
    after = [user.pk for user in owner_list]
    names = "、".join(str(user) for user in owner_list)  # the display name, else the username
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
def item_set_cadence(*, actor: Actor, item: Item, every_hours: int | None) -> Item:
    """Change how often ``item`` must be followed up (None: no recurring clock).

    The next follow-up falls due ``every_hours`` after the last one (or the opening).
    """
    spec = kinds.get(item.kind)
    require_perm(
        actor, spec.track_perm, item.unit_path, seen_with=spec.view_perm, message=NOT_ON_ITEM
    )
    if every_hours is not None and not 1 <= every_hours <= MAX_CADENCE_HOURS:
        raise InvalidInput.at(
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


@transaction.atomic
def item_escalate(*, actor: Actor, item: Item, reason: str) -> Item:
    """Escalate ``item`` (e.g. not normal after the follow-up period): the parent unit's
    admins are told.
    """
    spec = kinds.get(item.kind)
    require_perm(
        actor, spec.track_perm, item.unit_path, seen_with=spec.view_perm, message=NOT_ON_ITEM
    )
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
    unit = OrgUnit.objects.select_related(place_related()).get(pk=item.unit_id)
    target = unit.parent or unit
    notify(
        event=Event.ITEM_ESCALATED,
        unit=target,
        subject=_("Escalated: %(title)s") % {"title": item.title},
        body=_("%(kind)s “%(title)s” of %(unit)s was escalated: %(reason)s")
        % {"kind": spec.label, "title": item.title, "unit": unit.place, "reason": reason},
        link=item_link(item.pk),
        to_roles=[Role.UNIT_ADMIN],
    )
    return item
