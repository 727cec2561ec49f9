"""/api/v1/checkpoints endpoints: the scan batch (idempotent by client UUID), the gate's
log, overrides, visitors, rosters and the caller's own shifts. Thin: selectors and
services do the work; every endpoint is scoped by them.
"""

from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from ninja import Router, Status
from ninja.pagination import paginate

from fangkong.accounts.models import User
from fangkong.accounts.roles import Perm
from fangkong.accounts.selectors import require_perm, scope_for
from fangkong.core.errors import NotFound
from fangkong.core.pagination import MappedQuerySet
from fangkong.core.schema import Day, ObjectId, Pages
from fangkong.health.models import OutbreakProfile
from fangkong.passes.verify import Policy as PassPolicy

from . import selectors, services
from .models import Checkpoint, GateEvent, Post, Visitor
from .schemas import (
    CheckpointOut,
    EventOut,
    ManualEntryIn,
    OverrideIn,
    PassScanIn,
    PostOut,
    RosterIn,
    ScanBatchIn,
    ScanBatchOut,
    ShiftOut,
    VisitorCancelIn,
    VisitorIn,
    VisitorOut,
)

router = Router(tags=["checkpoints"])


def checkpoint_out(checkpoint: Checkpoint, policy: PassPolicy, fever: Decimal) -> dict[str, Any]:
    return {
        "id": checkpoint.pk,
        "site_id": checkpoint.site_id,
        "site_name": checkpoint.site.name,
        "code": checkpoint.code,
        "name": checkpoint.name,
        "zones": checkpoint.zones,
        "is_mobile": checkpoint.is_mobile,
        "is_active": checkpoint.is_active,
        "policy": {
            "zones": sorted(policy.zones),
            "admit_statuses": sorted(policy.admit_statuses),
            "refuse_printed": policy.refuse_printed,
            "refuse_without_device_key": policy.refuse_without_device_key,
            "outsiders_banned": policy.outsiders_banned,
            "fever_threshold": fever,
        },
    }


def event_out(user: Any, event: GateEvent) -> dict[str, Any]:
    return {
        "id": event.pk,
        "checkpoint_id": event.checkpoint_id,
        "direction": event.direction,
        "at": event.at,
        "kind": event.kind,
        "source": event.source,
        "name": selectors.holder_name(event),
        "holder_masked": selectors.holder_masked(event),
        "id_number": selectors.holder_id_as_seen(scope_for(user, Perm.VIEW_SENSITIVE), event),
        "plate": event.plate,
        "verdict": event.verdict
        if selectors.may_see_restricted(user, event.site_path) or not event.restricted
        else "refused",
        "verdict_label": selectors.verdict_label(user, event),
        "reason": selectors.reason_for(user, event),
        "admitted": event.admitted,
        "temperature": event.temperature,
        "disinfected": event.disinfected,
        "cargo": event.cargo,
        "overridden": event.overridden_at is not None,
    }


def visitor_out(request: HttpRequest, visitor: Visitor, token: str = "") -> dict[str, Any]:
    """A visit; ``token`` is its visitor link's, for its host or a site admin only."""
    id_number, phone = selectors.visitor_numbers_as_seen(
        scope_for(request.user, Perm.VIEW_SENSITIVE),
        visitor.site_path,
        visitor.id_number,
        visitor.phone,
    )
    link = reverse("passes:link", args=[token]) if token else ""
    return {
        "id": visitor.pk,
        "site_id": visitor.site_id,
        "name": visitor.name,
        "id_number": id_number,
        "phone": phone,
        "plate": visitor.plate,
        "purpose": visitor.purpose,
        "day": visitor.day,
        "valid_from": visitor.valid_from,
        "valid_until": visitor.valid_until,
        "source": visitor.source,
        "pass_issued": bool(visitor.pass_id_hash),
        "link_url": request.build_absolute_uri(link) if link else "",
        "cancelled": visitor.cancelled_at is not None,
    }


def post_out(post: Post) -> dict[str, Any]:
    return {
        "id": post.pk,
        "checkpoint_id": post.checkpoint_id,
        "name": post.name,
        "starts_at": post.starts_at,
        "hours": post.hours,
        "period_days": post.period_days,
        "anchor": post.anchor,
        "today_index": selectors.day_index(post, timezone.localdate()),
        "slots": [
            {"day_index": slot.day_index, "guard_id": slot.guard_id, "guard_name": str(slot.guard)}
            for slot in post.slots.all()
        ],
    }


# ------------------------------------------------------------------ checkpoints and scans


