"""/api/v1/evaluation endpoints: catalogue, cases, ratings' figures, bad reviews."""

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status
from ninja.pagination import paginate

from fangkong.accounts.actors import viewer_id
from fangkong.accounts.roles import Perm
from fangkong.accounts.selectors import require_perm, scope_for
from fangkong.core.errors import InvalidInput, NotFound
from fangkong.core.masking import mask_phone, name_masked
from fangkong.core.pagination import MappedQuerySet
from fangkong.core.retention import local_midnight
from fangkong.core.schema import Day, ObjectId, Pages
from fangkong.orgs.selectors import unit_get

from . import selectors as _selectors
from . import services as _services
from .ledger_kind import BAD_REVIEW
from .models import BadReview, Case, Channel, Level, Offering, Outcome, Service, Window

router = Router(tags=["evaluation"])


# ------------------------------------------------------------------ back office


class ServiceOut(Schema):
    id: int
    code: str
    name: str
    category: str


class CaseIn(Schema):
    service_id: ObjectId
    unit_id: ObjectId | None = Field(None, description="Needed unless the caller staffs a window")
    window_id: ObjectId | None = None
    channel: str = Field(Channel.KIOSK, max_length=8)
    person_name: str = Field("", max_length=64)
    person_phone: str = Field("", max_length=20)


class CaseOut(Schema):
    id: int
    service_id: int
    service_name: str
    unit_id: int
    window_id: int | None
    channel: str
    person_name: str = Field(description="Masked")
    person_phone: str = Field(description="Masked")
    created_at: dt.datetime
    rated: bool
    rating_url: str = Field(description="The one-time rating link (show it as a QR code)")


class CallbackIn(Schema):
    how: str = Field(max_length=8, description="phone or visit")
    reached: bool
    said: str = Field("", max_length=500)


class CallbackOut(Schema):
    id: int
    at: dt.datetime
    how: str
    reached: bool
    said: str
    caller: str


class OutcomeIn(Schema):
    outcome: str = Field(max_length=12, description="fixed, rectify, explained or appeal")
    text: str = Field(max_length=500)
    reply: str = Field("", max_length=500)


class AppealIn(Schema):
    upheld: bool
    note: str = Field(max_length=500)


class BadReviewOut(Schema):
    id: int
    item_id: int | None
    state: str
    is_open: bool
    is_overdue: bool
    unit_id: int
    unit_name: str
    window: str
    staff_name: str = Field(description="Full to whoever manages the unit, else masked")
    service_id: int
    service_name: str
    level: int
    level_label: str
    tags: list[str]
    text: str
    rated_at: dt.datetime
    excluded: bool
    callback_due_at: dt.datetime
    rectify_due_at: dt.datetime
    outcome: str
    outcome_text: str
    reply: str
    problem_id: int | None
    appeal_upheld: bool | None
    follow_up_level: int | None
    follow_up_url: str = Field(description="The 追评 link while it waits for the person")


class BadReviewDetailOut(BadReviewOut):
    callbacks: list[CallbackOut]


def _service_out(service: Service) -> dict[str, Any]:
    return {
        "id": service.pk,
        "code": service.code,
        "name": service.name,
        "category": service.category,
    }


@router.get("/evaluation/services", response=list[ServiceOut])
def list_services(request: HttpRequest, unit_id: ObjectId) -> Any:
    """The active services offered at a centre or station (or the centre above it), to
    register a case for."""
    unit = unit_get(request.user, unit_id)
    require_perm(request.user, Perm.REGISTER_CASES, unit.path)
    from fangkong.core.paths import ancestor_paths

    offered = Offering.objects.filter(unit__path__in=ancestor_paths(unit.path)).values("service")
    rows = Service.objects.filter(is_active=True, pk__in=offered).order_by("category", "code")
    return [_service_out(s) for s in rows]


