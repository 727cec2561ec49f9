"""Supervision (督办): a superior unit puts any open ledger item under its supervision.

A supervision order (督办单) names the supervising unit, a level and a deadline. It may
watch an item of any kind: a rectification problem, a bad review, an abnormal-person
card. One order per item is active at a time; it ends by hand (with a reason) or when its
item is closed out (``item_state_changed``).

Colours come from the one rule in ``colours.py``: red past the order's due day; yellow when
the item is a problem behind its pro-rata schedule (its targets and milestones measured
from the problem's start to the order's due day; an item without progress is never
yellow); blue with 3 working days or fewer left. An order of a problem already accepted
has no colour: the work is done and waits for its check.

Every colour change, of a problem or of an order, tells the item's owners and the
supervising unit (a problem without an order: the assigning unit) once, after commit.
"""

import datetime as dt
from collections.abc import Iterable
from functools import partial
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from fangkong.accounts.actors import Actor, Viewer, acting_user
from fangkong.accounts.models import RoleAssignment, User
from fangkong.accounts.roles import Perm, roles_holding
from fangkong.accounts.selectors import require_perm, scope_for
from fangkong.core import calendar
from fangkong.core.audit import audit_record
from fangkong.core.errors import Conflict, InvalidInput, NotFound
from fangkong.core.models import AuditLog
from fangkong.core.paths import is_within, subtree_q
from fangkong.core.text import FIRST_DAY, LAST_DAY
from fangkong.ledger import kinds
from fangkong.ledger.models import Entry, Item
from fangkong.notify.models import Event
from fangkong.notify.services import notify
from fangkong.orgs.models import OrgUnit, place_related

from . import colours
from .ledger_kind import KIND
from .models import Colour, Problem, SupervisionLevel, SupervisionOrder
from .services import COLOURED_STATES, progress_of

MAX_NOTE = 2000


# Who hears of a colour change above the item: the supervising unit's supervisors, or for
# a problem without an order the assigning unit's acceptors and supervisors.
SUPERVISING_ROLES = roles_holding(Perm.SUPERVISE)
ASSIGNING_ROLES = roles_holding(Perm.ACCEPT_PROBLEMS, Perm.SUPERVISE)


def _today(now: dt.datetime) -> dt.date:
    return now.astimezone(calendar.LOCAL_TZ).date()


# ------------------------------------------------------------------ colour


def problem_of(item: Item) -> Problem | None:
    """The problem an item of the problem kind is about; None for other kinds."""
    if item.kind != KIND:
        return None
    return Problem.objects.filter(item=item).first()


def order_colour(order: SupervisionOrder, item: Item, now: dt.datetime) -> str:
    """The colour of an active order at ``now`` (the rule of ``colours.colour_of``)."""
    if not order.is_active or not item.is_open:
        return Colour.NONE
    problem = problem_of(item)
    if problem is None:
        starts_on, progress = order.created_at.astimezone(calendar.LOCAL_TZ).date(), None
    elif item.state not in COLOURED_STATES:
        return Colour.NONE
    else:
        starts_on, progress = problem.starts_on, progress_of(problem, _today(now))
    return colours.colour_of(
        now=now,
        starts_on=starts_on,
        due_on=order.due_on,
        progress=progress or colours.Progress(),
    )


def order_recolour(order: SupervisionOrder, *, now: dt.datetime | None = None) -> bool:
    """Recompute and store the order's colour, telling whoever watches; True if changed."""
    now = now or timezone.now()
    item = Item.objects.select_related("unit").get(pk=order.item_id)
    colour = order_colour(order, item, now)
    if colour == order.colour:
        return False
    previous = order.colour
    SupervisionOrder.objects.filter(pk=order.pk).update(colour=colour, colour_since=now)
    order.colour, order.colour_since = colour, now
    _tell_colour(item=item, previous=previous, colour=colour, due_on=order.due_on, order=order)
    return True


def active_order(item_id: int) -> SupervisionOrder | None:
    return SupervisionOrder.objects.filter(item_id=item_id, is_active=True).first()


def _holders(unit_id: int, roles: Iterable[str]) -> list[User]:
    """Active users holding one of ``roles`` on exactly the unit."""
    ids = RoleAssignment.objects.filter(
        unit_id=unit_id, role__in=list(roles), user__is_active=True
    ).values_list("user_id", flat=True)
    return list(User.objects.filter(pk__in=ids))


def _watchers(item: Item, order: SupervisionOrder | None) -> list[User]:
    """The item's owners and, above it, the supervising (or assigning) unit's holders."""
    users = {user.pk: user for user in item.owners.filter(is_active=True)}
    if order is not None:
        above = _holders(order.supervising_unit_id, SUPERVISING_ROLES)
    else:
        problem = problem_of(item)
        above = _holders(problem.assigning_unit_id, ASSIGNING_ROLES) if problem else []
    users.update((user.pk, user) for user in above)
    return [users[pk] for pk in sorted(users)]


