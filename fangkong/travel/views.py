"""Pages of the travel app: the returnee card (phone and proxy), lists, risk areas, rules.

Thin: selectors read, services write. Forms work without JavaScript.
"""

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from fangkong.accounts.decorators import requires
from fangkong.accounts.roles import Perm
from fangkong.accounts.selectors import export_with_numbers, scope_for, user_has_perm_anywhere
from fangkong.core.errors import ApplicationError, InvalidInput, NotFound
from fangkong.core.models import Division
from fangkong.core.text import parse_date
from fangkong.core.throttle import hit, hit_address
from fangkong.core.web import XLSX, kept_private, page_context, renders_app_errors, throttled
from fangkong.health import selectors as health_selectors
from fangkong.health.models import PersonLink

from . import importing, selectors, services
from .forms import (
    ReturneeFilterForm,
    RiskAreaFilterForm,
    card_from_post,
    card_values,
    form_choices,
    form_rows,
    itinerary_from_post,
    resolve_region,
)
from .models import Outcome, QuarantineMode, ReturneeCard, RiskLevel, Transport
from .recheck import default_stays_since, look_back_window

EXPORT_LIMIT = 100_000


def _merge_problems(exc: InvalidInput, problems: dict[str, list[str]]) -> InvalidInput:
    """Put the form's region problems in place of the service's "unknown code ?"."""
    detail = dict(exc.detail) if isinstance(exc.detail, dict) else {}
    for key, found in problems.items():
        if isinstance(detail.get(key), dict):
            detail[key] = {**detail[key], "division": found}
        else:
            detail[key] = found
    return InvalidInput(exc.message, detail=detail)


def _file_card(
    request: HttpRequest, person: Any, *, via_link: PersonLink | None
) -> tuple[ReturneeCard | None, dict[str, Any], ApplicationError | None]:
    raw, problems = card_from_post(request.POST)
    try:
        card = services.card_file(
            actor=None if via_link else request.user, person=person, raw=raw, via_link=via_link
        )
    except InvalidInput as exc:
        return None, raw, _merge_problems(exc, problems)
    except ApplicationError as exc:
        return None, raw, exc
    return card, raw, None


def _card_context(
    person: Any, values: dict[str, Any], error: ApplicationError | None
) -> dict[str, Any]:
    errors = error.detail if error is not None and isinstance(error.detail, dict) else {}
    window = look_back_window()
    return {
        "person": person,
        "values": values,
        "errors": errors,
        "error_text": error.as_text() if error is not None else "",
        "rows": form_rows(values, errors),
        "window_start": window[0],
        "lookback_days": (window[1] - window[0]).days,
        **form_choices(),
    }


# ------------------------------------------------------------------ personal link (phone)


@csrf_exempt  # The token in the URL is the credential; no cookie grants anything here.
@require_http_methods(["GET", "POST"])
def link_card(request: HttpRequest, token: str) -> HttpResponse:
    """The person's own returnee card, opened from the personal link (the same token)."""
    # Limited per link, like the declaration page; only dead tokens count per address.
    try:
        link = health_selectors.link_from_token(token)
    except NotFound:
        if wait := hit_address("link_ip", request):
            return kept_private(throttled(request, wait, page="health/message.html"))
        return kept_private(render(request, "health/link_missing.html", status=404))
    if wait := hit("link_token", str(link.pk)):
        return kept_private(throttled(request, wait, page="health/message.html"))
    person = link.person
    card = selectors.open_card(person)
    error = None
    values = card_values(card)
    if request.method == "POST":
        card, values, error = _file_card(request, person, via_link=link)
        if error is None:
            return kept_private(redirect(f"{request.path}?sent=1"))
    context = {
        **_card_context(person, values, error),
        "card": card,
        "decision": selectors.latest_decision(card) if card else None,
        "sent": request.GET.get("sent") == "1",
        "declare_url": reverse("health:link", args=[token]),
    }
    return kept_private(
        render(request, "travel/link_card.html", context, status=error.status if error else 200)
    )


# ------------------------------------------------------------------ proxy filing