@router.get("/checkpoints", response=list[CheckpointOut])
def list_checkpoints(request: HttpRequest) -> Any:
    """The checkpoints the caller may see (guards: those of their units), each with what a
    pass must show there (``policy``: what an offline scanner checks)."""
    checkpoints = list(selectors.checkpoints_visible(request.user))
    policies = services.gate_policies(checkpoints)
    fever = OutbreakProfile.current().fever_threshold
    return [checkpoint_out(c, policies[c.pk], fever) for c in checkpoints]


def scan_answer(user: Any, answer: services.ScanAnswer) -> dict[str, Any]:
    """One scan's result: a guard reads a restricted refusal (the watch list) as neutral."""
    if answer.error is not None:
        exc = answer.error
        return {
            "client_uuid": answer.client_uuid,
            "status": "rejected",
            "error": {"code": exc.code, "message": exc.as_text(), "detail": exc.detail},
        }
    event = answer.event
    assert event is not None
    return {
        "client_uuid": answer.client_uuid,
        "status": "created" if answer.created else "duplicate",
        "id": event.pk,
        "admitted": event.admitted,
        "verdict": event.verdict
        if not event.restricted or selectors.may_see_restricted(user, event.site_path)
        else "refused",
        "reason": selectors.reason_for(user, event),
    }


@router.post("/checkpoints/scans", response=ScanBatchOut)
def record_scans(request: HttpRequest, payload: ScanBatchIn) -> Any:
    """Store a batch of scans, each exactly once by its client UUID.

    Each scan is answered on its own: ``created``, ``duplicate`` (sent before with the same
    content: nothing is stored twice) or ``rejected`` with the error body (out of scope,
    invalid, a UUID reused for other content). A scanner drops a scan from its queue once
    it is answered ``created`` or ``duplicate``; ``rejected`` will never be accepted.
    """
    answers = services.scans_record(request.user, payload.scans)
    return {"results": [scan_answer(request.user, answer) for answer in answers]}


@router.post("/checkpoints/pass-scans", response={200: EventOut, 201: EventOut})
def scan_pass(request: HttpRequest, payload: PassScanIn) -> Any:
    """Check a scanned pass online at a checkpoint and record the scan (the guard's phone
    when it has a network): the verifier's verdict with the holder's live status, then the
    site's rules. 201 with the recorded entry; 200 for a client UUID sent before."""
    checkpoint = selectors.checkpoint_get(request.user, payload.checkpoint_id)
    event, created = services.pass_scan(
        request.user,
        checkpoint=checkpoint,
        code=payload.code,
        direction=payload.direction,
        temperature=payload.temperature,
        plate=payload.plate,
        disinfected=payload.disinfected,
        cargo=payload.cargo,
        client_uuid=payload.client_uuid,
    )
    return Status(201 if created else 200, event_out(request.user, event))


@router.post("/checkpoints/manual-entries", response={200: EventOut, 201: EventOut})
def manual_entry(request: HttpRequest, payload: ManualEntryIn) -> Any:
    """An entry typed at the gate by ID number (a person, or a visitor registered for today)
    or plate, checked against today's status and recorded. 201 with the entry; 200 for a
    client UUID sent before."""
    checkpoint = selectors.checkpoint_get(request.user, payload.checkpoint_id)
    event, created = services.manual_entry(
        request.user,
        checkpoint=checkpoint,
        direction=payload.direction,
        id_number=payload.id_number,
        plate=payload.plate,
        driver=payload.driver,
        temperature=payload.temperature,
        disinfected=payload.disinfected,
        cargo=payload.cargo,
        client_uuid=payload.client_uuid,
    )
    return Status(201 if created else 200, event_out(request.user, event))


@router.get("/checkpoints/events", response=list[EventOut])
@paginate(Pages, page_size=100)
def list_events(
    request: HttpRequest,
    checkpoint_id: ObjectId | None = None,
    day: Day | None = None,
    refused: bool = False,
    q: str = "",
) -> Any:
    """The gate's log in scope, newest first."""
    require_perm(request.user, Perm.VIEW_UNITS)
    checkpoint = selectors.checkpoint_get(request.user, checkpoint_id) if checkpoint_id else None
    rows = selectors.events_search(
        request.user, selectors.EventFilter(q=q, checkpoint=checkpoint, day=day, refused=refused)
    )
    return MappedQuerySet(rows, lambda event: event_out(request.user, event))


@router.post("/checkpoints/events/{event_id}/override", response=EventOut)
def override_refusal(request: HttpRequest, event_id: ObjectId, payload: OverrideIn) -> Any:
    """A supervisor admits a refused entry with a reason (audited)."""
    event = selectors.event_get(request.user, event_id)
    event = services.refusal_override(actor=request.user, event=event, reason=payload.reason)
    return event_out(request.user, selectors.event_get(request.user, event.pk))


