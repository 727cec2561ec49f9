"""Pages of the health card: the personal link, the proxy screen, statuses and the list.

Thin: selectors read, services write. The declaration pages work without JavaScript (a
plain POST with a server-generated UUID, then a redirect); with JavaScript the proxy
screen posts the same fields with ``Accept: application/json`` and gets JSON back, and the
personal link's shell reads its state and submits as JSON (static/js/declare.js).
"""

import datetime as dt
import functools
import hashlib
import json
import uuid
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.urls import get_script_prefix, reverse
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.formats import date_format
from django.utils.html import json_script
from django.utils.safestring import mark_safe
from django.utils.translation import get_language, ngettext, pgettext
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import etag, require_GET, require_http_methods, require_POST

from fangkong.accounts.decorators import requires
from fangkong.accounts.roles import Perm
from fangkong.accounts.selectors import scope_for, user_has_perm_anywhere
from fangkong.core.divisions import division_full_name, division_search
from fangkong.core.errors import ApplicationError, InvalidInput, NotFound, Throttled
from fangkong.core.exports import Export
from fangkong.core.guard import json_object
from fangkong.core.masking import name_masked
from fangkong.core.models import Division
from fangkong.core.qr import qr_data_uri
from fangkong.core.throttle import hit_address
from fangkong.core.web import (
    error_json,
    kept_private,
    page_context,
    renders_app_errors,
    static_version,
    throttled,
    wants_json,
)
from fangkong.orgs.models import Person

from . import retention, selectors, services
from .forms import (
    DeclarationFilterForm,
    OutbreakCloseForm,
    OutbreakProfileForm,
    SymptomForm,
    declaration_from_json,
    declaration_from_post,
    division_lookup,
    values_from,
)
from .models import (
    Colour,
    Contact,
    Declaration,
    OutbreakProfile,
    PersonLink,
    Symptom,
    TestResult,
    Whereabouts,
)
from .status import reason_labels

EXPORT_LIMIT = 200_000

PHONE_MESSAGE = "health/message.html"  # a bare page for the phone, no menus


def _stored_json(stored: services.Stored) -> dict[str, Any]:
    row = stored.declaration
    return {
        **_status_json(row),
        "person": row.person_id,
        "duplicate": not stored.created,
    }


def _symptom_choices() -> list[tuple[str, str]]:
    """The configured symptoms as (code, name in the user's language)."""
    english = (get_language() or "").startswith("en")
    return [(s.code, s.name_en if english else s.name) for s in selectors.symptoms_active()]


def _choices() -> dict[str, Any]:
    return {
        "symptom_choices": _symptom_choices(),
        "whereabouts_choices": Whereabouts.choices,
        "contact_choices": Contact.choices,
        "test_choices": TestResult.choices,
        "lookback_days": selectors.catalogue.get().profile.lookback_days,
    }


def _division_options(
    code: str, matches: list[Division] | None, known: Division | None = None
) -> list[Division]:
    """Options for the location select: search matches, the current place, or provinces.

    ``known`` is a division already loaded (the latest declaration's), saving a query.
    """
    if matches:
        return matches
    if known is not None and known.code == code:
        return [known]
    current = Division.objects.filter(code=code).first() if code else None
    return [current] if current else list(division_search(""))


def _resolve_typed_division(request: HttpRequest, raw: dict[str, Any]) -> list[Division] | None:
    """Apply a place typed without JavaScript; return the candidates if it is ambiguous."""
    typed = request.POST.get("division_q", "").strip()
    if not typed:
        return None
    code, matches = division_lookup(typed)
    if code:
        raw["division"] = code
        return None
    raw["division"] = ""
    return matches


# ------------------------------------------------------------------ personal link
#
# The page a person opens from the link is a shell: the same bytes for everyone (per
# language), with no name, no answers and no catalogue in it, so a browser or a service
# worker may keep it. Its script reads the person's state from ``link_state`` (JSON) and
# submits with ``link_declare`` (JSON). Without JavaScript the shell sends the browser to
# the plain page (``?plain=1``), the same URL rendered on the server with its forms, as
# before. Every answer on a personal URL is private and no-store (``_private``).

PLAIN = "plain"  # the query parameter that asks for the page rendered on the server


