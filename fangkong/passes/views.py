"""Pass pages: the holder's phone page (daily pass, device key, moving code), the unit
admin's issuing forms (vehicle, visitor, printed card), the list with export and revoke.

Thin: selectors read, services write. The phone page is opened by the personal
declaration link's token: the token is the credential, as on the declaration page.
"""

import datetime as dt
import json
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from fangkong.accounts.decorators import requires
from fangkong.accounts.roles import Perm
from fangkong.accounts.selectors import scope_for, user_has_perm_anywhere
from fangkong.core.errors import ApplicationError, InvalidInput, NotFound
from fangkong.core.exports import Export
from fangkong.core.masking import name_masked
from fangkong.core.text import time_window
from fangkong.core.throttle import hit, hit_address
from fangkong.core.web import error_json, kept_private, page_context, renders_app_errors, throttled
from fangkong.health.models import PersonLink
from fangkong.health.selectors import link_from_token
from fangkong.orgs.models import OrgUnit
from fangkong.orgs.selectors import person_get, unit_get_by_code

from . import daily, selectors, services
from . import format as fmt
from .card import card_pdf
from .forms import (
    LONG_TERM_DAYS,
    PassFilterForm,
    PrintedPassForm,
    RevokeForm,
    VehiclePassForm,
    VisitorPassForm,
    zone_codes,
)
from .holders import plate_masked, plate_normalise
from .models import Pass
from .selectors import PassFilter

EXPORT_LIMIT = 200_000
PHONE_MESSAGE = "health/message.html"


def _cleaned(form: Any) -> dict[str, Any]:
    if not form.is_valid():
        raise InvalidInput(detail={k: [str(m) for m in v] for k, v in form.errors.items()})
    return dict(form.cleaned_data)


def qr_svg(text: str, scale: int = 4) -> str:
    return str(fmt.qr(text).svg_data_uri(scale=scale, border=4))


def _until_text(row: Pass) -> str:
    return timezone.localtime(row.valid_until).strftime("%Y-%m-%d %H:%M")


# ------------------------------------------------------------------ the holder's phone page


def _missing(request: HttpRequest, page: str = "health/link_missing.html") -> HttpResponse:
    """A token that opens nothing: the missing-link page, or 429 once an address has tried
    too many (only such tokens are counted per address: a plant shares one NAT address)."""
    wait = hit_address("link_ip", request)
    if wait:
        return kept_private(throttled(request, wait, page=PHONE_MESSAGE))
    return kept_private(render(request, page, status=404))


def _link(request: HttpRequest, token: str) -> PersonLink | HttpResponse:
    """The live link behind the token, or the page to answer (missing or throttled)."""
    try:
        return link_from_token(token)
    except NotFound:
        return _missing(request)


def phone_state(link: PersonLink, row: Pass | None, why: str) -> dict[str, Any]:
    """What the phone page shows, as the page's script reads it (and refreshes it)."""
    person = link.person
    state: dict[str, Any] = {
        "active": row is not None,
        "reason": why,
        "holder": name_masked(person.name),
        "unit": person.unit.place,
        "server_time": int(timezone.now().timestamp() * 1000),
        "tz_offset": int(timezone.localtime().utcoffset().total_seconds() * 1000),  # type: ignore[union-attr]
    }
    if row is not None:
        text = services.pass_text(row)
        state.update(
            text=text,
            qr=qr_svg(text),
            pass_id=row.pass_id,
            device_key=row.device_key,
            valid_until=_until_text(row),
        )
    return state


@require_GET
def phone(request: HttpRequest, token: str) -> HttpResponse:
    """The holder's pass for today, shown while the holder's status admits it."""
    link = _link(request, token)
    if isinstance(link, HttpResponse):
        return link
    row, why = daily.daily_pass(link.person)
    state = phone_state(link, row, why)
    context = {
        "state": state,
        "token": token,
        "today": timezone.localdate(),
    }
    return kept_private(render(request, "passes/phone.html", context))


