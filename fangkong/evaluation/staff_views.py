"""The window staff's pages: register a case (办件) in a few taps, show its rating link and
QR code on the screen, print it on a receipt, and see their own cases of today.

Thin: the service registers (``services.case_register``); these views read.
"""

from typing import Any

from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from fangkong.accounts.decorators import requires
from fangkong.accounts.roles import Perm
from fangkong.accounts.selectors import scope_for
from fangkong.core.errors import ApplicationError, InvalidInput, NotFound
from fangkong.core.masking import mask_phone, name_masked
from fangkong.core.qr import qr_data_uri
from fangkong.core.retention import local_midnight

from . import services
from .models import Case, Channel, Level, Rating, Service, Staff, Window
from .public_views import offered_services

# What the registering clerk picks, and the channel each is recorded as. A receipt's QR
# code is scanned with the phone's camera as a badge's is.
CHANNEL_CHOICES = [
    (Channel.KIOSK, pgettext_lazy("case channel", "Window tablet")),
    (Channel.BADGE, pgettext_lazy("case channel", "Printed receipt")),
    (Channel.ONLINE, pgettext_lazy("case channel", "Link sent after an online service")),
]
TODAY_LIMIT = 200


def _staff(request: HttpRequest) -> Staff | None:
    return (
        Staff.objects.filter(user_id=request.user.pk or 0, is_active=True)
        .select_related("window__unit")
        .first()
    )


def _windows(request: HttpRequest) -> list[Window]:
    """Windows the user may register at: their own, else those in their scope."""
    scope = scope_for(request.user, Perm.REGISTER_CASES)
    rows = scope.filter(Window.objects.filter(is_active=True), "unit_path")
    return list(rows.select_related("unit").order_by("unit_path", "number")[:200])


def _services_for(window: Window, staff: Staff | None) -> list[Service]:
    """The window's services, the ones this member registers most first."""
    offered = offered_services(window.unit_path)
    cases = Case.objects.filter(window=window)
    if staff is not None:
        cases = cases.filter(staff=staff)
    used = dict(cases.values("service_id").annotate(n=Count("pk")).values_list("service_id", "n"))
    return sorted(offered, key=lambda s: (-used.get(s.pk, 0), s.category, s.code))


def _todays_cases(request: HttpRequest, staff: Staff | None) -> list[Case]:
    since = local_midnight(timezone.localdate())
    rows = Case.objects.filter(created_at__gte=since)
    rows = (
        rows.filter(staff=staff)
        if staff is not None
        else rows.filter(created_by_id=request.user.pk)
    )
    return list(
        rows.select_related("service", "window", "rating").order_by("-created_at", "-pk")[
            :TODAY_LIMIT
        ]
    )


def _case_rows(cases: list[Case]) -> list[dict[str, Any]]:
    rows = []
    for case in cases:
        rating = getattr(case, "rating", None)
        rows.append(
            {
                "case": case,
                "time": timezone.localtime(case.created_at),
                "person": _person(case),
                "rating": Level(rating.level).label if rating else "",
                "is_bad": bool(rating and rating.is_bad),
            }
        )
    return rows


def _person(case: Case) -> str:
    parts = [name_masked(case.person_name), mask_phone(case.person_phone)]
    return " ".join(part for part in parts if part)


@login_required
@requires(Perm.REGISTER_CASES)
def case_new(request: HttpRequest) -> HttpResponse:
    """Register a case: the service (buttons, most used first), optionally the person's
    name and phone, the channel; then the case page with its rating QR code."""
    staff = _staff(request)
    windows = [staff.window] if staff else _windows(request)
    window = _chosen_window(request, windows, staff)
    values = request.POST if request.method == "POST" else request.GET
    error: ApplicationError | None = None
    if request.method == "POST":
        try:
            case = _register(request, window)
        except ApplicationError as exc:
            error = exc
        else:
            return redirect("evaluation:case", case_id=case.pk)
    context = {
        "staff": staff,
        "windows": windows,
        "window": window,
        "services": _services_for(window, staff) if window else [],
        "channels": CHANNEL_CHOICES,
        "values": {
            "service": values.get("service", ""),
            "person_name": values.get("person_name", ""),
            "person_phone": values.get("person_phone", ""),
            "channel": values.get("channel") or Channel.KIOSK,
        },
        "errors": error.detail if error is not None and isinstance(error.detail, dict) else {},
        "error_text": error.as_text() if error is not None else "",
        "today": _case_rows(_todays_cases(request, staff)),
    }
    status = error.status if error is not None else 200
    return render(request, "evaluation/case_new.html", context, status=status)