@csrf_exempt  # The token in the URL is the credential; no cookie grants anything here.
@require_http_methods(["GET", "POST"])
def link_page(request: HttpRequest, token: str) -> HttpResponse:
    """A person's own declaration page, opened from the personal link or QR code.

    GET answers the shell with the person's state in it (one read), so that a morning
    is this and the submit; a forged, revoked or replaced link is refused at once.
    ``?plain=1`` (and the redirect after a POST without JavaScript) answers the page
    rendered on the server; POST is its form.
    """
    if request.method == "GET" and PLAIN not in request.GET and "sent" not in request.GET:
        try:
            state = _link_state(token)
        except NotFound:
            return _link_refused(request)
        return kept_private(
            HttpResponse(_shell_with(state), content_type="text/html; charset=utf-8")
        )
    # Only tokens that open nothing (forged, re-issued, revoked) are counted, per address:
    # a whole plant may come through one NAT address. A valid link costs one read to open,
    # and what it may store is limited per day by the service (LINK_DECLARATIONS_A_DAY).
    try:
        link = selectors.link_from_token(token)
    except NotFound:
        return _link_refused(request)
    if request.method == "POST":
        return kept_private(_link_post(request, link))
    return kept_private(_link_render(request, link))


@require_GET
@etag(lambda request: _shell_etag())
def link_shell(request: HttpRequest) -> HttpResponse:
    """The shell of every personal link at a URL of its own, kept by the browser for a day.

    A service worker may store it and answer the personal links' navigations with it.
    """
    response = HttpResponse(_shell(), content_type="text/html; charset=utf-8")
    patch_cache_control(response, public=True, max_age=LINK_SHELL_MAX_AGE)
    return response


LINK_SHELL_MAX_AGE = 86_400
# What the personal link's service worker keeps besides the shell, so that the page opens
# with no network after one visit (docs/health-card.md, "Offline").
LINK_ASSETS = ("css/app.css", "js/declare.js", "img/declare-192.png", "img/declare-512.png")
LINK_ICONS = (("img/declare-192.png", "192x192"), ("img/declare-512.png", "512x512"))
# The phone's copy of each link's last state, written by the page and read by the service
# worker with no network; it outlives the versions of the shell's cache.
LINK_STATES_CACHE = "fangkong-declare-states"


@require_GET
def link_manifest(request: HttpRequest, token: str) -> HttpResponse:
    """The web app manifest, under the personal link so that an installed page opens that
    link ("." is the link). The same bytes for every token: nothing is read."""
    response = JsonResponse(
        {
            "name": _("Health declaration"),
            "short_name": _("Health declaration"),
            "description": _("Your daily health declaration, with or without a network."),
            "lang": get_language(),
            "start_url": ".",
            "scope": ".",
            "display": "standalone",
            "orientation": "portrait",
            "background_color": "#ffffff",
            "theme_color": "#0f766e",
            "icons": [
                {"src": static(path), "sizes": size, "type": "image/png", "purpose": "any"}
                for path, size in LINK_ICONS
            ],
        },
        content_type="application/manifest+json",
        json_dumps_params={"ensure_ascii": False},
    )
    return kept_private(response)


@require_GET
def link_service_worker(request: HttpRequest) -> HttpResponse:
    """The personal links' service worker, from /health/d/ so that its scope covers every
    link. Its cache is named after the shell's and the assets' contents; never cached by
    HTTP, so that the browser finds a new version at once."""
    urls = [static(path) for path in LINK_ASSETS]
    context: dict[str, Any] = {
        "cache": f"fangkong-declare-{static_version(LINK_ASSETS, _shell_etag().encode())}",
        "shell": json.dumps(reverse("health:link_shell")),
        "states": json.dumps(LINK_STATES_CACHE),
        "assets": json.dumps(urls),
    }
    script = render_to_string("health/link_sw.js", context)
    response = HttpResponse(script, content_type="text/javascript; charset=utf-8")
    response["Cache-Control"] = "no-cache"
    return response


# Where a person's state goes in the shell's bytes (link_page); nothing in the shell that
# is kept and shared (link_shell, the service worker's copy).
_STATE_SLOT = "<!-- state -->"