@login_required
@renders_app_errors
@requires(Perm.DECLARE_FOR_OTHERS)
def file_search(request: HttpRequest) -> HttpResponse:
    """Find the person to file a returnee card for."""
    query = request.GET.get("q", "").strip()
    people = selectors.people_for_filing(request.user, query)
    return render(request, "travel/file_search.html", {"query": query, "people": people})


@login_required
@renders_app_errors
def card_form(request: HttpRequest, person_id: int) -> HttpResponse:
    """File or update a person's returnee card on their behalf (a grid worker's phone call)."""
    person = selectors.person_for_travel(request.user, person_id, Perm.DECLARE_FOR_OTHERS)
    card = selectors.open_card(person)
    values, error = card_values(card), None
    if request.method == "POST":
        card, values, error = _file_card(request, person, via_link=None)
        if error is None and card is not None:
            messages.success(request, _("The returnee card was saved and decided."))
            return redirect("travel:card", pk=card.pk)
    context = {**_card_context(person, values, error), "card": card}
    return render(request, "travel/card_form.html", context, status=error.status if error else 200)


@login_required
@renders_app_errors
def card_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A card: answers, itinerary, the current decision with its explanation, the history."""
    card = selectors.card_get(request.user, pk)
    person = card.person
    can_file = health_selectors.may_declare_for(request.user, person)
    link = health_selectors.live_link(person) if can_file else None
    link_url = (
        request.build_absolute_uri(reverse("travel:link", args=[health_selectors.link_token(link)]))
        if link
        else ""
    )
    window = look_back_window()
    return render(
        request,
        "travel/card.html",
        {
            "card": card,
            "person": person,
            "decisions": list(selectors.card_decisions(card)[:20]),
            "itineraries": list(selectors.person_itineraries(person, since=window[0])),
            "lookback_days": (window[1] - window[0]).days,
            "can_file": can_file,
            "link_url": link_url,
        },
    )


@login_required
@require_POST
@renders_app_errors
def card_redecide(request: HttpRequest, pk: int) -> HttpResponse:
    card = selectors.card_get(request.user, pk)
    services.card_redecide(actor=request.user, card=card)
    messages.success(request, _("The card was decided again."))
    return redirect("travel:card", pk=card.pk)


@login_required
@require_POST
@renders_app_errors
def card_close(request: HttpRequest, pk: int) -> HttpResponse:
    card = selectors.card_get(request.user, pk)
    services.card_close(actor=request.user, card=card, reason=request.POST.get("reason", ""))
    messages.success(request, _("The card was closed."))
    return redirect("travel:card", pk=card.pk)


# ------------------------------------------------------------------ itineraries by hand


@login_required
@renders_app_errors
def person_itineraries(request: HttpRequest, person_id: int) -> HttpResponse:
    """A person's itinerary entries; proxies add a trip declared by phone or delete one."""
    person = selectors.person_for_travel(request.user, person_id)
    can_file = health_selectors.may_declare_for(request.user, person)
    error: ApplicationError | None = None
    posted: dict[str, Any] = {}
    if request.method == "POST":
        posted, problem = itinerary_from_post(request.POST, "")
        try:
            if problem:
                raise InvalidInput(detail={"division": [problem]})
            services.itinerary_add(actor=request.user, person=person, raw=posted)
        except ApplicationError as exc:
            error = exc
        else:
            messages.success(request, _("The itinerary entry was added."))
            return redirect("travel:itineraries", person_id=person.pk)
    return render(
        request,
        "travel/itineraries.html",
        {
            "person": person,
            "rows": list(selectors.person_itineraries(person)[:200]),
            "card": selectors.open_card(person),
            "can_file": can_file,
            "posted": posted,
            "error_text": error.as_text() if error else "",
            "transport_choices": Transport.choices,
        },
        status=error.status if error else 200,
    )


@login_required
@require_POST
@renders_app_errors
def itinerary_delete(request: HttpRequest, pk: int) -> HttpResponse:
    row = selectors.itinerary_get(request.user, pk)
    services.itinerary_delete(actor=request.user, itinerary=row)
    messages.success(request, _("The itinerary entry was deleted."))
    return redirect("travel:itineraries", person_id=row.person_id)


