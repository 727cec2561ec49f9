"""Every read of checkpoints, the gate's log, visitors, the watch list and rosters.

Who sees what: checkpoints and the gate's log of a site, whoever records there (guards),
overrides there (supervisors) or manages it (admins). A restricted reason (the watch
list's) is shown only to those who may override; a guard reads a neutral refusal.
"""

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy

from fangkong.accounts.actors import Viewer
from fangkong.accounts.models import User
from fangkong.accounts.roles import Perm
from fangkong.accounts.selectors import Scope, role_rows_for, scope_for
from fangkong.core.errors import NotFound
from fangkong.core.masking import mask_id_number, mask_phone, name_masked
from fangkong.core.paths import is_within, subtree_q
from fangkong.core.retention import local_midnight
from fangkong.core.text import clean_cell
from fangkong.orgs.models import OrgUnit, UnitKind, place_related
from fangkong.passes.holders import plate_masked
from fangkong.passes.models import Pass
from fangkong.passes.selectors import pass_link_tokens

from .models import (
    RESTRICTED_VERDICTS,
    Checkpoint,
    Direction,
    GateEvent,
    Post,
    RosterSlot,
    Verdict,
    Visitor,
    WatchEntry,
)

NEUTRAL_REFUSAL = gettext_lazy("Entry refused: contact the duty leader.")
GATE_PERMS = (Perm.RECORD_GATE, Perm.OVERRIDE_GATE, Perm.MANAGE_CHECKPOINTS)
SITE_KINDS = (UnitKind.PLANT, UnitKind.COMMUNITY, UnitKind.ENTERPRISE)
# An entry without a matching exit counts as inside for this long (a forgotten scan-out
# must not keep someone "inside" for ever).
INSIDE_FOR = dt.timedelta(hours=24)


def _gate_q(user: Viewer, field: str = "site_path") -> Q | None:
    condition: Q | None = None
    for perm in GATE_PERMS:
        scope = scope_for(user, perm)
        if not scope.is_empty:
            q = scope.q(field)
            condition = q if condition is None else condition | q
    return condition


def _visible(user: Viewer, queryset: QuerySet[Any], field: str = "site_path") -> QuerySet[Any]:
    condition = _gate_q(user, field)
    return queryset.none() if condition is None else queryset.filter(condition)


