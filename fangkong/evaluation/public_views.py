"""The citizen's pages, no log-in: the rating page, the badge scan, the window's tablet
(kiosk) and the follow-up review (追评).

The signed token in the URL is the credential, so the forms are ``csrf_exempt`` as the
personal declaration link's are, and the paths are lean (no session). Every page works
as a plain form without JavaScript; ``static/js/rate.js`` and ``kiosk.js`` only make it
smoother.

Abuse limits (``core.throttle``): every POST counts once per client address and once
per device (a random cookie this page sets); a token that opens nothing counts per
address. One rating per case is the service's rule; a rating needs a case, and a case
made from a scan needs a valid badge code.
"""

import datetime as dt
import uuid
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods
from PIL import Image, UnidentifiedImageError

from fangkong.core import throttle
from fangkong.core.errors import ApplicationError, Conflict, InvalidInput, NotFound
from fangkong.core.masking import name_masked
from fangkong.core.paths import ancestor_paths
from fangkong.core.web import kept_private, throttled

from . import services
from .ledger_kind import AWAITING_REVIEW
from .models import Badge, BadReview, Case, Channel, Level, Offering, Rating, Service

DEVICE_COOKIE = "fk_device"
DEVICE_COOKIE_DAYS = 400  # the longest a browser keeps a cookie
MAX_PHOTO_BYTES = 5 * 1024 * 1024
PHOTO_FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp", "GIF": "gif"}
KIOSK_MINUTES = 15  # a case registered longer ago no longer shows on the window's tablet
KIOSK_POLL_SECONDS = 3
SEARCH_FROM = 9  # with more services than this the scan page offers a search
MESSAGE_PAGE = "evaluation/rate_message.html"
# Per client address, per device, and for tokens that open nothing (per address).
# settings.THROTTLE_LIMITS overrides each by name, as for core.throttle's own limits.
LIMITS = {
    "rating_ip": throttle.Limit(60, 60),
    "rating_device": throttle.Limit(10, 60),
    "rating_token_ip": throttle.Limit(100, 60),
}
LEVELS = [Level(value) for value in sorted(Level.values, reverse=True)]


def _limit(name: str) -> throttle.Limit:
    return throttle.limit_for(name, LIMITS[name])


# ------------------------------------------------------------------ device and limits


def _device(request: HttpRequest) -> str:
    """The device's random id from its cookie, or a new one (set on the answer)."""
    raw = request.COOKIES.get(DEVICE_COOKIE, "")
    try:
        return uuid.UUID(raw).hex
    except ValueError:
        new = getattr(request, "_fk_new_device", None)
        if new is None:
            new = uuid.uuid4().hex
            request._fk_new_device = new  # type: ignore[attr-defined]
        return str(new)