@require_GET
def phone_state_json(request: HttpRequest, token: str) -> HttpResponse:
    """The page's refresh: a revoked pass disappears within seconds of the change."""
    link = _link(request, token)
    if isinstance(link, HttpResponse):
        return link if link.status_code != 404 else kept_private(error_json(NotFound()))
    row, why = daily.daily_pass(link.person)
    return kept_private(JsonResponse(phone_state(link, row, why)))


@csrf_exempt  # The token in the URL is the credential; no cookie grants anything here.
@require_POST
def phone_device_key(request: HttpRequest, token: str) -> HttpResponse:
    """The phone's public key (hex of the 65-byte point, or a JWK): the pass certifies it."""
    link = _link(request, token)
    if isinstance(link, HttpResponse):
        return link if link.status_code != 404 else kept_private(error_json(NotFound()))
    try:
        body = json.loads(request.body or b"{}")
        point = fmt.device_point(_key_value(body.get("key")))
        row, why = daily.daily_pass(link.person, device_key=point)
    except (ValueError, AttributeError, fmt.FormatError):
        bad = InvalidInput(detail={"key": [_("The device key is not a P-256 public key.")]})
        return kept_private(error_json(bad))
    except ApplicationError as exc:
        return kept_private(error_json(exc))
    return kept_private(JsonResponse(phone_state(link, row, why)))


def _key_value(value: Any) -> Any:
    return bytes.fromhex(value) if isinstance(value, str) else value


# ------------------------------------------------------------------ a pass's own link


@require_GET
def pass_link(request: HttpRequest, token: str) -> HttpResponse:
    """A pass opened from its personal link (a pre-registered visitor's, sent by the host).

    No log-in: the token is the credential. The page shows the pass's QR code while it is
    valid or not yet valid, and otherwise says why not (expired, or revoked and why).
    """
    try:
        link = selectors.pass_link_from_token(token)
    except NotFound:
        return _missing(request, "passes/link_missing.html")
    if wait := hit("link_token", f"pass-link:{link.pk}"):
        return kept_private(throttled(request, wait, page=PHONE_MESSAGE))
    row = link.issued_pass
    state = selectors.pass_state(row, timezone.now())
    text = services.pass_text(row) if state in (selectors.VALID, selectors.NOT_YET_VALID) else ""
    start, end = timezone.localtime(row.valid_from), timezone.localtime(row.valid_until)
    context = {
        "row": row,
        "state": state,
        "text": text,
        "qr": qr_svg(text) if text else "",
        "valid_from": start,
        "valid_until": end,
        "one_day": start.date() == (end - dt.timedelta(microseconds=1)).date(),
        "window": time_window(start, end),
    }
    return kept_private(render(request, "passes/link.html", context))


# ------------------------------------------------------------------ the list


def _state_filter(rows: Any, state: str) -> Any:
    now = timezone.now()
    if state == "active":
        return rows.filter(revoked_at=None, valid_until__gt=now)
    if state == "expired":
        return rows.filter(revoked_at=None, valid_until__lte=now)
    if state == "revoked":
        return rows.filter(revoked_at__isnull=False)
    return rows


def _passes_query(request: HttpRequest) -> tuple[PassFilterForm, Any]:
    form = PassFilterForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    filters = PassFilter(query=data.get("q") or "", kind=data.get("kind") or "")
    rows = selectors.passes_visible(request.user, filters).select_related(
        "person", "unit__parent__parent__parent"
    )
    return form, _state_filter(rows, data.get("state") or "")


@login_required
@renders_app_errors
@requires(Perm.VIEW_PEOPLE)
def passes(request: HttpRequest) -> HttpResponse:
    """Passes in scope with search, kind and state filters, paging and export."""
    form, rows = _passes_query(request)
    return render(
        request,
        "passes/list.html",
        {
            **page_context(request, rows, 50),
            "form": form,
            "now": timezone.now(),
            "can_issue": user_has_perm_anywhere(request.user, Perm.MANAGE_PEOPLE),
            "can_export": user_has_perm_anywhere(request.user, Perm.EXPORT),
        },
    )