def colour_label(colour: str) -> str:
    return str(Colour(colour).label) if colour else _("no colour")


def _tell_colour(
    *,
    item: Item,
    previous: str,
    colour: str,
    due_on: dt.date,
    order: SupervisionOrder | None,
) -> None:
    """One notice of one change, sent after commit (a rolled-back change tells nobody)."""
    recipients = _watchers(item, order if order is not None else active_order(item.pk))
    transaction.on_commit(
        partial(
            _send_colour_notice,
            item_id=item.pk,
            what="order" if order is not None else "problem",
            previous=previous,
            colour=colour,
            due_on=due_on,
            user_ids=[user.pk for user in recipients],
        ),
        robust=True,
    )


def _send_colour_notice(
    *,
    item_id: int,
    what: str,
    previous: str,
    colour: str,
    due_on: dt.date,
    user_ids: list[int],
) -> None:
    item = Item.objects.select_related(place_related("unit")).get(pk=item_id)
    with translation.override(settings.LANGUAGE_CODE):
        names = {
            "unit": item.unit.place,
            "title": item.title,
            "old": colour_label(previous),
            "new": colour_label(colour),
            "due": due_on.isoformat(),
        }
        if what == "order":
            subject = _("%(unit)s: supervision of “%(title)s” is now %(new)s") % names
            body = (
                _(
                    "The supervision order on “%(title)s” (%(unit)s) changed from %(old)s to "
                    "%(new)s. Due on %(due)s."
                )
                % names
            )
        else:
            subject = _("%(unit)s: problem “%(title)s” is now %(new)s") % names
            body = (
                _(
                    "The problem “%(title)s” (%(unit)s) changed from %(old)s to %(new)s. "
                    "Due on %(due)s."
                )
                % names
            )
        notify(
            event=Event.COLOUR_CHANGED,
            unit=item.unit,
            subject=subject,
            body=body,
            link=reverse("ledger:item", args=[item.pk]),
            to_users=User.objects.filter(pk__in=user_ids),
        )


def on_problem_recoloured(
    sender: Any, *, problem: Problem, previous: str, now: dt.datetime, **kwargs: Any
) -> None:
    """A problem changed colour: tell its watchers, then recolour its order."""
    if problem.item_id is None:
        return
    item = Item.objects.select_related("unit").get(pk=problem.item_id)
    order = active_order(item.pk)
    _tell_colour(
        item=item, previous=previous, colour=problem.colour, due_on=problem.due_on, order=None
    )
    if order is not None:
        order_recolour(order, now=now)


def on_item_state_changed(sender: Any, *, item: Item, previous: str, **kwargs: Any) -> None:
    """An item closed out ends its order; any other step may change the order's colour."""
    order = active_order(item.pk)
    if order is None:
        return
    if not item.is_open:
        _end(None, order, item, _("The item was closed out."), timezone.now())
    else:
        order_recolour(order)


# ------------------------------------------------------------------ issue and end


def supervising_units_for(user: Viewer, item: Item) -> list[OrgUnit]:
    """The units from which ``user`` may supervise ``item``: its unit and its ancestors
    where the user holds the supervision permission, the highest first."""
    scope = scope_for(user, Perm.SUPERVISE)
    ids = [int(part) for part in item.unit_path.split("/") if part]
    units = OrgUnit.objects.filter(pk__in=ids).select_related(place_related())
    allowed = [unit for unit in units if scope.covers(unit.path)]
    return sorted(allowed, key=lambda unit: unit.depth)


def may_issue(user: Viewer, item: Item) -> bool:
    """For the item page's action: an open item without an active order, in the user's
    supervision scope (from its own unit or one above), and seen with its kind."""
    spec = kinds.find(item.kind)
    return (
        item.is_open
        and spec is not None
        and scope_for(user, spec.view_perm).covers(item.unit_path)
        and scope_for(user, Perm.SUPERVISE).covers(item.unit_path)
        and not SupervisionOrder.objects.filter(item_id=item.pk, is_active=True).exists()
    )


def _history(item: Item, actor: Actor, now: dt.datetime, text: str, data: dict[str, Any]) -> None:
    Entry.objects.create(
        item=item, kind=Entry.Kind.SYSTEM, author=acting_user(actor), at=now, text=text, data=data
    )


def _order_facts(order: SupervisionOrder) -> dict[str, Any]:
    return {
        "item": order.item_id,
        "supervising_unit": order.supervising_unit_id,
        "level": order.level,
        "due_on": order.due_on.isoformat(),
        "is_active": order.is_active,
        "colour": order.colour,
    }