def _chosen_window(
    request: HttpRequest, windows: list[Window], staff: Staff | None
) -> Window | None:
    if staff is not None:
        return staff.window
    wanted = request.POST.get("window") or request.GET.get("window") or ""
    for window in windows:
        if str(window.pk) == wanted:
            return window
    return windows[0] if len(windows) == 1 else None


def _register(request: HttpRequest, window: Window | None) -> Case:
    if window is None:
        message = _("Choose the window.")
        raise InvalidInput(message, detail={"window": [message]})
    service = Service.objects.filter(pk=_number(request.POST.get("service"))).first()
    if service is None:
        message = _("Choose the service that was done.")
        raise InvalidInput(message, detail={"service": [message]})
    channel = request.POST.get("channel") or Channel.KIOSK
    if channel not in {value for value, _label in CHANNEL_CHOICES}:
        message = _("Choose a channel from the list.")
        raise InvalidInput(message, detail={"channel": [message]})
    return services.case_register(
        actor=request.user,
        service=service,
        window=window,
        channel=channel,
        person_name=request.POST.get("person_name", ""),
        person_phone=request.POST.get("person_phone", ""),
    )


def _number(raw: Any) -> int:
    try:
        return int(str(raw))
    except ValueError:
        return 0


def _case_for(request: HttpRequest, case_id: int) -> Case:
    """A case the user registered, or one in their scope; else not found."""
    case = (
        Case.objects.select_related("service", "unit", "window", "staff").filter(pk=case_id).first()
    )
    if case is None:
        raise NotFound()
    if case.created_by_id == request.user.pk:
        return case
    for perm in (Perm.REGISTER_CASES, Perm.VIEW_EVALUATION):
        if scope_for(request.user, perm).covers(case.unit_path):
            return case
    raise NotFound()


def _case_context(request: HttpRequest, case: Case) -> dict[str, Any]:
    url = request.build_absolute_uri(
        reverse("evaluation_public:rate", args=[services.case_token(case)])
    )
    rating = Rating.objects.filter(case=case).first()
    return {
        "case": case,
        "url": url,
        "qr": qr_data_uri(url, scale=8),
        "person": _person(case),
        "channel": {str(value): label for value, label in CHANNEL_CHOICES}.get(
            case.channel, case.get_channel_display()
        ),
        "rating": Level(rating.level).label if rating else "",
        "is_bad": bool(rating and rating.is_bad),
        "staff_name": name_masked(case.staff.name) if case.staff else "",
        "registered": timezone.localtime(case.created_at),
    }


@login_required
@requires(Perm.REGISTER_CASES, Perm.VIEW_EVALUATION)
def case_detail(request: HttpRequest, case_id: int) -> HttpResponse:
    """The case's rating link and QR code, big enough to scan off the screen."""
    case = _case_for(request, case_id)
    context = {
        **_case_context(request, case),
        "today": _case_rows(_todays_cases(request, _staff(request))),
    }
    return render(request, "evaluation/case.html", context)


@login_required
@requires(Perm.REGISTER_CASES, Perm.VIEW_EVALUATION)
def case_receipt(request: HttpRequest, case_id: int) -> HttpResponse:
    """The receipt to print (80 mm roll or A6): the service, the time and the QR code."""
    case = _case_for(request, case_id)
    return render(request, "evaluation/case_receipt.html", _case_context(request, case))