def _state_label(row: Pass, now: dt.datetime) -> str:
    if row.revoked_at:
        return _("Revoked")
    return _("In force") if row.valid_until > now else _("Expired")


@login_required
@renders_app_errors
def passes_export(request: HttpRequest) -> HttpResponse:
    """Download the filtered passes. They carry no ID or phone numbers, only masked names."""
    scope = scope_for(request.user, Perm.EXPORT)
    export = Export(request, object_type="passes.pass", scope=scope)
    _form, rows = _passes_query(request)
    rows = scope.filter(rows, "unit_path")
    export.check_size(rows.count(), EXPORT_LIMIT)
    now = timezone.now()
    headers = [
        _("Kind"),
        _("Holder"),
        pgettext("person", "Name"),
        _("Plate"),
        _("Unit"),
        _("Zones"),
        _("Valid from"),
        _("Valid until"),
        _("Printed"),
        _("Bound to a phone"),
        _("State"),
        _("Reason for revocation"),
    ]

    def local(moment: dt.datetime) -> str:
        return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")

    def lines() -> Any:
        for row in rows.iterator(chunk_size=2000):
            yield [
                row.get_kind_display(),
                row.holder_display,
                row.person.name if row.person else row.holder_name,
                row.plate,
                row.unit.place,
                " ".join(row.zones),
                local(row.valid_from),
                local(row.valid_until),
                _("yes") if row.printed else "",
                _("yes") if row.device_key else "",
                _state_label(row, now),
                row.revoke_reason,
            ]

    return export.response(name=_("Passes"), headers=headers, rows=lines())


@login_required
@renders_app_errors
@requires(Perm.VIEW_PEOPLE)
def pass_detail(request: HttpRequest, pass_id: int) -> HttpResponse:
    row = selectors.pass_get(request.user, pass_id)
    live = row.revoked_at is None and row.valid_until > timezone.now()
    return render(
        request,
        "passes/detail.html",
        {
            "row": row,
            "live": live,
            "qr": qr_svg(services.pass_text(row)) if live else "",
            "can_revoke": live
            and scope_for(request.user, Perm.MANAGE_PEOPLE).covers(row.unit_path),
        },
    )


@login_required
@renders_app_errors
@requires(Perm.VIEW_PEOPLE)
def pass_card(request: HttpRequest, pass_id: int) -> HttpResponse:
    """The pass as a printable card (PDF), for a holder without a phone."""
    row = selectors.pass_get(request.user, pass_id)
    if row.revoked_at is not None or row.valid_until <= timezone.now():
        raise InvalidInput(_("A revoked or expired pass is not printed."))
    response = HttpResponse(card_pdf(row), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="pass-{row.pass_id[:8]}.pdf"'
    return response


@login_required
@renders_app_errors
@requires(Perm.MANAGE_PEOPLE)
@require_http_methods(["GET", "POST"])
def pass_revoke(request: HttpRequest, pass_id: int) -> HttpResponse:
    """Ask for a reason and confirmation, then revoke (audited by the service)."""
    row = selectors.pass_get(request.user, pass_id)
    form = RevokeForm(request.POST or None)
    if request.method == "POST":
        try:
            services.pass_revoke(request.user, row, _cleaned(form)["reason"])
        except InvalidInput as exc:
            messages.error(request, exc.as_text())
        else:
            messages.success(
                request, _("The pass was revoked; scanners refuse it from their next sync.")
            )
            return redirect("passes:detail", pass_id=row.pk)
    return render(request, "passes/revoke.html", {"row": row, "form": form})


# ------------------------------------------------------------------ issuing


def _unit(request: HttpRequest, code: str) -> OrgUnit:
    try:
        return unit_get_by_code(request.user, code.strip(), Perm.MANAGE_PEOPLE)
    except NotFound:
        raise InvalidInput(
            detail={"unit_code": [_("No unit with this code in your scope.")]}
        ) from None


def _zones(text: str, unit: OrgUnit) -> list[str]:
    return zone_codes(text) or daily.zones_for(unit)


def _aware(day: dt.date, time: dt.time = dt.time.min) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, time))