def _audit(
    actor: Actor, order: SupervisionOrder, item: Item, before: Any, after: Any, action: str
) -> None:
    audit_record(
        actor=actor,
        action=action,
        obj=order,
        object_repr=f"supervision #{order.pk} {item.kind} #{item.pk} {item.title}",
        scope_path=item.unit_path,
        before=before,
        after=after,
    )


@transaction.atomic
def order_issue(
    *,
    actor: Actor,
    item: Item,
    supervising_unit: OrgUnit,
    level: str,
    due_on: dt.date | None,
    note: str = "",
    now: dt.datetime | None = None,
) -> SupervisionOrder:
    """Put an open ledger item under the supervision of ``supervising_unit`` (列入督办).

    The actor must see the item (its kind's view permission: 404 otherwise) and hold the
    supervision permission on the supervising unit, which is the item's unit or one above
    it. One active order per item: a second answers 409.
    """
    now = now or timezone.now()
    spec = kinds.get(item.kind)
    require_perm(actor, spec.view_perm, item.unit_path, seen_with=spec.view_perm)
    require_perm(actor, Perm.SUPERVISE, supervising_unit.path)
    item = Item.objects.select_for_update().select_related("unit").get(pk=item.pk)
    if not is_within(item.unit_path, supervising_unit.path):
        raise InvalidInput.at(
            "supervising_unit_id",
            _("The supervising unit must be the item's unit or a unit above it."),
        )
    if level not in SupervisionLevel.values:
        raise InvalidInput.at("level", _("Choose a supervision level from the list."))
    if due_on is None:
        raise InvalidInput.at("due_on", _("Give the day the supervision is due."))
    if due_on < _today(now) or not FIRST_DAY <= due_on <= LAST_DAY:
        raise InvalidInput.at("due_on", _("The due date cannot be in the past."))
    note = (note or "").strip()
    if len(note) > MAX_NOTE:
        raise InvalidInput.at("note", _("Write at most %(n)d characters.") % {"n": MAX_NOTE})
    if not item.is_open:
        raise Conflict(_("This item is closed out; reopen it first."))
    if SupervisionOrder.objects.filter(item=item, is_active=True).exists():
        raise Conflict(_("This item is already under supervision."))
    try:
        with transaction.atomic():
            order = SupervisionOrder.objects.create(
                item=item,
                supervising_unit=supervising_unit,
                supervising_path=supervising_unit.path,
                level=level,
                due_on=due_on,
                note=note,
                issued_by=acting_user(actor),
            )
    except IntegrityError as exc:  # a second order raced this one
        raise Conflict(_("This item is already under supervision.")) from exc
    with translation.override(settings.LANGUAGE_CODE):
        text = _("Put under supervision by %(unit)s (%(level)s), due on %(due)s.") % {
            "unit": supervising_unit.name,
            "level": SupervisionLevel(level).label,
            "due": due_on.isoformat(),
        }
    _history(item, actor, now, "\n".join(filter(None, [text, note])), {"supervision": order.pk})
    order.colour = order_colour(order, item, now)
    order.colour_since = now if order.colour else None
    order.save(update_fields=["colour", "colour_since"])
    _audit(actor, order, item, None, _order_facts(order), AuditLog.Action.CREATE)
    order_id = order.pk  # a lambda, not a partial: a robust hook's failure is logged by name
    transaction.on_commit(lambda: _send_issued_notice(order_id=order_id), robust=True)
    return order


def _send_issued_notice(*, order_id: int) -> None:
    order = SupervisionOrder.objects.select_related(place_related("supervising_unit"), "item").get(
        pk=order_id
    )
    item = Item.objects.select_related(place_related("unit")).get(pk=order.item_id)
    with translation.override(settings.LANGUAGE_CODE):
        names = {
            "unit": item.unit.place,
            "title": item.title,
            "supervisor": order.supervising_unit.place,
            "level": SupervisionLevel(order.level).label,
            "due": order.due_on.isoformat(),
            "colour": colour_label(order.colour),
        }
        body = (
            _(
                "%(supervisor)s put “%(title)s” (%(unit)s) under %(level)s, due on %(due)s. "
                "Colour now: %(colour)s."
            )
            % names
        )
        notify(
            event=Event.SUPERVISION_ISSUED,
            unit=item.unit,
            subject=_("%(unit)s: “%(title)s” put under supervision") % names,
            body="\n".join(filter(None, [body, order.note])),
            link=reverse("ledger:item", args=[item.pk]),
            to_users=list(item.owners.filter(is_active=True)),
        )