@dataclass(frozen=True)
class _Shell:
    before: bytes  # the bytes before the state's slot
    after: bytes
    etag: str

    @property
    def empty(self) -> bytes:
        return self.before + self.after


# language -> the shell; built on first use in each process.
_shells: dict[str, _Shell] = {}


def _shell_entry() -> _Shell:
    language = get_language() or ""
    entry = _shells.get(language)
    if entry is None:
        content = render_to_string("health/link_shell.html", _shell_context()).encode()
        before, after = content.split(_STATE_SLOT.encode())
        etag = f'"{hashlib.sha256(before + after).hexdigest()[:32]}"'
        entry = _shells[language] = _Shell(before, after, etag)
    return entry


def _shell_context() -> dict[str, Any]:
    """The empty form: defaults and the fixed choices; no person, no catalogue."""
    return {
        "state_slot": mark_safe(_STATE_SLOT),  # noqa: S308 - a constant
        "states_cache": LINK_STATES_CACHE,
        "values": values_from(None),
        "errors": {},
        "symptom_choices": [],
        "division_options": [],
        "whereabouts_choices": Whereabouts.choices,
        "contact_choices": Contact.choices,
        "test_choices": TestResult.choices,
    }


def _shell() -> bytes:
    return _shell_entry().empty


def _shell_with(state: dict[str, Any]) -> bytes:
    """The shell with a person's state in a JSON script, read by static/js/declare.js."""
    shell = _shell_entry()
    return shell.before + json_script(state, "link-state").encode() + shell.after


def _shell_etag() -> str:
    return _shell_entry().etag


@require_GET
def link_state(request: HttpRequest, token: str) -> HttpResponse:
    """What the shell shows the person, as JSON, when the shell came from the phone's copy
    (the service worker's, with no network)."""
    try:
        state = _link_state(token)
    except NotFound:
        return _link_refused(request, json=True)
    return kept_private(JsonResponse(state))


def _link_state(token: str) -> dict[str, Any]:
    """What the shell shows the person: one read (``selectors.person_with_latest``: the
    latest declaration, the person's name and the unit's place); NotFound for a link that
    opens nothing."""
    person, latest = selectors.person_with_latest(token)  # today's is the latest
    today = timezone.localdate()
    todays = latest if latest is not None and latest.day == today else None
    lookback = selectors.catalogue.get().profile.lookback_days
    state = {
        "name": name_masked(person.name),
        "unit": person.unit.place,
        "today": today.isoformat(),
        "today_label": _day_label(today),
        "time_zone": settings.TIME_ZONE,
        "status": _status_json(todays) if todays is not None else None,
        "last": _answers_json(latest) if latest is not None else None,
        "one_tap": latest is not None and todays is None,
        "symptoms": _symptom_choices(),
        "risk_area_label": ngettext(
            "I stayed in a risk area in the last %(days)s day",
            "I stayed in a risk area in the last %(days)s days",
            lookback,
        )
        % {"days": lookback},
        "pass_url": _url_with_token("passes:phone", token),
        # The page whose state this is: a page kept by an older service worker as the
        # shell of every link must not show this person on another person's link.
        "link": _url_with_token("health:link", token),
    }
    return state


@csrf_exempt  # The token in the URL is the credential; no cookie grants anything here.
@require_POST
def link_declare(request: HttpRequest, token: str) -> HttpResponse:
    """The shell's submit: one declaration as JSON, stored as the form's POST stores it."""
    today = timezone.localdate()
    stored = _first_of_the_day(token, request.body, today)
    if stored is not None:
        return kept_private(_declared_json(stored))
    try:
        link, today_rows = selectors.link_with_day(token, today)  # the one read
    except NotFound:
        return _link_refused(request, json=True)
    try:
        raw = declaration_from_json(json_object(request.body), person_id=link.person_id)
        [stored] = services.declarations_submit(
            actor=None, items=[raw], via_link=link, day_read=(today, today_rows)
        )
    except ApplicationError as exc:
        response = error_json(exc)
        if isinstance(exc, Throttled):
            response["Retry-After"] = str(max(1, exc.wait))
        return kept_private(response)
    return kept_private(_declared_json(stored))