def _case_out(request: HttpRequest, case: Case) -> dict[str, Any]:
    return {
        "id": case.pk,
        "service_id": case.service_id,
        "service_name": case.service.name,
        "unit_id": case.unit_id,
        "window_id": case.window_id,
        "channel": case.channel,
        "person_name": name_masked(case.person_name),
        "person_phone": mask_phone(case.person_phone) if case.person_phone else "",
        "created_at": case.created_at,
        "rated": hasattr(case, "rating"),
        "rating_url": request.build_absolute_uri(_selectors.case_path(case)),
    }


@router.post("/evaluation/cases", response={201: CaseOut})
def register_case(request: HttpRequest, payload: CaseIn) -> Any:
    """Register a case (办件): window staff at their own window; others name the unit."""
    service = Service.objects.filter(pk=payload.service_id).first()
    if service is None:
        message = _not_offered()
        raise InvalidInput(message, detail={"service_id": [message]})
    unit = unit_get(request.user, payload.unit_id) if payload.unit_id else None
    window = None
    if payload.window_id:
        window = (
            scope_for(request.user, Perm.REGISTER_CASES)
            .filter(Window.objects.filter(pk=payload.window_id), "unit_path")
            .first()
        )
        if window is None:
            raise NotFound()
    case = _services.case_register(
        actor=request.user,
        service=service,
        unit=unit,
        window=window,
        channel=payload.channel,
        person_name=payload.person_name,
        person_phone=payload.person_phone,
    )
    return Status(201, _case_out(request, Case.objects.select_related("service").get(pk=case.pk)))


def _not_offered() -> str:
    from django.utils.translation import gettext

    return gettext("This service is not offered here.")


@router.get("/evaluation/cases", response=list[CaseOut])
@paginate(Pages, page_size=100)
def list_my_cases(
    request: HttpRequest, unit_id: ObjectId | None = None, day: Day | None = None
) -> Any:
    """The cases the caller registered, newest first (one unit, one day if given)."""
    rows = Case.objects.filter(created_by_id=viewer_id(request.user)).select_related(
        "service", "rating"
    )
    if unit_id is not None:  # the unit first: one outside the caller's units is a 404
        unit = unit_get(request.user, unit_id)
        require_perm(request.user, Perm.REGISTER_CASES, unit.path)
        rows = rows.filter(unit=unit)
    else:
        require_perm(request.user, Perm.REGISTER_CASES)
    if day is not None:
        rows = rows.filter(
            created_at__gte=local_midnight(day),
            created_at__lt=local_midnight(day + dt.timedelta(days=1)),
        )
    return MappedQuerySet(rows.order_by("-created_at", "-pk"), lambda c: _case_out(request, c))


_STATES = [(state.key, state.label) for state in BAD_REVIEW.states]


def _bad_review_out(request: HttpRequest, bad: BadReview) -> dict[str, Any]:
    rating, item = bad.rating, bad.item
    follow_up = ""
    if bad.follow_up_sent_at and bad.follow_up_at is None and item is not None and item.is_open:
        follow_up = request.build_absolute_uri(_selectors.follow_up_path(bad))
    return {
        "id": bad.pk,
        "item_id": bad.item_id,
        "state": item.state if item else "",
        "is_open": bool(item and item.is_open),
        "is_overdue": bool(item and item.is_open and item.is_overdue),
        "unit_id": rating.case.unit_id,
        "unit_name": rating.case.unit.name,
        "window": str(rating.window or ""),
        "staff_name": _selectors.staff_name_as_seen(request.user, rating.staff, rating.unit_path),
        "service_id": rating.service_id,
        "service_name": rating.service.name,
        "level": rating.level,
        "level_label": str(Level(rating.level).label),
        "tags": list(rating.tags),
        "text": rating.text,
        "rated_at": rating.rated_at,
        "excluded": rating.excluded,
        "callback_due_at": bad.callback_due_at,
        "rectify_due_at": bad.rectify_due_at,
        "outcome": bad.outcome,
        "outcome_text": bad.outcome_text,
        "reply": bad.reply,
        "problem_id": bad.problem_id,
        "appeal_upheld": bad.appeal_upheld,
        "follow_up_level": bad.follow_up_level,
        "follow_up_url": follow_up,
    }