# ------------------------------------------------------------------ the three lists


def _returnee_query(request: HttpRequest) -> tuple[ReturneeFilterForm, Any, Any]:
    form = ReturneeFilterForm(request.GET)
    data = form.cleaned_data if form.is_valid() else {}
    code = data.get("unit", "").strip()
    unit = selectors.unit_for_travel(request.user, code=code) if code else None
    filters = selectors.ReturneeFilter(
        query=data.get("q", ""),
        unit=unit,
        outcome=data.get("outcome", ""),
        level=data.get("level", ""),
        return_from=data.get("return_from"),
        return_to=data.get("return_to"),
        include_closed=bool(data.get("closed")),
    )
    return form, filters, unit


@login_required
@renders_app_errors
@requires(Perm.VIEW_HEALTH)
def returnees(request: HttpRequest) -> HttpResponse:
    """Returnees by decision: may return, must quarantine, waiting — searchable, paged."""
    form, filters, unit = _returnee_query(request)
    counts = selectors.outcome_counts(request.user, filters)
    cards = selectors.returnees_search(request.user, filters)
    context = page_context(request, cards, 50)
    tab_query = request.GET.copy()
    tab_query.pop("page", None)
    tab_query.pop("outcome", None)
    tabs = [("", _("All"), sum(counts.values()))] + [
        (value, label, counts.get(value, 0)) for value, label in Outcome.choices
    ]
    return render(
        request,
        "travel/returnees.html",
        {
            **context,
            "form": form,
            "unit": unit,
            "tabs": tabs,
            "outcome": filters.outcome,
            "tab_query": tab_query.urlencode(),
            "can_export": user_has_perm_anywhere(request.user, Perm.EXPORT),
            "can_file": user_has_perm_anywhere(request.user, Perm.DECLARE_FOR_OTHERS),
        },
    )


@login_required
@renders_app_errors
def returnees_export(request: HttpRequest) -> HttpResponse:
    """Download the filtered list; ID and phone masked unless the caller may see them."""
    export, scope = export_with_numbers(request, "travel.returneecard")
    _form, filters, unit = _returnee_query(request)
    cards = scope.filter(selectors.returnees_search(request.user, filters), "person__unit_path")
    export.check_size(cards.count(), EXPORT_LIMIT)
    headers = [
        pgettext("person", "Name"),
        _("Document number"),
        _("Phone"),
        _("Unit"),
        _("Planned return"),
        _("Decision"),
        _("Highest risk level"),
        _("Quarantine until"),
        _("Rule applied"),
        _("Explanation"),
        _("Filed by"),
        _("Updated at"),
    ]
    levels = dict(RiskLevel.choices)

    def lines() -> Any:
        for card in cards.iterator(chunk_size=2000):
            person = card.person
            id_number, phone = export.numbers(person)
            yield [
                person.name,
                id_number,
                phone,
                person.unit.name,
                card.planned_return.isoformat() if card.planned_return else "",
                card.get_outcome_display(),
                str(levels.get(card.decision_level or "", "")),
                card.decision_until.isoformat() if card.decision_until else "",
                card.decision_rule or "",
                card.decision_text or "",
                card.get_filed_by_display(),
                timezone.localtime(card.updated_at).strftime("%Y-%m-%d %H:%M"),
            ]

    return export.response(
        name="returnees", headers=headers, rows=lines(), unit_path=unit.path if unit else ""
    )


# ------------------------------------------------------------------ risk areas


def _set_level_defaults() -> dict[str, str]:
    """The form's values before anything is typed: today, and the look-back window's stays."""
    today = timezone.localdate()
    return {
        "region": "",
        "level": RiskLevel.HIGH,
        "effective_from": today.isoformat(),
        "stays_since": default_stays_since(today, today).isoformat(),
        "notice": "",
    }