def _first_of_the_day(token: str, body: bytes, today: dt.date) -> services.Stored | None:
    """The usual morning, the link read inside the write; None for anything else,
    answered by the usual path with its own errors."""
    try:
        key = selectors.link_key(token)
        raw = declaration_from_json(json_object(body), person_id=0)  # found as it is stored
    except ApplicationError:
        return None
    return services.first_declaration_through_link(link_key=key, raw=raw, today=today)


def _declared_json(stored: services.Stored) -> JsonResponse:
    # The answers come back as the state shows them, for the phone's copy of its state.
    answer = {**_stored_json(stored), "last": _answers_json(stored.declaration)}
    return JsonResponse(answer, status=201 if stored.created else 200)


def _day_label(day: dt.date) -> str:
    """ "2026-11-29 星期日": the state asks for today's at every open."""
    return _day_label_in(get_language() or "", day)


@functools.lru_cache(maxsize=64)  # a few days in a few languages
def _day_label_in(language: str, day: dt.date) -> str:
    # ``language`` is the active one: the weekday's name depends on it, so it is in the key.
    return date_format(day, "Y-m-d l")


_TOKEN_MARK = "--token--"


@functools.cache
def _url_pattern(name: str, script_prefix: str) -> str:
    return reverse(name, args=[_TOKEN_MARK])


def _url_with_token(name: str, token: str) -> str:
    """A URL of a token, resolved once per name and prefix (a token has no "/")."""
    return _url_pattern(name, get_script_prefix()).replace(_TOKEN_MARK, token)


def _link_refused(request: HttpRequest, *, json: bool = False) -> HttpResponse:
    """A token that opens nothing: counted per address, then 429 or the missing-link answer."""
    wait = hit_address("link_ip", request)
    if wait:
        if json:
            response = error_json(Throttled())
            response["Retry-After"] = str(wait)
            return kept_private(response)
        return kept_private(throttled(request, wait, page=PHONE_MESSAGE))
    return kept_private(_link_missing(request, json=json))


def _link_missing(request: HttpRequest, *, json: bool = False) -> HttpResponse:
    if json or wants_json(request):
        message = _(
            "This link does not work any more. Please ask your grid worker or team leader "
            "for your current link or QR code."
        )
        return error_json(NotFound(message))
    return render(request, "health/link_missing.html", status=404)


def _status_json(row: Declaration) -> dict[str, Any]:
    """A declaration's status as the page shows it: colour, words, reasons, time."""
    return {
        "uuid": str(row.uuid),
        "day": row.day.isoformat(),
        "status": row.status,
        "status_label": str(Colour(row.status).label),
        "reasons": reason_labels(row.reasons),
        "time": timezone.localtime(row.created_at).strftime("%H:%M"),
    }


def _answers_json(row: Declaration) -> dict[str, Any]:
    """The answers of a declaration, to fill the form and the one-tap submit from."""
    symptoms = _symptom_names(row.symptoms)
    division = division_full_name(row.division_id)
    summary = [
        f"{row.temperature} °C",
        "、".join(symptoms) if symptoms else _("no symptoms"),
        division,
        str(Whereabouts(row.whereabouts).label),
    ]
    return {
        "day": row.day.isoformat(),
        "temperature": str(row.temperature),
        "symptoms": list(row.symptoms),
        "division": row.division_id,
        "division_name": division,
        "whereabouts": row.whereabouts,
        "contact": row.contact,
        "risk_area_stay": row.risk_area_stay,
        "test_result": row.test_result,
        "summary": _joined(
            _("Same as on %(day)s:") % {"day": row.day.strftime("%m-%d")}, " · ".join(summary)
        ),
    }


def _joined(label: str, text: str) -> str:
    """A label and its text: no space after a full-width colon (与 11-27 相同：36.5 °C)."""
    return label + ("" if label.endswith("：") else " ") + text


def _link_post(request: HttpRequest, link: PersonLink) -> HttpResponse:
    raw = declaration_from_post(request.POST, person_id=link.person_id)
    matches = _resolve_typed_division(request, raw)
    try:
        if matches is not None:
            raise InvalidInput(
                detail={"division": [_("Several places match; choose one from the list.")]}
            )
        [stored] = services.declarations_submit(actor=None, items=[raw], via_link=link)
    except Throttled as exc:
        return throttled(request, exc.wait, page=PHONE_MESSAGE, error=exc)
    except ApplicationError as exc:
        if wants_json(request):
            return error_json(exc)
        return _link_render(
            request, link, posted=raw, error=exc, matches=matches, status=exc.status
        )
    if wants_json(request):
        return JsonResponse(_stored_json(stored), status=201 if stored.created else 200)
    # The anchor brings the status into view: the button was at the bottom of the form.
    return redirect(f"{request.path}?sent=1#today-status")