def _with_device(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    """The answer, with the device cookie set if the browser had none."""
    _device(request)
    new = getattr(request, "_fk_new_device", None)
    if new is not None:
        response.set_cookie(
            DEVICE_COOKIE,
            new,
            max_age=DEVICE_COOKIE_DAYS * 86400,
            httponly=True,
            samesite="Lax",
            secure=request.is_secure(),
        )
    return kept_private(response)


def _post_wait(request: HttpRequest) -> int:
    """Count one POST per address and per device; the seconds to wait, or 0."""
    waits = [
        throttle.hit_address("rating_ip", request, _limit("rating_ip")),
        throttle.hit("rating_device", _device(request), _limit("rating_device")),
    ]
    return max(waits)


def _too_many(request: HttpRequest, wait: int) -> HttpResponse:
    return _with_device(request, throttled(request, wait, page=MESSAGE_PAGE))


def _refused(request: HttpRequest, *, badge: bool = False) -> HttpResponse:
    """A token that opens nothing (forged, revoked, unknown): counted per address."""
    wait = throttle.hit_address("rating_token_ip", request, _limit("rating_token_ip"))
    if wait:
        return _too_many(request, wait)
    if badge:
        title = _("This QR code is no longer valid")
        text = _(
            "The code may have been replaced or withdrawn. Please ask the staff at the "
            "window for the current code."
        )
    else:
        title = _("This link does not work")
        text = _("The link is wrong or incomplete. Please scan the QR code again.")
    context = {"title": title, "text": text, "state": "invalid"}
    return _with_device(request, render(request, MESSAGE_PAGE, context, status=404))


# ------------------------------------------------------------------ the rating page


def _window_label(window: Any) -> str:
    """ "3号窗口 综合受理窗口", as the pages' templates write it."""
    if window is None:
        return ""
    return f"{_('Window %(number)s') % {'number': window.number}} {window.name}".strip()


def _case_context(case: Case) -> dict[str, Any]:
    return {
        "service": case.service.name,
        "unit": case.unit.name,
        "window": case.window,
        "staff": name_masked(case.staff.name) if case.staff else "",
    }


def _photo(upload: UploadedFile | None) -> UploadedFile | None:
    """An image of at most 5 MB (JPEG, PNG, WebP or GIF), else the field's error."""
    if upload is None or not upload.name:
        return None
    if upload.size is not None and upload.size > MAX_PHOTO_BYTES:
        raise InvalidInput.at("photo", _("The photo is larger than 5 MB; choose a smaller one."))
    try:
        with Image.open(upload) as image:
            kind = image.format or ""
            image.verify()
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        raise InvalidInput.at(
            "photo", _("This file is not a photo; choose a JPEG or PNG image.")
        ) from None
    if kind not in PHOTO_FORMATS:
        raise InvalidInput.at("photo", _("This file is not a photo; choose a JPEG or PNG image."))
    upload.seek(0)
    upload.name = f"{uuid.uuid4().hex}.{PHOTO_FORMATS[kind]}"  # not the phone's file name
    return upload


def _level(raw: Any) -> int:
    try:
        level = int(str(raw))
    except ValueError:
        raise InvalidInput.at("level", _("Choose one of the five levels.")) from None
    if level not in Level.values:
        raise InvalidInput.at("level", _("Choose one of the five levels."))
    return level


def _new_rating(request: HttpRequest) -> services.NewRating:
    level = _level(request.POST.get("level", ""))
    return services.NewRating(
        level=level,
        tags=request.POST.getlist(f"tags_{level}"),
        text=request.POST.get("text", ""),
        photo=_photo(request.FILES.get("photo")),
        device=_device(request),
    )


def _tag_groups() -> list[dict[str, Any]]:
    tag_set = services.current_tag_set()
    return [
        {"level": level, "label": level.label, "tags": services.tags_for(tag_set, level)}
        for level in LEVELS
    ]


def _rated_page(request: HttpRequest, case: Case, rating: Rating) -> HttpResponse:
    """A rated case: the thank-you for the device that rated it, else "already rated"."""
    mine = bool(rating.device) and rating.device == _device(request)
    context = {
        **_case_context(case),
        "title": _("Thank you for your rating") if mine else _("Already rated"),
        "text": (
            _("Your rating has been received.")
            if mine
            else _("This service has already been rated. Thank you.")
        ),
        "level": Level(rating.level).label if mine else "",
        "is_bad": mine and rating.is_bad,
        "state": "thanks" if mine else "already",
    }
    return _with_device(request, render(request, MESSAGE_PAGE, context))


def _rate_form(
    request: HttpRequest, case: Case, *, error: ApplicationError | None = None, status: int = 200
) -> HttpResponse:
    errors = error.detail if error is not None and isinstance(error.detail, dict) else {}
    posted = request.POST if request.method == "POST" else request.GET
    try:
        chosen = _level(posted.get("level", ""))
    except InvalidInput:
        chosen = 0
    context = {
        **_case_context(case),
        "levels": LEVELS,
        "groups": _tag_groups(),
        "chosen": chosen,
        "chosen_tags": posted.getlist(f"tags_{chosen}") if chosen else [],
        "text": posted.get("text", "") if error is not None else "",
        "errors": errors,
        "error_text": error.as_text() if error is not None else "",
        "max_photo_bytes": MAX_PHOTO_BYTES,
        "action": request.path,
    }
    return _with_device(request, render(request, "evaluation/rate.html", context, status=status))


@csrf_exempt  # The token in the URL is the credential; no cookie grants anything here.
@require_http_methods(["GET", "POST"])
def rate(request: HttpRequest, token: str) -> HttpResponse:
    """The rating page of one case: five large choices, the tags of the chosen level, an
    optional comment and photo. Once rated it offers nothing more."""
    try:
        case = services.case_from_token(token)
    except NotFound:
        return _refused(request)
    rating = Rating.objects.filter(case=case).first()
    if rating is not None:
        return _rated_page(request, case, rating)
    if request.method == "GET":
        return _rate_form(request, case)
    wait = _post_wait(request)
    if wait:
        return _too_many(request, wait)
    try:
        services.rate(case=case, new=_new_rating(request))
    except Conflict:  # rated a moment ago, by this tap's twin or by someone else
        rating = Rating.objects.get(case=case)
        return _rated_page(request, case, rating)
    except ApplicationError as exc:
        return _rate_form(request, case, error=exc, status=exc.status)
    return _with_device(request, redirect(request.path))


# ------------------------------------------------------------------ the badge scan


def offered_services(unit_path: str) -> list[Service]:
    """The active services offered at a unit or a centre above it, by category and code."""
    ids = Offering.objects.filter(unit_path__in=ancestor_paths(unit_path)).values("service_id")
    return list(Service.objects.filter(pk__in=ids, is_active=True).order_by("category", "code"))


@csrf_exempt  # The token in the URL is the credential; no cookie grants anything here.
@require_http_methods(["GET", "POST"])
def scan(request: HttpRequest, token: str) -> HttpResponse:
    """A badge scanned: "which service was just done?", then a face-to-face case and its
    rating page. The hidden request id makes a retried tap land on the same case."""
    try:
        badge = services.badge_from_token(token)
    except NotFound:
        return _refused(request, badge=True)
    error: ApplicationError | None = None
    if request.method == "POST":
        wait = _post_wait(request)
        if wait:
            return _too_many(request, wait)
        try:
            case = _case_from_scan(request, badge)
        except ApplicationError as exc:
            error = exc
        else:
            target = reverse("evaluation_public:rate", args=[services.case_token(case)])
            return _with_device(request, redirect(target))
    return _scan_page(request, badge, error)


def _case_from_scan(request: HttpRequest, badge: Badge) -> Case:
    try:
        request_id = uuid.UUID(request.POST.get("request_id", ""))
    except ValueError:
        raise InvalidInput.at(
            "service", _("The form was incomplete; choose the service again.")
        ) from None
    service = Service.objects.filter(pk=_service_id(request.POST.get("service"))).first()
    if service is None:
        raise InvalidInput.at("service", _("Choose the service from the list."))
    return services.case_from_badge(badge=badge, service=service, request_id=request_id)


def _service_id(raw: Any) -> int:
    try:
        return int(str(raw))
    except ValueError:
        return 0


def _scan_page(
    request: HttpRequest, badge: Badge, error: ApplicationError | None = None
) -> HttpResponse:
    offered = offered_services(badge.unit_path)
    query = request.GET.get("q", "").strip()[:50]
    shown = [s for s in offered if query in s.name or query in s.category] if query else offered
    context = {
        "unit": badge.unit.name,
        "window": badge.window,
        "staff": name_masked(badge.staff.name) if badge.staff else "",
        "services": shown,
        "offered_count": len(offered),
        "searchable": len(offered) > SEARCH_FROM,
        "query": query,
        "request_id": request.POST.get("request_id") or str(uuid.uuid4()),
        "error_text": error.as_text() if error is not None else "",
    }
    status = error.status if error is not None else 200
    return _with_device(request, render(request, "evaluation/scan.html", context, status=status))


# ------------------------------------------------------------------ the window's tablet


def _kiosk_badge(token: str) -> Badge:
    badge = services.badge_from_token(token)
    if badge.holder != Badge.Holder.WINDOW or badge.window is None:
        raise NotFound()
    return badge


def kiosk_case(badge: Badge, now: dt.datetime | None = None) -> Case | None:
    """The newest unrated case registered at the badge's window in the last minutes."""
    now = now or timezone.now()
    since = now - dt.timedelta(minutes=KIOSK_MINUTES)
    return (
        Case.objects.select_related("service", "unit", "window", "staff")
        .filter(window=badge.window, created_at__gte=since, rating__isnull=True)
        .filter(channel=Channel.KIOSK)
        .order_by("-created_at", "-pk")
        .first()
    )


@csrf_exempt  # The token in the URL is the credential; no cookie grants anything here.
@require_http_methods(["GET", "POST"])
def kiosk(request: HttpRequest, token: str) -> HttpResponse:
    """The window's tablet: waits for the case staff just registered, shows the five
    choices, thanks the person and waits again. Without JavaScript it refreshes itself."""
    try:
        badge = _kiosk_badge(token)
    except NotFound:
        return _refused(request, badge=True)
    state, rated_level = "waiting", None
    if request.method == "POST":
        wait = _post_wait(request)
        if wait:
            return _too_many(request, wait)
        state, rated_level = _kiosk_rate(request, badge)
    case = kiosk_case(badge) if state == "waiting" else None
    context = {
        "unit": badge.unit.name,
        "window": badge.window,
        "case": case,
        "case_token": services.case_token(case) if case else "",
        "case_info": _case_context(case) if case else {},
        "levels": LEVELS,
        "state": "case" if case else state,
        "rated_level": rated_level,
        "poll_url": reverse("evaluation_public:kiosk_next", args=[token]),
        "poll_seconds": KIOSK_POLL_SECONDS,
        "action": request.path,
    }
    return _with_device(request, render(request, "evaluation/kiosk.html", context))


def _kiosk_rate(request: HttpRequest, badge: Badge) -> tuple[str, str | None]:
    try:
        case = services.case_from_token(request.POST.get("case", ""))
        if case.window_id != badge.window_id:
            raise NotFound()
        level = _level(request.POST.get("level", ""))
        services.rate(case=case, new=services.NewRating(level=level, device=_device(request)))
    except (Conflict, NotFound, InvalidInput):
        return "waiting", None  # rated elsewhere, or a stale screen: wait for the next
    return "thanks", str(Level(level).label)


@require_GET
def kiosk_next(request: HttpRequest, token: str) -> HttpResponse:
    """What the tablet polls: the case waiting for a rating at its window, or none."""
    try:
        badge = _kiosk_badge(token)
    except NotFound:
        throttle.hit_address("rating_token_ip", request, _limit("rating_token_ip"))
        return kept_private(
            JsonResponse({"code": "not_found", "message": _("Not found.")}, status=404)
        )
    case = kiosk_case(badge)
    body: dict[str, Any] = {"case": None}
    if case is not None:
        info = _case_context(case)
        served = _("Served by %(staff)s") % {"staff": info["staff"]} if info["staff"] else ""
        body["case"] = {
            "token": services.case_token(case),
            **info,
            "window": _window_label(case.window),
            "staff": served,
        }
    return kept_private(JsonResponse(body))


# ------------------------------------------------------------------ the follow-up review


@csrf_exempt  # The token in the URL is the credential; no cookie grants anything here.
@require_http_methods(["GET", "POST"])
def follow_up(request: HttpRequest, token: str) -> HttpResponse:
    """The follow-up review (追评) after a bad review was dealt with: once."""
    try:
        bad_review = services.bad_review_from_token(token)
    except NotFound:
        return _refused(request)
    error: ApplicationError | None = None
    if request.method == "POST" and bad_review.follow_up_at is None:
        wait = _post_wait(request)
        if wait:
            return _too_many(request, wait)
        try:
            level = _level(request.POST.get("level", ""))
            services.follow_up_review(
                bad_review=bad_review, level=level, text=request.POST.get("text", "")
            )
        except Conflict:
            pass  # given a moment ago: the page below says so
        except ApplicationError as exc:
            error = exc
        else:
            return _with_device(request, redirect(f"{request.path}?sent=1"))
        bad_review.refresh_from_db()
    return _follow_up_page(request, bad_review, error)


def _follow_up_page(
    request: HttpRequest, bad_review: BadReview, error: ApplicationError | None
) -> HttpResponse:
    rating = bad_review.rating
    item = bad_review.item
    if bad_review.follow_up_at is not None:
        state = "given"
    elif item is not None and item.is_open and item.state == AWAITING_REVIEW:
        state = "open"
    else:
        state = "closed"
    context = {
        "service": rating.service.name,
        "unit": rating.case.unit.name,
        "rated_at": rating.rated_at,
        "rated_level": Level(rating.level).label,
        "reply": bad_review.reply,
        "levels": LEVELS,
        "state": state,
        "sent": request.GET.get("sent") == "1",
        "given_level": (
            Level(bad_review.follow_up_level).label if bad_review.follow_up_level else ""
        ),
        "text": request.POST.get("text", "") if error is not None else "",
        "errors": error.detail if error is not None and isinstance(error.detail, dict) else {},
        "error_text": error.as_text() if error is not None else "",
    }
    status = error.status if error is not None else 200
    return _with_device(
        request, render(request, "evaluation/follow_up.html", context, status=status)
    )