def _risk_areas_page(
    request: HttpRequest,
    *,
    values: dict[str, str] | None = None,
    error: ApplicationError | None = None,
) -> HttpResponse:
    """The list in force, with the set-a-level form (its values and problems kept)."""
    form = RiskAreaFilterForm(request.GET)
    data = form.cleaned_data if form.is_valid() else {}
    rows = selectors.risk_areas_current(query=data.get("q", ""), level=data.get("level", ""))
    today = timezone.localdate()
    errors = error.detail if error is not None and isinstance(error.detail, dict) else {}
    field_errors = {key: errors[key] for key in SET_LEVEL_FIELDS if key in errors}
    other = [str(m) for key, found in errors.items() if key not in field_errors for m in found]
    if error is not None and not errors:
        other = [str(error.message)]
    window = look_back_window(today)
    return render(
        request,
        "travel/risk_areas.html",
        {
            **page_context(request, rows, 50),
            "form": form,
            "can_manage": user_has_perm_anywhere(request.user, Perm.MANAGE_OUTBREAK),
            "batches": list(selectors.risk_area_batches()[:10]),
            "level_choices": RiskLevel.choices,
            "today": today,
            "lookback_days": (window[1] - window[0]).days,
            "template_headers": importing.template_headers(),
            "values": values or _set_level_defaults(),
            "errors": field_errors,
            "other_errors": other,
        },
        status=error.status if error is not None else 200,
    )


# The set-a-level form's fields: a problem with one of them is shown at it.
SET_LEVEL_FIELDS = ("region", "level", "effective_from", "stays_since", "notice")


@login_required
@renders_app_errors
def risk_areas(request: HttpRequest) -> HttpResponse:
    """The list in force today, a form to set a region's level, the import and the versions."""
    return _risk_areas_page(request)


def _report_change(request: HttpRequest, change: services.ListChange) -> None:
    if change.batch is None:
        messages.info(
            request,
            _("Nothing changed: the list already has these levels. No version was saved."),
        )
        return
    messages.success(
        request,
        _(
            "Version %(version)d saved: %(changed)d region(s) changed, %(raised)d raised, "
            "%(exposures)d itinerary(ies) in the look-back window found exposed."
        )
        % {
            "version": change.batch.pk,
            "changed": len(change.changed),
            "raised": len(change.raised),
            "exposures": len(change.exposures),
        },
    )


def _posted_day(posted: dict[str, str], name: str, errors: dict[str, list[str]]) -> dt.date | None:
    try:
        return parse_date(posted.get(name, ""))
    except (ValueError, OverflowError):
        errors[name] = [_("Not a date.")]
        return None


@login_required
@require_POST
@renders_app_errors
@requires(Perm.MANAGE_OUTBREAK)
def risk_area_set(request: HttpRequest) -> HttpResponse:
    """Set one region's level from a day (a one-row version of the list).

    A problem is shown at its field on the list page, with what was typed kept.
    """
    posted = {name: request.POST.get(name, "").strip() for name in SET_LEVEL_FIELDS}
    errors: dict[str, list[str]] = {}
    code, problem = resolve_region(posted["region"])
    if problem or not code:
        errors["region"] = [problem or _("Choose a region.")]
    day = _posted_day(posted, "effective_from", errors) or timezone.localdate()
    stays_since = _posted_day(posted, "stays_since", errors)
    try:
        if errors:
            raise InvalidInput(detail=errors)
        change = services.risk_area_set(
            actor=request.user,
            division=Division.objects.get(code=code),
            level=posted["level"],
            effective_from=day,
            stays_since=stays_since,
            notice=posted["notice"],
        )
    except InvalidInput as exc:
        return _risk_areas_page(request, values=posted, error=exc)
    _report_change(request, change)
    return redirect("travel:risk_areas")


@login_required
@require_POST
@renders_app_errors
def risk_area_lift(request: HttpRequest, pk: int) -> HttpResponse:
    """Take a region off the list from today (the page asks for confirmation)."""
    area = selectors.risk_area_get(pk)
    services.risk_area_lift(actor=request.user, area=area)
    messages.success(request, _("%(region)s was taken off the list.") % {"region": area.division})
    return redirect("travel:risk_areas")