def _link_render(
    request: HttpRequest,
    link: PersonLink,
    *,
    posted: dict[str, Any] | None = None,
    error: ApplicationError | None = None,
    matches: list[Division] | None = None,
    status: int = 200,
) -> HttpResponse:
    """The plain page: the person's form rendered on the server, for browsers without
    JavaScript (and the page a refused form POST comes back to)."""
    person = link.person
    today = timezone.localdate()
    latest = selectors.latest_declaration(person)  # one query: today's is the latest
    todays = latest if latest is not None and latest.day == today else None
    values = posted or values_from(latest)
    errors = error.detail if error is not None and isinstance(error.detail, dict) else {}
    context = {
        "name": name_masked(person.name),
        "today": today,
        "todays": todays,
        "todays_reasons": reason_labels(todays.reasons) if todays else [],
        "latest": latest,
        "latest_reasons": reason_labels(latest.reasons) if latest else [],
        "latest_symptoms": _symptom_names(latest.symptoms) if latest else [],
        "one_tap": latest is not None and todays is None and posted is None,
        "values": values,
        "errors": errors,
        "error_text": error.as_text() if error is not None else "",
        "division_options": _division_options(
            values.get("division", ""), matches, known=latest.division if latest else None
        ),
        "uuid": posted.get("uuid") if posted and posted.get("uuid") else str(uuid.uuid4()),
        "one_tap_uuid": str(uuid.uuid4()),
        "sent": request.GET.get("sent") == "1" and todays is not None,
        "token": selectors.link_token(link),
        **_choices(),
    }
    return render(request, "health/link.html", context, status=status)


def _symptom_names(codes: list[str]) -> list[str]:
    names = dict(_symptom_choices())
    return [names.get(code, code) for code in codes]


@require_GET
@cache_control(public=True, max_age=86400)
def divisions(request: HttpRequest) -> HttpResponse:
    """Search provinces, cities and counties for the location field (public, cacheable)."""
    wait = hit_address("divisions_ip", request)
    if wait:
        return throttled(request, wait, page=PHONE_MESSAGE)
    found = division_search(request.GET.get("q", "")[:32])
    return JsonResponse(
        {"results": [{"code": d.code, "name": d.full_name, "level": d.level} for d in found]}
    )


# ------------------------------------------------------------------ proxy screen


@login_required
@renders_app_errors
@requires(Perm.DECLARE_FOR_OTHERS)
def proxy_units(request: HttpRequest) -> HttpResponse:
    """The households and teams to declare for, with today's declared / expected count."""
    query = request.GET.get("q", "").strip()
    pending = request.GET.get("pending") == "1"
    units = selectors.proxy_units_search(
        request.user, query, day=timezone.localdate(), pending=pending
    )
    return render(
        request,
        "health/proxy_units.html",
        {"query": query, "pending": pending, **page_context(request, units, 50)},
    )