def _issue_vehicle(request: HttpRequest, data: dict[str, Any]) -> Pass:
    unit = _unit(request, data["unit_code"])
    plate = plate_normalise(data["plate"])
    row, _text = services.pass_issue(
        request.user,
        kind=Pass.Kind.VEHICLE,
        unit=unit,
        holder_display=plate_masked(plate),
        zones=_zones(data["zones"], unit),
        valid_from=_aware(data["valid_from"]),
        valid_until=_aware(data["valid_until"] + dt.timedelta(days=1)),
        plate=plate,
        holder_name=data["driver"],
        route=data["route"],
    )
    return row


def _issue_visitor(request: HttpRequest, data: dict[str, Any]) -> Pass:
    unit = _unit(request, data["unit_code"])
    row, _text = services.pass_issue(
        request.user,
        kind=Pass.Kind.VISITOR,
        unit=unit,
        holder_display=name_masked(data["visitor"]),
        zones=_zones(data["zones"], unit),
        valid_from=_aware(data["day"], data["window_from"]),
        valid_until=_aware(data["day"], data["window_until"]),
        holder_name=data["visitor"],
    )
    return row


ISSUERS = {
    "vehicle": (VehiclePassForm, _issue_vehicle),
    "visitor": (VisitorPassForm, _issue_visitor),
}


@login_required
@renders_app_errors
@requires(Perm.MANAGE_PEOPLE)
@require_http_methods(["GET", "POST"])
def pass_new(request: HttpRequest, kind: str) -> HttpResponse:
    """Issue a vehicle pass or a visitor pass."""
    if kind not in ISSUERS:
        raise NotFound()
    form_class, issue = ISSUERS[kind]
    form = form_class(request.POST or None)
    if request.method == "POST":
        try:
            row = issue(request, _cleaned(form))
        except InvalidInput as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, _("The pass was issued."))
            return redirect("passes:detail", pass_id=row.pk)
    return render(request, "passes/new.html", {"form": form, "kind": kind}, status=_status(form))


def _form_errors(form: Any, exc: InvalidInput) -> None:
    detail = exc.detail if isinstance(exc.detail, dict) else {"__all__": [exc.as_text()]}
    for field, problems in detail.items():
        for problem in problems:
            form.add_error(field if field in form.fields else None, str(problem))


def _status(form: Any) -> int:
    return 422 if form.is_bound and form.errors else 200


@login_required
@renders_app_errors
@requires(Perm.MANAGE_PEOPLE)
@require_http_methods(["GET", "POST"])
def pass_printed(request: HttpRequest) -> HttpResponse:
    """A long-term printed card for a person without a phone; it relies on revocation."""
    person_id = request.POST.get("person") or request.GET.get("person") or ""
    if not str(person_id).isdigit():
        raise NotFound()
    person = person_get(request.user, int(person_id))
    default_until = timezone.localdate() + dt.timedelta(days=LONG_TERM_DAYS)
    form = PrintedPassForm(
        request.POST or None, initial={"person": person.pk, "valid_until": default_until}
    )
    if request.method == "POST":
        try:
            data = _cleaned(form)
            row, _text = services.pass_issue(
                request.user,
                kind=Pass.Kind.PERSON,
                unit=person.unit,
                holder_display=name_masked(person.name),
                zones=daily.zones_for(person.unit),
                valid_from=timezone.now(),
                valid_until=_aware(data["valid_until"] + dt.timedelta(days=1)),
                person=person,
                printed=True,
            )
        except InvalidInput as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, _("The card was issued: print it and hand it over."))
            return redirect("passes:detail", pass_id=row.pk)
    return render(
        request, "passes/printed.html", {"form": form, "person": person}, status=_status(form)
    )