def _detail(request: HttpRequest, bad: BadReview) -> dict[str, Any]:
    callbacks = [
        {
            "id": c.pk,
            "at": c.at,
            "how": c.how,
            "reached": c.reached,
            "said": c.said,
            "caller": str(c.caller or ""),
        }
        for c in bad.callbacks.select_related("caller")
    ]
    return {**_bad_review_out(request, bad), "callbacks": callbacks}


@router.get("/evaluation/bad-reviews", response=list[BadReviewOut])
@paginate(Pages, page_size=100)
def list_bad_reviews(
    request: HttpRequest,
    unit_id: ObjectId | None = None,
    state: str = "",
    overdue: bool = False,
    since: Day | None = None,
    until: Day | None = None,
) -> Any:
    """Bad reviews in the caller's scope, newest first; ``state`` is a state of the kind or
    ``open``; ``since``/``until`` are days of the rating (both included)."""
    if state and state != "open" and state not in {key for key, _label in _STATES}:
        from django.utils.translation import gettext

        message = gettext("Choose a state from the list.")
        raise InvalidInput(message, detail={"state": [message]})
    filters = _selectors.ReviewFilter(state=state, overdue=overdue)
    if unit_id is not None:
        filters.unit = unit_get(request.user, unit_id)
        require_perm(request.user, Perm.VIEW_EVALUATION, filters.unit.path)
    filters.since = local_midnight(since) if since else None
    filters.until = local_midnight(until + dt.timedelta(days=1)) if until else None
    rows = _selectors.bad_reviews_search(request.user, filters)
    return MappedQuerySet(rows, lambda bad: _bad_review_out(request, bad))


@router.get("/evaluation/bad-reviews/{bad_review_id}", response=BadReviewDetailOut)
def get_bad_review(request: HttpRequest, bad_review_id: ObjectId) -> Any:
    return _detail(request, _selectors.bad_review_get(request.user, bad_review_id))


@router.post(
    "/evaluation/bad-reviews/{bad_review_id}/callbacks", response={201: BadReviewDetailOut}
)
def record_callback(request: HttpRequest, bad_review_id: ObjectId, payload: CallbackIn) -> Any:
    """Record a callback (回访); once the person is reached the outcome can be set."""
    bad = _selectors.bad_review_get(request.user, bad_review_id)
    _services.callback_record(
        actor=request.user,
        bad_review=bad,
        how=payload.how,
        reached=payload.reached,
        said=payload.said,
    )
    return Status(201, _detail(request, _selectors.bad_review_get(request.user, bad_review_id)))


@router.post("/evaluation/bad-reviews/{bad_review_id}/outcome", response=BadReviewDetailOut)
def set_outcome(request: HttpRequest, bad_review_id: ObjectId, payload: OutcomeIn) -> Any:
    """Fixed at once, rectify by the deadline (opens a rectification problem), explained,
    or appeal."""
    bad = _selectors.bad_review_get(request.user, bad_review_id)
    if payload.outcome not in Outcome.values:
        from django.utils.translation import gettext

        message = gettext("Choose an outcome from the list.")
        raise InvalidInput(message, detail={"outcome": [message]})
    _services.outcome_set(
        actor=request.user,
        bad_review=bad,
        outcome=payload.outcome,
        text=payload.text,
        reply=payload.reply,
    )
    return _detail(request, _selectors.bad_review_get(request.user, bad_review_id))


@router.post("/evaluation/bad-reviews/{bad_review_id}/appeal", response=BadReviewDetailOut)
def decide_appeal(request: HttpRequest, bad_review_id: ObjectId, payload: AppealIn) -> Any:
    """Decide an appeal: by a reviewer other than the head and the filer."""
    bad = _selectors.bad_review_get(request.user, bad_review_id)
    _services.appeal_decide(
        actor=request.user, bad_review=bad, upheld=payload.upheld, note=payload.note
    )
    return _detail(request, _selectors.bad_review_get(request.user, bad_review_id))