@login_required
@renders_app_errors
def proxy(request: HttpRequest, unit_id: int) -> HttpResponse:
    """Declare for everyone in a household or team at once: all normal unless changed."""
    unit = selectors.unit_for_proxy(request.user, unit_id)
    today = timezone.localdate()
    roster = selectors.roster_for_proxy(request.user, unit, today)
    latest = selectors.latest_declarations([person.pk for person, _row in roster])
    posted: dict[int, dict[str, Any]] = {}
    row_errors: dict[int, Any] = {}
    error: ApplicationError | None = None
    matches: list[Division] | None = None
    if request.method == "POST":
        try:
            posted, matches = _proxy_items(request, roster)
            if matches is not None:
                raise InvalidInput(
                    detail={"division": [_("Several places match; choose one from the list.")]}
                )
            results = services.declarations_submit(actor=request.user, items=list(posted.values()))
        except ApplicationError as exc:
            if wants_json(request):
                return error_json(exc)
            error, row_errors = exc, _errors_by_person(exc, list(posted))
        else:
            created = sum(1 for stored in results if stored.created)
            # Shown on the next page either way: the redirect, or the reload after fetch.
            messages.success(
                request, _("%(count)d declarations were saved.") % {"count": len(results)}
            )
            if wants_json(request):
                return JsonResponse(
                    {"created": created, "results": [_stored_json(s) for s in results]}
                )
            return redirect("health:proxy", unit_id=unit.pk)
    rows = [
        _proxy_row(person, todays, latest.get(person.pk), posted, row_errors)
        for person, todays in roster
    ]
    top_division = request.POST.get("division", "") or _common_division(latest.values())
    return render(
        request,
        "health/proxy.html",
        {
            "unit": unit,
            "today": today,
            "rows": rows,
            "declared": sum(1 for _p, todays in roster if todays is not None),
            "top_division": top_division,
            "division_options": _division_options(top_division, matches),
            "error_text": error.as_text() if error and not row_errors else "",
            # The first row in error takes the focus, which scrolls it into view.
            "first_error": next(iter(row_errors), None),
            "top_errors": error.detail if error and isinstance(error.detail, dict) else {},
            **_choices(),
        },
        status=error.status if error else 200,
    )


def _proxy_items(
    request: HttpRequest, roster: list[tuple[Person, Declaration | None]]
) -> tuple[dict[int, dict[str, Any]], list[Division] | None]:
    """Read the ticked rows as raw declarations; a row without its own place gets the top one."""
    top = {"division": request.POST.get("division", "")}
    matches = _resolve_typed_division(request, top)
    items = {}
    for person, _todays in roster:
        prefix = f"p{person.pk}-"
        if not request.POST.get(prefix + "include"):
            continue
        raw = declaration_from_post(request.POST, person_id=person.pk, prefix=prefix)
        if raw["division"] in ("", "top"):
            raw["division"] = top["division"]
        items[person.pk] = raw
    return items, matches


def _errors_by_person(exc: ApplicationError, person_ids: list[int]) -> dict[int, Any]:
    detail = exc.detail if isinstance(exc.detail, dict) else {}
    if "items" in detail:
        return {person_ids[int(index)]: errors for index, errors in detail["items"].items()}
    if len(person_ids) == 1 and detail and "division" not in detail:
        return {person_ids[0]: detail}
    return {}


def _common_division(declarations: Any) -> str:
    """The place most of the people declared last time: the default for the others."""
    counts: dict[str, int] = {}
    for row in declarations:
        counts[row.division_id] = counts.get(row.division_id, 0) + 1
    return max(counts, key=lambda code: counts[code]) if counts else ""


def _proxy_row(
    person: Person,
    todays: Declaration | None,
    last: Declaration | None,
    posted: dict[int, dict[str, Any]],
    row_errors: dict[int, Any],
) -> dict[str, Any]:
    values = posted.get(person.pk) or _normal_day(last)
    return {
        "person": person,
        "todays": todays,
        "todays_reasons": reason_labels(todays.reasons) if todays else [],
        "last": last,
        "values": values,
        "include": person.pk in posted or (not posted and todays is None),
        "uuid": (posted.get(person.pk) or {}).get("uuid") or str(uuid.uuid4()),
        "errors": row_errors.get(person.pk, {}),
    }


def _normal_day(last: Declaration | None) -> dict[str, Any]:
    """ "All normal" for one row: the last temperature, place and whereabouts carry over."""
    values = values_from(None)
    values["division"] = "top"
    if last is not None:
        values.update(
            temperature=str(last.temperature),
            division=last.division_id,
            whereabouts=last.whereabouts,
        )
    return values


@login_required
@renders_app_errors
def qr_sheet(request: HttpRequest, unit_id: int) -> HttpResponse:
    """A printable sheet of the personal QR codes of a household's or team's people."""
    unit = selectors.unit_for_proxy(request.user, unit_id)
    roster = selectors.roster_for_proxy(request.user, unit, timezone.localdate())
    people = [person for person, _todays in roster]
    if request.method == "POST":
        issued = services.links_issue_missing(actor=request.user, unit=unit, people=people)
        messages.success(request, _("%(count)d links were issued.") % {"count": len(issued)})
        return redirect("health:qr_sheet", unit_id=unit.pk)
    links = selectors.live_links([p.pk for p in people])
    cards = []
    for person in people:
        link = links.get(person.pk)
        url = _link_url(request, link) if link else ""
        cards.append({"person": person, "url": url, "qr": qr_data_uri(url) if url else ""})
    return render(
        request,
        "health/qr_sheet.html",
        {"unit": unit, "cards": cards, "missing": sum(1 for c in cards if not c["url"])},
    )