def _get(queryset: QuerySet[Any], pk: Any) -> Any:
    try:
        return queryset.get(pk=int(pk))
    except (queryset.model.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None


# ------------------------------------------------------------------ checkpoints


def checkpoints_visible(user: Viewer, *, include_inactive: bool = False) -> QuerySet[Checkpoint]:
    rows = _visible(user, Checkpoint.objects.select_related(place_related("site")))
    return rows if include_inactive else rows.filter(is_active=True)


def checkpoint_get(user: Viewer, checkpoint_id: Any) -> Checkpoint:
    return _get(checkpoints_visible(user, include_inactive=True), checkpoint_id)


def visible_checkpoints(user: Viewer, checkpoints: QuerySet[Checkpoint]) -> QuerySet[Checkpoint]:
    """Those of ``checkpoints`` the user may see, in use or not (as ``checkpoint_get``
    finds one), without their sites: a scanner's batch reads its checkpoints at once."""
    return _visible(user, checkpoints)


def checkpoints_for_recording(user: Viewer) -> QuerySet[Checkpoint]:
    """The active checkpoints where the user may record entries."""
    return scope_for(user, Perm.RECORD_GATE).filter(
        Checkpoint.objects.filter(is_active=True).select_related("site"), "site_path"
    )


def sites_managed(user: Viewer) -> QuerySet[OrgUnit]:
    """Plants, communities and enterprises where the user may set up checkpoints."""
    return scope_for(user, Perm.MANAGE_CHECKPOINTS).filter(
        OrgUnit.objects.open_on().filter(kind__in=SITE_KINDS).select_related(place_related()),
        "path",
    )


def site_get(user: Viewer, site_id: Any) -> OrgUnit:
    """A site (unit) whose checkpoints the user may see or set up."""
    condition = _gate_q(user, "path")
    rows = OrgUnit.objects.none() if condition is None else OrgUnit.objects.filter(condition)
    return _get(rows.select_related(place_related()), site_id)


def sites_with_checkpoints(user: Viewer) -> list[OrgUnit]:
    ids = checkpoints_visible(user).values("site_id")
    return list(OrgUnit.objects.filter(pk__in=ids).select_related(place_related()).order_by("path"))


# ------------------------------------------------------------------ the gate's log


def may_see_restricted(user: Viewer, site_path: str) -> bool:
    return scope_for(user, Perm.OVERRIDE_GATE).covers(site_path)


def reason_for(user: Viewer, event: GateEvent) -> str:
    """The reason as this reader may see it: a guard reads a neutral refusal."""
    if event.verdict in RESTRICTED_VERDICTS and not may_see_restricted(user, event.site_path):
        return str(NEUTRAL_REFUSAL)
    return event.reason


def verdict_label(user: Viewer, event: GateEvent) -> str:
    if event.verdict in RESTRICTED_VERDICTS and not may_see_restricted(user, event.site_path):
        return str(NEUTRAL_REFUSAL)
    return str(event.get_verdict_display())


@dataclass
class EventFilter:
    q: str = ""
    checkpoint: Checkpoint | None = None
    site: OrgUnit | None = None
    direction: str = ""
    verdict: str = ""
    refused: bool = False  # not admitted (an overridden refusal counts as admitted)
    admitted: bool = False
    day: dt.date | None = None


def events_search(user: Viewer, filters: EventFilter) -> QuerySet[GateEvent]:
    """The gate's log in scope, newest first, filtered."""
    rows = _visible(
        user,
        GateEvent.objects.select_related(
            "checkpoint", "checkpoint__site", "guard", "person", "visitor", "overridden_by"
        ),
    )
    if filters.checkpoint is not None:
        rows = rows.filter(checkpoint=filters.checkpoint)
    if filters.site is not None:
        rows = rows.filter(subtree_q("site_path", filters.site.path))
    if filters.direction in Direction.values:
        rows = rows.filter(direction=filters.direction)
    if filters.verdict in Verdict.values:
        rows = rows.filter(verdict=filters.verdict)
    if filters.refused:
        rows = rows.filter(admitted=False)
    if filters.admitted:
        rows = rows.filter(admitted=True)
    if filters.day is not None:
        next_day = filters.day + dt.timedelta(days=1)
        rows = rows.filter(at__gte=local_midnight(filters.day), at__lt=local_midnight(next_day))
    query = clean_cell(filters.q)
    if query:
        rows = rows.filter(
            Q(person__name__contains=query)
            | Q(person__id_number=query.upper())
            | Q(visitor__name__contains=query)
            | Q(plate__contains=query.upper())
            | Q(driver__contains=query)
        )
    return rows.order_by("-at", "-id")


def event_get(user: Viewer, event_id: Any) -> GateEvent:
    return _get(events_search(user, EventFilter()), event_id)


def holder_name(event: GateEvent) -> str:
    if event.person is not None:
        return event.person.name
    if event.visitor is not None:
        return event.visitor.name
    return event.driver


def holder_masked(event: GateEvent) -> str:
    """The holder as a pass names them (the scanner's verdict screen): 张*伟, 鲁C·***45."""
    name = holder_name(event)
    if name:
        return name_masked(name)
    return plate_masked(event.plate) if event.plate else ""


def holder_id_number(event: GateEvent) -> str:
    if event.person is not None:
        return event.person.id_number
    if event.visitor is not None:
        return event.visitor.id_number
    return ""


def visit_of_pass(pass_hash: str, site_path: str) -> Visitor | None:
    """The visit at this site that a visitor pass (by its id's hash) was issued for."""
    if not pass_hash:
        return None
    return Visitor.objects.filter(pass_id_hash=pass_hash.lower(), site_path=site_path).first()


def holder_id_as_seen(sensitive: Scope, event: GateEvent) -> str:
    """The holder's ID number, masked unless the viewer may see it where it is kept (the
    person's unit, or for a visitor the site)."""
    path = event.person.unit_path if event.person else event.site_path
    return visitor_numbers_as_seen(sensitive, path, holder_id_number(event))[0]


def visitor_numbers_as_seen(
    sensitive: Scope, path: str, id_number: str, phone: str = ""
) -> tuple[str, str]:
    """Document and phone numbers kept under ``path``, masked unless ``sensitive`` covers it."""
    if sensitive.covers(path):
        return id_number, phone
    return mask_id_number(id_number), mask_phone(phone)


@dataclass
class Inside:
    checkpoint: Checkpoint
    events: list[GateEvent] = field(default_factory=list)


def inside_now(user: Viewer, site: OrgUnit) -> list[Inside]:
    """Who is inside the site now, by the checkpoint they came in through.

    Inside is an admitted entry of the last 24 hours with no later admitted movement of
    the same person, visitor or vehicle at the site's checkpoints.
    """
    since = timezone.now() - INSIDE_FOR
    at_site = _visible(user, GateEvent.objects.filter(site_path=site.path, admitted=True))
    later = GateEvent.objects.filter(
        site_path=site.path,
        admitted=True,
        subject_key=OuterRef("subject_key"),
    ).filter(Q(at__gt=OuterRef("at")) | Q(at=OuterRef("at"), pk__gt=OuterRef("pk")))
    rows = (
        at_site.filter(direction=Direction.IN, at__gte=since)
        .filter(~Exists(later))
        .select_related("checkpoint", "person", "visitor")
        .order_by("checkpoint__code", "at")
    )
    by_checkpoint: dict[int, Inside] = {}
    for event in rows:
        by_checkpoint.setdefault(event.checkpoint_id, Inside(event.checkpoint)).events.append(event)
    return list(by_checkpoint.values())


def has_checkpoints(unit_path: str) -> bool:
    return Checkpoint.objects.filter(subtree_q("site_path", unit_path)).exists()


def may_read_log(user: Viewer, unit_path: str) -> bool:
    return any(scope_for(user, perm).covers(unit_path) for perm in GATE_PERMS)


def gate_figures(unit_path: str, day: dt.date) -> dict[str, Any]:
    """A unit subtree's gate figures for a day: entries, exits, refusals by reason.

    Counts without names, for the roll-up (its caller checks the roll-up permission).
    Entries and exits count admitted movements; refusals count entries refused and not
    overridden.
    """
    rows = GateEvent.objects.filter(
        subtree_q("site_path", unit_path),
        at__gte=local_midnight(day),
        at__lt=local_midnight(day + dt.timedelta(days=1)),
    )
    moved = dict(
        rows.filter(admitted=True).values_list("direction").annotate(n=Count("id")).order_by()
    )
    refused = dict(
        rows.filter(admitted=False).values_list("verdict").annotate(n=Count("id")).order_by()
    )
    return {
        "entries": moved.get(Direction.IN, 0),
        "exits": moved.get(Direction.OUT, 0),
        "refusals": sum(refused.values()),
        "by_reason": [
            (code, str(label), refused[code]) for code, label in Verdict.choices if code in refused
        ],
    }


# ------------------------------------------------------------------ visitors and watch list


def visitors_search(
    user: Viewer, *, q: str = "", day: dt.date | None = None, site: OrgUnit | None = None
) -> QuerySet[Visitor]:
    """Visitors of the sites in scope (the gate's people, and hosts' own registrations)."""
    condition = _gate_q(user)
    mine = Q(host_id=user.pk) if isinstance(user, User) else Q(pk__in=[])
    rows = Visitor.objects.filter(condition | mine if condition is not None else mine)
    rows = rows.select_related(place_related("site"), "host")
    if day is not None:
        rows = rows.filter(day=day)
    if site is not None:
        rows = rows.filter(site=site)
    query = clean_cell(q)
    if query:
        rows = rows.filter(
            Q(name__contains=query) | Q(id_number=query.upper()) | Q(plate__contains=query.upper())
        )
    return rows.order_by("-day", "valid_from", "id")


def visitor_get(user: Viewer, visitor_id: Any) -> Visitor:
    return _get(visitors_search(user), visitor_id)


def may_manage_visit(user: Viewer | None, visitor: Visitor) -> bool:
    """The visit's host, or whoever manages the site's checkpoints (the system too): who
    sees the visitor link and may cancel the visit."""
    if user is None:
        return True
    if isinstance(user, User) and visitor.host_id is not None and visitor.host_id == user.pk:
        return user.is_active
    return scope_for(user, Perm.MANAGE_CHECKPOINTS).covers(visitor.site_path)


def visitor_link_tokens(user: Viewer, visitors: Any) -> dict[int, str]:
    """The visitor-link token of each visit the user may manage (one query for a page)."""
    mine = [v for v in visitors if v.pass_id_hash and may_manage_visit(user, v)]
    tokens = pass_link_tokens(v.pass_id_hash for v in mine)
    return {v.pk: tokens[v.pass_id_hash] for v in mine if v.pass_id_hash in tokens}


def visitor_pass(visitor: Visitor) -> Pass | None:
    """The visit's pass (a pre-registration's), found by its id's hash."""
    if not visitor.pass_id_hash:
        return None
    return Pass.objects.filter(pass_hash=visitor.pass_id_hash).first()


def works_at(actor: Viewer | None, site_path: str) -> bool:
    """Whether the actor holds a role on the site, above it or inside it (a host)."""
    if actor is None:
        return True
    if not isinstance(actor, User) or not actor.is_active:
        return False
    return actor.is_superuser or any(
        is_within(path, site_path) or is_within(site_path, path)
        for _role, path in role_rows_for(actor)
    )


def host_sites(user: Viewer) -> list[OrgUnit]:
    """Sites with checkpoints where the user holds a role (on, above or inside the site):
    where they may host a visitor."""
    ids = Checkpoint.objects.filter(is_active=True).values("site_id")
    sites = OrgUnit.objects.filter(pk__in=ids).select_related(place_related()).order_by("path")
    return [site for site in sites if works_at(user, site.path)]


def watch_entries(user: Viewer) -> QuerySet[WatchEntry]:
    return scope_for(user, Perm.OVERRIDE_GATE).filter(
        WatchEntry.objects.filter(is_active=True).select_related("unit", "created_by"),
        "unit_path",
    )


def watch_entry_get(user: Viewer, entry_id: Any) -> WatchEntry:
    return _get(watch_entries(user), entry_id)


# ------------------------------------------------------------------ posts and rosters


def posts_visible(user: Viewer) -> QuerySet[Post]:
    rows = _visible(user, Post.objects.filter(is_active=True))
    return rows.select_related("checkpoint", "checkpoint__site").prefetch_related("slots__guard")


def post_get(user: Viewer, post_id: Any) -> Post:
    return _get(posts_visible(user), post_id)


def day_index(post: Post, day: dt.date) -> int:
    return (day - post.anchor).days % post.period_days


def guard_on(post: Post, day: dt.date) -> User | None:
    """The guard rostered on the post's shift that starts on ``day``."""
    wanted = day_index(post, day)
    return next((slot.guard for slot in post.slots.all() if slot.day_index == wanted), None)


def shift_start(post: Post, day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, post.starts_at, timezone.get_current_timezone())


@dataclass(frozen=True)
class Shift:
    post: Post
    starts: dt.datetime
    ends: dt.datetime

    @property
    def checkpoint(self) -> Checkpoint:
        return self.post.checkpoint


def shifts_of(user: Viewer, *, days: int = 7, since: dt.datetime | None = None) -> list[Shift]:
    """The user's own shifts ending after ``since`` (default: now, the ones not over), from
    today for ``days`` days."""
    if not isinstance(user, User):
        return []
    posts = (
        Post.objects.filter(is_active=True, slots__guard=user, checkpoint__is_active=True)
        .distinct()
        .select_related("checkpoint", "checkpoint__site")
        .prefetch_related("slots__guard")
    )
    since = since or timezone.now()
    today = timezone.localdate()
    shifts = []
    for offset in range(-1, days):
        day = today + dt.timedelta(days=offset)
        for post in posts:
            if guard_on(post, day) == user:
                starts = shift_start(post, day)
                ends = starts + dt.timedelta(hours=post.hours)
                if ends > since:
                    shifts.append(Shift(post, starts, ends))
    return sorted(shifts, key=lambda shift: (shift.starts, shift.post.pk))


def roster_rows(post: Post) -> list[tuple[int, User | None]]:
    slots = {slot.day_index: slot.guard for slot in post.slots.all()}
    return [(index, slots.get(index)) for index in range(post.period_days)]


def slots_of(post: Post) -> QuerySet[RosterSlot]:
    return post.slots.select_related("guard")