# ------------------------------------------------------------------ visitors


@router.get("/checkpoints/visitors", response=list[VisitorOut])
@paginate(Pages, page_size=100)
def list_visitors(request: HttpRequest, day: Day | None = None, q: str = "") -> Any:
    return VisitorPage(request, selectors.visitors_search(request.user, q=q, day=day))


class VisitorPage(MappedQuerySet):
    """Visitors as the API answers them; a page's visitor links are read in one query."""

    def __init__(self, request: HttpRequest, queryset: Any) -> None:
        super().__init__(queryset, lambda visitor: visitor)
        self.request = request

    def __getitem__(self, window: slice) -> list[Any]:
        visitors = list(self.queryset[window])
        tokens = selectors.visitor_link_tokens(self.request.user, visitors)
        return [visitor_out(self.request, v, tokens.get(v.pk, "")) for v in visitors]


def _visitor_with_link(request: HttpRequest, visitor: Visitor) -> dict[str, Any]:
    token = selectors.visitor_link_tokens(request.user, [visitor]).get(visitor.pk, "")
    return visitor_out(request, visitor, token)


@router.post("/checkpoints/visitors", response={201: VisitorOut})
def register_visitor(request: HttpRequest, payload: VisitorIn) -> Any:
    """Pre-register a visitor (a host with a role at the site) or a walk-in (a guard).

    A pre-registration issues the visitor's one-day pass; the answer's ``link_url`` is
    its visitor link, to send to the visitor (fangkong sends no text messages)."""
    site = selectors.site_get(request.user, payload.site_id) if payload.walk_in else None
    if site is None:
        site = next(
            (s for s in selectors.host_sites(request.user) if s.pk == payload.site_id), None
        )
    if site is None:
        raise NotFound()
    visitor = services.visitor_register(
        actor=request.user,
        site=site,
        name=payload.name,
        id_number=payload.id_number,
        purpose=payload.purpose,
        day=payload.day,
        phone=payload.phone,
        plate=payload.plate,
        start=payload.start,
        end=payload.end,
        walk_in=payload.walk_in,
    )
    return Status(201, _visitor_with_link(request, visitor))


@router.post("/checkpoints/visitors/{visitor_id}/cancel", response=VisitorOut)
def cancel_visitor(
    request: HttpRequest, visitor_id: ObjectId, payload: VisitorCancelIn | None = None
) -> Any:
    """Cancel a visit (its host or a site admin), as the visit's page does: the visit is
    marked cancelled (audited) and its pass revoked with the reason, so its link shows the
    visit cancelled and every gate refuses the pass. A visit cancelled before is answered
    as it stands; one that is over answers 409."""
    visitor = selectors.visitor_get(request.user, visitor_id)
    visitor = services.visitor_cancel(
        actor=request.user, visitor=visitor, reason=payload.reason if payload else ""
    )
    return _visitor_with_link(request, visitor)


# ------------------------------------------------------------------ rosters


@router.get("/checkpoints/rosters", response=list[PostOut])
def list_rosters(request: HttpRequest) -> Any:
    """Duty posts in scope with who stands each day of the rotation."""
    return [post_out(post) for post in selectors.posts_visible(request.user)]


@router.put("/checkpoints/posts/{post_id}/roster", response=PostOut)
def set_roster(request: HttpRequest, post_id: ObjectId, payload: RosterIn) -> Any:
    post = selectors.post_get(request.user, post_id)
    users = User.objects.in_bulk([s.guard_id for s in payload.slots if s.guard_id])
    assignments = {}
    for slot in payload.slots:
        if slot.guard_id is not None and slot.guard_id not in users:
            raise NotFound(detail={"guard_id": [str(NotFound.default_message)]})
        assignments[slot.day_index] = users.get(slot.guard_id) if slot.guard_id else None
    services.roster_set(actor=request.user, post=post, assignments=assignments)
    return post_out(selectors.post_get(request.user, post.pk))


@router.get("/checkpoints/my-shifts", response=list[ShiftOut])
def my_shifts(request: HttpRequest) -> Any:
    """The caller's own shifts from now for a week (the scanner shows today's post)."""
    return [
        {
            "post_id": shift.post.pk,
            "post_name": shift.post.name,
            "checkpoint_id": shift.checkpoint.pk,
            "checkpoint_name": shift.checkpoint.name,
            "site_name": shift.checkpoint.site.name,
            "starts": shift.starts,
            "ends": shift.ends,
        }
        for shift in selectors.shifts_of(request.user)
    ]