def _link_url(request: HttpRequest, link: PersonLink) -> str:
    return request.build_absolute_uri(reverse("health:link", args=[selectors.link_token(link)]))


# ------------------------------------------------------------------ status pages


@login_required
@renders_app_errors
def person_health(request: HttpRequest, person_id: int) -> HttpResponse:
    """A person's status with its reasons, 30 days of declarations and the personal link."""
    person = selectors.person_for_health(request.user, person_id)
    history = list(selectors.person_status_history(person))
    current = next((row for row in history if row.is_current), None)
    can_manage_link = scope_for(request.user, Perm.DECLARE_FOR_OTHERS).covers(person.unit_path)
    link = selectors.live_link(person) if can_manage_link else None
    link_url = _link_url(request, link) if link else ""
    return render(
        request,
        "health/person.html",
        {
            "person": person,
            "current": current,
            "current_reasons": reason_labels(current.reasons) if current else [],
            "today": timezone.localdate(),
            "history": [(row, reason_labels(row.reasons)) for row in history],
            "can_manage_link": can_manage_link,
            "link": link,
            "link_url": link_url,
            "link_qr": qr_data_uri(link_url, scale=5) if link_url else "",
        },
    )


@login_required
@require_POST
@renders_app_errors
def person_link(request: HttpRequest, person_id: int, action: str) -> HttpResponse:
    """Issue (or re-issue) or revoke a person's declaration link."""
    person = selectors.person_for_health(request.user, person_id)
    if action == "issue":
        services.link_issue(actor=request.user, person=person)
        messages.success(request, _("A new link was issued; any earlier link no longer works."))
    elif action == "revoke":
        services.link_revoke(actor=request.user, person=person)
        messages.success(request, _("The link was revoked; it no longer opens the form."))
    else:
        raise NotFound()
    return redirect("health:person", person_id=person.pk)


def _declarations_query(request: HttpRequest) -> tuple[DeclarationFilterForm, Any, Any]:
    params = request.GET.copy()
    if "day" not in params:  # today unless the day was cleared on purpose (all days)
        params["day"] = timezone.localdate().isoformat()
    form = DeclarationFilterForm(params)
    data = form.cleaned_data if form.is_valid() else {}
    code = data.get("unit", "").strip()
    unit = selectors.unit_for_health(request.user, code=code) if code else None
    rows = selectors.declarations_search(
        request.user,
        selectors.DeclarationFilter(
            query=data.get("q", ""),
            unit=unit,
            day=data.get("day"),
            status=data.get("status", ""),
            filed_by=data.get("filed_by", ""),
            include_history=bool(data.get("history")),
        ),
    )
    return form, rows, unit


@login_required
@renders_app_errors
@requires(Perm.VIEW_HEALTH)
def declarations(request: HttpRequest) -> HttpResponse:
    """Declarations in scope with filters, search, paging and export."""
    form, rows, unit = _declarations_query(request)
    context = page_context(request, rows, 50)
    return render(
        request,
        "health/declarations.html",
        {
            **context,
            "form": form,
            "unit": unit,
            "rows": [(row, reason_labels(row.reasons)) for row in context["page_obj"]],
            "can_export": user_has_perm_anywhere(request.user, Perm.EXPORT),
        },
    )