def _end(
    actor: Actor, order: SupervisionOrder, item: Item, reason: str, now: dt.datetime
) -> SupervisionOrder:
    before = _order_facts(order)
    order.is_active, order.ended_at = False, now
    order.colour, order.colour_since = Colour.NONE, None
    order.save(update_fields=["is_active", "ended_at", "colour", "colour_since", "updated_at"])
    with translation.override(settings.LANGUAGE_CODE):
        text = _("Supervision ended: %(reason)s") % {"reason": reason}
    _history(item, actor, now, text, {"supervision": order.pk, "ended": True})
    _audit(
        actor,
        order,
        item,
        before,
        {**_order_facts(order), "reason": reason},
        AuditLog.Action.UPDATE,
    )
    return order


@transaction.atomic
def order_end(
    *,
    actor: Actor,
    order: SupervisionOrder,
    reason: str,
    now: dt.datetime | None = None,
) -> SupervisionOrder:
    """End an active order by hand, with the reason: the supervising unit's supervisors."""
    now = now or timezone.now()
    item = Item.objects.select_related("unit").get(pk=order.item_id)
    spec = kinds.get(item.kind)
    require_perm(actor, spec.view_perm, item.unit_path, seen_with=spec.view_perm)
    require_perm(actor, Perm.SUPERVISE, order.supervising_path)
    order = SupervisionOrder.objects.select_for_update().get(pk=order.pk)
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput.at("reason", _("Give a reason."))
    if not order.is_active:
        raise Conflict(_("This supervision order has already ended."))
    return _end(actor, order, item, reason, now)


# ------------------------------------------------------------------ wiring


def connect() -> None:
    """Listen to the problems' colours and the items' states; add the item page's action."""
    from fangkong.ledger import item_actions
    from fangkong.ledger.signals import item_state_changed

    from .signals import problem_recoloured

    problem_recoloured.connect(on_problem_recoloured, dispatch_uid="rect-supervision-colour")
    item_state_changed.connect(on_item_state_changed, dispatch_uid="rect-supervision-state")
    item_actions.register(
        item_actions.ItemAction(
            key="supervise",
            label=gettext_lazy("Put under supervision"),
            url=lambda item: reverse("rectification:supervision_issue", args=[item.pk]),
            allowed=may_issue,
        )
    )
    item_actions.register(
        item_actions.ItemAction(
            key="supervision",
            label=gettext_lazy("Supervision order"),
            url=_order_url,
            allowed=_has_order,
            order=101,
        )
    )


def _has_order(user: Viewer, item: Item) -> bool:
    return SupervisionOrder.objects.filter(item_id=item.pk, is_active=True).exists()


def _order_url(item: Item) -> str:
    order = active_order(item.pk)
    return reverse("rectification:supervision_order", args=[order.pk]) if order else ""


# ------------------------------------------------------------------ reads


def orders_visible(user: Viewer) -> QuerySet[SupervisionOrder]:
    """The orders whose item ``user`` may see (each kind with its own view permission)."""
    seen = Q(pk__in=[])
    for spec in kinds.all_kinds():
        scope = scope_for(user, spec.view_perm)
        if not scope.is_empty:
            seen |= Q(item__kind=spec.key) & scope.q("item__unit_path")
    return SupervisionOrder.objects.filter(seen).select_related(
        place_related("item__unit"), place_related("supervising_unit"), "item"
    )


def orders_search(
    user: Viewer,
    *,
    colour: str | None = None,
    level: str | None = None,
    unit: OrgUnit | None = None,
    kind: str | None = None,
    status: str = "active",
    text: str = "",
) -> QuerySet[SupervisionOrder]:
    """The orders ``user`` sees, filtered; ``colour`` "none" for orders without a colour,
    ``status`` "active", "ended" or "all"; ``unit``: supervised from its subtree or about
    an item in it; ``text``: in the item's title or the order's requirements."""
    orders = orders_visible(user)
    if text:
        orders = orders.filter(Q(item__title__icontains=text) | Q(note__icontains=text))
    if status == "active":
        orders = orders.filter(is_active=True)
    elif status == "ended":
        orders = orders.filter(is_active=False)
    if colour:
        orders = orders.filter(colour="" if colour == "none" else colour)
    if level:
        orders = orders.filter(level=level)
    if kind:
        orders = orders.filter(item__kind=kind)
    if unit is not None:  # supervised from the subtree, or about an item in it
        orders = orders.filter(
            subtree_q("supervising_path", unit.path) | subtree_q("item__unit_path", unit.path)
        )
    return orders.order_by("-is_active", "due_on", "id")


def order_get(user: Viewer, pk: int) -> SupervisionOrder:
    """One order the user sees; 404 otherwise (its existence stays hidden)."""
    order = orders_visible(user).filter(pk=pk).first()
    if order is None:
        raise NotFound()
    return order


def end_reason(order: SupervisionOrder) -> str:
    """Why an ended order ended, as its item's history says."""
    if order.is_active:
        return ""
    entry = Entry.objects.filter(
        item_id=order.item_id, data__supervision=order.pk, data__ended=True
    ).first()
    return entry.text if entry else ""