@login_required
@renders_app_errors
@requires(Perm.MANAGE_OUTBREAK)
def risk_area_import(request: HttpRequest) -> HttpResponse:
    """Upload a notice's list: checked row by row, imported whole or not at all."""
    error: ApplicationError | None = None
    if request.method == "POST":
        upload = request.FILES.get("file")
        try:
            if upload is None:
                raise InvalidInput(detail={"file": [_("Choose a file.")]})
            change = importing.risk_areas_import(
                actor=request.user, upload=upload, notice=request.POST.get("notice", "")
            )
        except ApplicationError as exc:
            error = exc
        else:
            _report_change(request, change)
            if change.ignored_columns:  # never dropped silently
                messages.warning(
                    request,
                    _("Ignored columns: %(columns)s.")
                    % {"columns": "、".join(change.ignored_columns)},
                )
            return redirect("travel:risk_areas")
    detail = error.detail if error is not None and isinstance(error.detail, dict) else {}
    return render(
        request,
        "travel/risk_area_import.html",
        {
            "error": error,
            "row_errors": detail.get("rows", []),
            "template_headers": importing.template_headers(),
        },
        status=error.status if error else 200,
    )


@login_required
def risk_area_template(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(importing.template_workbook(), content_type=XLSX)
    response["Content-Disposition"] = 'attachment; filename="risk-areas-template.xlsx"'
    return response


@login_required
@renders_app_errors
def risk_area_history(request: HttpRequest) -> HttpResponse:
    """Every row the list has had (all versions), optionally for one region."""
    code = request.GET.get("code", "").strip()
    rows = selectors.risk_area_history(code=code)
    return render(
        request,
        "travel/risk_area_history.html",
        {**page_context(request, rows, 100), "code": code},
    )


# ------------------------------------------------------------------ return rules


def _rule_rows(rules: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    return [(value, label, rules.get(value)) for value, label in reversed(RiskLevel.choices)]


@login_required
@renders_app_errors
def rules(request: HttpRequest) -> HttpResponse:
    """The group-wide rules per risk level and the units' overrides (一企一策)."""
    if request.method == "POST":
        level = request.POST.get("level", "")
        services.rule_save(actor=request.user, unit=None, level=level, raw=request.POST.dict())
        messages.success(request, _("The group rule was saved."))
        return redirect("travel:rules")
    code = request.GET.get("unit", "").strip()
    if code:
        unit = selectors.unit_for_rules(request.user, code=code)
        return redirect("travel:unit_rules", unit_id=unit.pk)
    return render(
        request,
        "travel/rules.html",
        {
            "rows": _rule_rows(selectors.group_rules()),
            "overrides": list(selectors.overrides_visible(request.user)[:500]),
            "can_manage": user_has_perm_anywhere(request.user, Perm.MANAGE_OUTBREAK),
            "can_override": user_has_perm_anywhere(request.user, Perm.MANAGE_RETURN_RULES),
            "mode_choices": QuarantineMode.choices,
        },
    )


@login_required
@renders_app_errors
def unit_rules(request: HttpRequest, unit_id: int) -> HttpResponse:
    """A unit's own rules per level; blank levels follow the parent's or the group's rule."""
    unit = selectors.unit_for_rules(request.user, pk=unit_id)
    if request.method == "POST":
        level = request.POST.get("level", "")
        if request.POST.get("delete"):
            rule = selectors.unit_rules(request.user, unit).get(level)
            if rule is None:
                raise NotFound()
            services.rule_delete(actor=request.user, rule=rule)
            messages.success(request, _("The override was deleted."))
        else:
            services.rule_save(actor=request.user, unit=unit, level=level, raw=request.POST.dict())
            messages.success(request, _("The override was saved."))
        return redirect("travel:unit_rules", unit_id=unit.pk)
    return render(
        request,
        "travel/unit_rules.html",
        {
            "unit": unit,
            "rows": _rule_rows(selectors.unit_rules(request.user, unit)),
            "group": selectors.group_rules(),
            "can_manage": scope_for(request.user, Perm.MANAGE_RETURN_RULES).covers(unit.path),
            "mode_choices": QuarantineMode.choices,
        },
    )