@login_required
@renders_app_errors
def declarations_export(request: HttpRequest) -> HttpResponse:
    """Download the filtered declarations; health data is sensitive, so every export is audited."""
    scope = scope_for(request.user, Perm.EXPORT)
    export = Export(request, object_type="health.declaration", scope=scope)
    _form, rows, unit = _declarations_query(request)
    rows = scope.filter(rows, "unit_path")
    export.check_size(rows.count(), EXPORT_LIMIT)
    symptom_names = {s.code: s.name for s in selectors.symptoms_active()}
    headers = [
        _("Date"),
        pgettext("person", "Name"),
        _("Unit"),
        _("Temperature (°C)"),
        _("Symptoms"),
        _("Current location"),
        _("Whereabouts"),
        _("Contact with a case"),
        _("Stayed in a risk area"),
        _("Test result"),
        _("Status"),
        _("Reasons"),
        _("Filed by"),
        _("Filed on behalf by"),
        _("Current"),
        _("Submitted at"),
    ]

    def lines() -> Any:
        for row in rows.iterator(chunk_size=2000):
            yield [
                row.day.isoformat(),
                row.person.name,
                row.person.unit.name,
                float(row.temperature),
                "、".join(symptom_names.get(code, code) for code in row.symptoms),
                row.division.full_name,
                row.get_whereabouts_display(),
                row.get_contact_display(),
                _("Yes") if row.risk_area_stay else _("No"),
                row.get_test_result_display(),
                row.get_status_display(),
                "、".join(reason_labels(row.reasons)),
                row.get_filed_by_display(),
                str(row.proxy or ""),
                _("Yes") if row.is_current else _("No"),
                timezone.localtime(row.created_at).strftime("%Y-%m-%d %H:%M"),
            ]

    return export.response(
        name="declarations", headers=headers, rows=lines(), unit_path=unit.path if unit else ""
    )


# ------------------------------------------------------------------ outbreak profile


@login_required
@renders_app_errors
@requires(Perm.MANAGE_OUTBREAK)
def outbreak_profile(request: HttpRequest) -> HttpResponse:
    """Edit the outbreak profile and the symptom list (group administrators)."""
    profile = OutbreakProfile.current()
    symptoms = list(Symptom.objects.order_by("order", "code"))
    profile_form = OutbreakProfileForm(instance=profile)
    symptom_forms = {s.pk: SymptomForm(instance=s, prefix=f"s{s.pk}") for s in symptoms}
    new_form = SymptomForm(prefix="new", initial={"order": len(symptoms), "is_active": True})
    close_form = OutbreakCloseForm(
        prefix="close",
        initial={"outbreak": profile.pk, "purge_after_days": profile.purge_after_days},
    )
    status = 200
    if request.method == "POST":
        which = request.POST.get("save", "")
        if which == "close":
            close_form = OutbreakCloseForm(request.POST, prefix="close")
            if close_form.is_valid():
                closed = retention.outbreak_close(
                    actor=request.user,
                    outbreak_id=close_form.cleaned_data["outbreak"],
                    purge_after_days=close_form.cleaned_data["purge_after_days"],
                )
                messages.success(
                    request,
                    _("The outbreak was closed. Its personal data will be erased on %(day)s.")
                    % {"day": closed.purge_due_on},
                )
                return redirect("health:outbreak")
        elif which == "profile":
            profile_form = OutbreakProfileForm(request.POST, instance=OutbreakProfile.current())
            if profile_form.is_valid():
                services.outbreak_profile_update(
                    actor=request.user, values=profile_form.cleaned_data
                )
                messages.success(request, _("The outbreak profile was saved."))
                return redirect("health:outbreak")
        else:
            target = next((s for s in symptoms if str(s.pk) == which), None)
            form = SymptomForm(
                request.POST, instance=target, prefix=f"s{target.pk}" if target else "new"
            )
            if form.is_valid():
                services.symptom_save(
                    actor=request.user,
                    symptom=Symptom.objects.get(pk=target.pk) if target else None,
                    values=form.cleaned_data,
                )
                messages.success(request, _("The symptom list was saved."))
                return redirect("health:outbreak")
            if target is None:
                new_form = form
            else:
                symptom_forms[target.pk] = form
        status = 422
    return render(
        request,
        "health/outbreak.html",
        {
            "profile_form": profile_form,
            "symptom_rows": [(s, symptom_forms[s.pk]) for s in symptoms],
            "new_form": new_form,
            "profile": profile,
            "close_form": close_form,
            # The next outbreak starts the day after a close; it cannot close before then.
            "may_close": profile.started_on is None or profile.started_on <= timezone.localdate(),
            "closed_outbreaks": retention.closed_outbreaks(),
        },
        status=status,
    )
