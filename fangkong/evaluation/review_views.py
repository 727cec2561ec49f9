"""The bad-review pages (差评): the list with its clocks, filters, paging and export; one bad
review with its rating, callbacks, outcome, the appeal's decision and the 追评 link; a
window-staff member's own ratings; the coverage gaps of the month.

Thin: selectors read, services write. A refused form comes back with what was typed and
the problem at its field (status 422 or 409), never as a redirect that loses the text.
"""

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.accounts.actors import acting_user
from fangkong.accounts.decorators import requires
from fangkong.accounts.roles import Perm
from fangkong.accounts.selectors import export_of, scope_for, user_has_perm_anywhere
from fangkong.core.audit import audit_record
from fangkong.core.errors import ApplicationError, InvalidInput
from fangkong.core.models import AuditLog
from fangkong.core.qr import qr_data_uri
from fangkong.core.retention import local_midnight
from fangkong.core.text import local_minute, parse_date
from fangkong.core.web import form_refusal, page_context, renders_app_errors
from fangkong.ledger.kinds import find as find_kind
from fangkong.orgs.models import OrgUnit

from . import selectors, services
from .figures import BAD_REVIEW_FIGURES, FIGURE_LABELS
from .ledger_kind import APPEALED, CALLBACK_PENDING, HANDLING, KIND
from .models import BadReview, Callback, Level, Outcome, Rating, Service, Staff, Window

EXPORT_LIMIT = 100_000
PER_PAGE = 50


def _contact_for_the_caller(user: Any, bad: BadReview) -> dict[str, str] | None:
    """The name and phone the person left on the case, for whoever calls them back; the
    view is audited as every view of an unmasked number is."""
    case = bad.rating.case
    if not (case.person_name or case.person_phone):
        return None
    audit_record(
        actor=user,
        action=AuditLog.Action.VIEW_SENSITIVE,
        obj=case,
        object_repr=f"case #{case.pk}",
        scope_path=case.unit_path,
        after={"fields": ["person_name", "person_phone"], "for": "callback"},
    )
    return {"name": case.person_name, "phone": case.person_phone}


def _id_or_none(request: HttpRequest, name: str) -> int | None:
    raw = request.GET.get(name, "").strip()
    if not raw:
        return None
    if not raw.isdigit() or len(raw) > 18:
        raise InvalidInput.at(name, _("Choose from the list."))
    return int(raw)


def _day(request: HttpRequest, name: str) -> dt.date | None:
    raw = request.GET.get(name, "").strip()
    if not raw:
        return None
    try:
        day = parse_date(raw)
    except ValueError:
        day = None
    if day is None:
        raise InvalidInput.at(name, _("Enter a date as YYYY-MM-DD."))
    return day


def _units_with(units: Any, chosen: OrgUnit | None) -> list[OrgUnit]:
    """The list's centres and stations, and the unit filtered on if it is none of them."""
    found = list(units)
    if chosen is not None and chosen not in found:
        found.insert(0, chosen)
    return found


BAD_LEVELS = (2, 1)  # the bad reviews' levels, as their list offers them
ALL_LEVELS = (5, 4, 3, 2, 1)
# The filters under which a refused value shows its problem (the others show theirs above).
RATING_FILTER_FIELDS = ("unit", "window", "staff", "service", "level", "from", "to")
REVIEW_FILTER_FIELDS = (*RATING_FILTER_FIELDS, "state")


def review_filters(request: HttpRequest) -> selectors.ReviewFilter:
    """The bad reviews' filters from the query string: the ratings' and their own state,
    overdue and figure; a bad value is a 422 naming its field."""
    filters = rating_filters(request, levels=BAD_LEVELS)
    state = request.GET.get("state", "").strip()
    if state:
        if state != "open" and state not in _state_labels():
            raise InvalidInput.at("state", _("Choose a state from the list."))
        filters.state = state
    filters.overdue = request.GET.get("overdue") in ("1", "on", "true")
    figure = request.GET.get("figure", "").strip()
    if figure:
        if figure not in BAD_REVIEW_FIGURES:
            raise InvalidInput.at("figure", _("Choose a figure from the list."))
        filters.figure = figure
    return filters


def rating_filters(request: HttpRequest, *, levels: tuple[int, ...]) -> selectors.ReviewFilter:
    """A list of ratings' filters (unit, window, staff member, service, a level of
    ``levels``, counted, from/to) from the query string; a bad value is a 422 naming its
    field."""
    user = request.user
    filters = selectors.ReviewFilter()
    unit_id = _id_or_none(request, "unit")
    if unit_id is not None:
        # any unit of the viewer's (the figures page links its child units, of any kind)
        found = OrgUnit.objects.filter(pk=unit_id)
        unit = scope_for(user, Perm.VIEW_EVALUATION).filter(found, "path").first()
        if unit is None:
            raise InvalidInput.at("unit", _("Choose a centre or station from the list."))
        filters.unit = unit
        filters.unit_only = request.GET.get("own") == "1"
    window_id = _id_or_none(request, "window")
    if window_id is not None:
        window = (
            scope_for(user, Perm.VIEW_EVALUATION)
            .filter(Window.objects.filter(pk=window_id), "unit_path")
            .first()
        )
        if window is None:
            raise InvalidInput.at("window", _("Choose a window from the list."))
        filters.window = window
    staff_id = _id_or_none(request, "staff")
    if staff_id is not None:
        staff = (
            scope_for(user, Perm.VIEW_EVALUATION)
            .filter(Staff.objects.filter(pk=staff_id), "window__unit_path")
            .first()
        )
        if staff is None:
            raise InvalidInput.at("staff", _("Choose a staff member from the list."))
        filters.staff = staff
    service_id = _id_or_none(request, "service")
    if service_id is not None:
        service = Service.objects.filter(pk=service_id).first()
        if service is None:
            raise InvalidInput.at("service", _("Choose a service from the list."))
        filters.service = service
    level = request.GET.get("level", "").strip()
    if level:
        if level not in {str(n) for n in levels}:
            raise InvalidInput.at("level", _("Choose a rating level from the list."))
        filters.level = int(level)
    filters.counted = request.GET.get("counted") in ("1", "on", "true")
    since, until = _day(request, "from"), _day(request, "to")
    if since and until and until < since:
        raise InvalidInput.at("to", _("The end comes before the start."))
    filters.since = local_midnight(since) if since else None
    filters.until = local_midnight(until + dt.timedelta(days=1)) if until else None
    return filters


def _state_labels() -> dict[str, str]:
    spec = find_kind(KIND)
    return {state.key: str(state.label) for state in spec.states} if spec else {}


def _row(user: Any, bad_review: BadReview, now: dt.datetime) -> dict[str, Any]:
    rating = bad_review.rating
    return {
        "bad": bad_review,
        "rating": rating,
        "unit": rating.case.unit,
        "staff_name": selectors.staff_name_as_seen(user, rating.staff, rating.unit_path),
        "state": _state_labels().get(bad_review.item.state, "") if bad_review.item else "",
        "clocks": selectors.clocks_of(bad_review, now),
    }


def _with_clocks(rows: Any) -> Any:
    return rows.prefetch_related("item__clocks")


@login_required
@requires(Perm.VIEW_EVALUATION)
@renders_app_errors
def reviews(request: HttpRequest) -> HttpResponse:
    """Bad reviews in scope, newest first, with their clocks (red when overdue). A bad filter
    value shows the list's page again, 422, with the problem at that filter and no rows."""
    filters, refused = _list_filters(request, review_filters, REVIEW_FILTER_FIELDS)
    rows = _with_clocks(selectors.bad_reviews_search(request.user, filters))
    if refused:
        rows = rows.none()
    context = page_context(request, rows, PER_PAGE)
    now = timezone.now()
    context["rows"] = [_row(request.user, bad, now) for bad in context["page_obj"]]
    return render(
        request,
        "evaluation/reviews.html",
        {
            **context,
            **_filter_choices(request, filters),
            "levels": [(level, Level(level).label) for level in BAD_LEVELS],
            "states": list(_state_labels().items()),
            # from the query: a figure's list keeps it when another filter is refused
            "figure_label": FIGURE_LABELS.get(request.GET.get("figure", ""), ""),
            "refused": refused,
        },
        status=refused["status"] if refused else 200,
    )


def _list_filters(
    request: HttpRequest,
    read: Callable[[HttpRequest], selectors.ReviewFilter],
    fields: tuple[str, ...],
) -> tuple[selectors.ReviewFilter, dict[str, Any]]:
    """A list's filters, or empty ones and the refusal to show at the bad one's field."""
    try:
        return read(request), {}
    except InvalidInput as exc:
        return selectors.ReviewFilter(), form_refusal(exc, request, fields)


def _filter_choices(request: HttpRequest, filters: selectors.ReviewFilter) -> dict[str, Any]:
    """The filter form's lists: the centres and stations, windows, staff and services."""
    in_scope = scope_for(request.user, Perm.VIEW_EVALUATION)
    return {
        "q": request.GET,
        "units": _units_with(
            selectors.service_units(request.user, Perm.VIEW_EVALUATION), filters.unit
        ),
        "windows": in_scope.filter(Window.objects.select_related("unit"), "unit_path").order_by(
            "unit_path", "number"
        ),
        "staff_list": in_scope.filter(Staff.objects.all(), "window__unit_path").order_by(
            "staff_number"
        ),
        "service_list": Service.objects.order_by("category", "code"),
        "can_export": user_has_perm_anywhere(request.user, Perm.EXPORT),
    }


@login_required
@requires(Perm.VIEW_EVALUATION)
@renders_app_errors
def ratings(request: HttpRequest) -> HttpResponse:
    """Every rating in scope, good and bad, newest first: what the figures page counts."""
    filters, refused = _list_filters(request, _all_ratings_filters, RATING_FILTER_FIELDS)
    rows = selectors.ratings_search(request.user, filters)
    if refused:
        rows = rows.none()
    context = page_context(request, rows, PER_PAGE)
    context["rows"] = [_rating_row(request.user, rating) for rating in context["page_obj"]]
    return render(
        request,
        "evaluation/ratings.html",
        {
            **context,
            **_filter_choices(request, filters),
            "levels": [(level, Level(level).label) for level in ALL_LEVELS],
            "refused": refused,
        },
        status=refused["status"] if refused else 200,
    )


def _all_ratings_filters(request: HttpRequest) -> selectors.ReviewFilter:
    return rating_filters(request, levels=ALL_LEVELS)


def _rating_row(user: Any, rating: Rating) -> dict[str, Any]:
    bad_review = getattr(rating, "bad_review", None)
    return {
        "rating": rating,
        "staff_name": selectors.staff_name_as_seen(user, rating.staff, rating.unit_path),
        "bad_review": bad_review,
    }


def _rating_headers() -> list[str]:
    """The columns of a rating in both lists' exports (then each list's own)."""
    return [
        _("Rated at"),
        _("Centre or station"),
        _("Window"),
        _("Staff member"),
        _("Service"),
        _("Level"),
        _("Tags"),
        _("Comment"),
    ]


def _rating_cells(user: Any, rating: Rating) -> list[Any]:
    """A rating as both exports write it: nothing of the person who rated, the staff
    member's name as the viewer may see it."""
    return [
        local_minute(rating.rated_at),
        rating.case.unit.place,
        str(rating.window or ""),
        selectors.staff_name_as_seen(user, rating.staff, rating.unit_path),
        rating.service.name,
        str(Level(rating.level).label),
        "、".join(rating.tags),
        rating.text,
    ]


@login_required
@renders_app_errors
def ratings_export(request: HttpRequest) -> HttpResponse:
    """The filtered ratings as a spreadsheet: no personal data of the person who rated."""
    filters = _all_ratings_filters(request)
    export, rows = export_of(
        request,
        "evaluation.rating",
        selectors.ratings_search(request.user, filters),
        "unit_path",
        limit=EXPORT_LIMIT,
    )

    def lines() -> Any:
        for rating in rows.iterator(chunk_size=2000):
            excluded = _("Yes") if rating.excluded else ""
            yield [*_rating_cells(request.user, rating), excluded]

    return export.response(
        name="ratings",
        headers=[*_rating_headers(), _("Excluded by an upheld appeal")],
        rows=lines(),
        unit_path=filters.unit.path if filters.unit else "",
        label="ratings export",
    )


@login_required
@renders_app_errors
def reviews_export(request: HttpRequest) -> HttpResponse:
    """The filtered list as a spreadsheet: no personal data of the person who rated."""
    filters = review_filters(request)
    export, rows = export_of(
        request,
        "evaluation.badreview",
        selectors.bad_reviews_search(request.user, filters),
        "rating__unit_path",
        limit=EXPORT_LIMIT,
    )
    labels = _state_labels()
    headers = [
        *_rating_headers(),
        _("State"),
        _("Callback due"),
        _("Rectification due"),
        _("Overdue"),
        _("Outcome"),
        _("Public reply"),
    ]

    def lines() -> Any:
        for bad in rows.iterator(chunk_size=2000):
            item = bad.item
            yield [
                *_rating_cells(request.user, bad.rating),
                labels.get(item.state, "") if item else "",
                local_minute(bad.callback_due_at),
                local_minute(bad.rectify_due_at),
                _("Yes") if item and item.is_overdue and item.is_open else "",
                str(bad.get_outcome_display()) if bad.outcome else "",
                bad.reply,
            ]

    return export.response(
        name="bad-reviews",
        headers=headers,
        rows=lines(),
        unit_path=filters.unit.path if filters.unit else "",
        label="bad reviews export",
    )


# ------------------------------------------------------------------ one bad review


def problem_url(bad: BadReview) -> str:
    """The rectification problem's page where it is routed, else its ledger item's."""
    if bad.problem_id is None:
        return ""
    try:
        return reverse("rectification:problem", args=[bad.problem_id])
    except NoReverseMatch:
        item_id = getattr(bad.problem, "item_id", None)
        return reverse("ledger:item", args=[item_id]) if item_id else ""


def _detail_context(request: HttpRequest, bad: BadReview) -> dict[str, Any]:
    user = request.user
    rating, item = bad.rating, bad.item
    path = rating.unit_path
    handles = scope_for(user, Perm.HANDLE_REVIEWS).covers(path)
    decides = scope_for(user, Perm.DECIDE_APPEALS).covers(path) and not services.is_service_head(
        acting_user(user), path
    )
    state = item.state if item else ""
    is_open = bool(item and item.is_open)
    follow_up = ""
    if bad.follow_up_sent_at and bad.follow_up_at is None and is_open:
        follow_up = request.build_absolute_uri(selectors.follow_up_path(bad))
    calls = handles and is_open and state in (CALLBACK_PENDING, HANDLING)
    return {
        "contact": _contact_for_the_caller(user, bad) if calls else None,
        "bad": bad,
        "rating": rating,
        "item": item,
        "unit": rating.case.unit,
        "state_label": _state_labels().get(state, ""),
        "staff_name": selectors.staff_name_as_seen(user, rating.staff, path),
        "callbacks": bad.callbacks.select_related("caller"),
        "clocks": selectors.clocks_of(bad),
        "can_call": handles and is_open and state in (CALLBACK_PENDING, HANDLING),
        "can_outcome": handles and is_open and state == HANDLING,
        "can_decide": decides and is_open and state == APPEALED,
        "hows": Callback.How.choices,
        "outcomes": Outcome.choices,
        "problem_url": problem_url(bad),
        "follow_up_url": follow_up,
        "follow_up_qr": qr_data_uri(follow_up) if follow_up else "",
        "follow_up_level": Level(bad.follow_up_level).label if bad.follow_up_level else "",
        "level_label": Level(rating.level).label,
        "refused": {},
    }


def _render_detail(
    request: HttpRequest, bad: BadReview, *, refused: dict[str, Any] | None = None, status=200
) -> HttpResponse:
    context = _detail_context(request, bad)
    refused = refused or {}
    if refused:  # a form no longer shown (the step has passed) reports above the page
        shown = {"callback": "can_call", "outcome": "can_outcome", "appeal": "can_decide"}
        refused["shown"] = bool(context[shown[refused["form"]]])
        if not refused["shown"] and not refused["text"]:
            refused["text"] = "；".join(m for ms in refused["errors"].values() for m in ms)
    context["refused"] = refused
    return render(request, "evaluation/review.html", context, status=status)


FORM_FIELDS = {
    "callback": ("how", "reached", "said"),
    "outcome": ("outcome", "text", "reply"),
    "appeal": ("upheld", "note"),
}


@login_required
@renders_app_errors
def review(request: HttpRequest, pk: int) -> HttpResponse:
    """One bad review; its forms post back here and a refusal keeps what was typed."""
    bad = selectors.bad_review_get(request.user, pk)
    if request.method != "POST":
        return _render_detail(request, bad)
    form = request.POST.get("form", "")
    if form not in FORM_FIELDS:
        raise InvalidInput.at("form", _("Choose an action on the page."))
    try:
        message = _apply(request, bad, form)
    except ApplicationError as exc:
        detail = exc.detail if isinstance(exc.detail, dict) else {}
        refused = {
            "form": form,
            "values": {name: request.POST.get(name, "") for name in FORM_FIELDS[form]},
            "errors": {name: [str(m) for m in problems] for name, problems in detail.items()},
            "text": "" if detail else exc.as_text(),
        }
        bad = selectors.bad_review_get(request.user, pk)
        return _render_detail(request, bad, refused=refused, status=exc.status)
    messages.success(request, message)
    return redirect("evaluation:review", pk=bad.pk)


def _apply(request: HttpRequest, bad: BadReview, form: str) -> str:
    post, user = request.POST, request.user
    if form == "callback":
        reached = post.get("reached", "")
        if reached not in ("1", "0"):
            raise InvalidInput.at("reached", _("Say whether the person was reached."))
        services.callback_record(
            actor=user,
            bad_review=bad,
            how=post.get("how", ""),
            reached=reached == "1",
            said=post.get("said", ""),
        )
        return _("The callback was recorded.")
    if form == "outcome":
        outcome = post.get("outcome", "")
        if outcome not in Outcome.values:
            raise InvalidInput.at("outcome", _("Choose an outcome from the list."))
        services.outcome_set(
            actor=user,
            bad_review=bad,
            outcome=outcome,
            text=post.get("text", ""),
            reply=post.get("reply", ""),
        )
        return {
            Outcome.FIXED_AT_ONCE: _("Fixed at once: give the person the follow-up link."),
            Outcome.RECTIFY: _("A rectification problem was opened with the deadline."),
            Outcome.EXPLAINED: _("The explanation was recorded; the bad review is closing."),
            Outcome.APPEAL: _("The appeal was filed; a reviewer other than the head decides it."),
        }[Outcome(outcome)]
    upheld = post.get("upheld", "")
    if upheld not in ("1", "0"):
        raise InvalidInput.at("upheld", _("Choose whether the appeal is upheld."))
    services.appeal_decide(
        actor=user, bad_review=bad, upheld=upheld == "1", note=post.get("note", "")
    )
    if upheld == "1":
        return _("The appeal was upheld: the rating leaves the figures and stays in history.")
    return _("The appeal was rejected: the bad review goes back to its outcome.")


# ------------------------------------------------------------------ a staff member's own


@login_required
@requires(Perm.REGISTER_CASES)
@renders_app_errors
def mine(request: HttpRequest) -> HttpResponse:
    """A window-staff member's ratings this month, or their bad reviews still open."""
    open_bad = request.GET.get("open_bad") == "1"
    filters = selectors.MineFilter(since=selectors.month_start(), open_bad=open_bad)
    rows = selectors.my_ratings(request.user, filters)
    context = page_context(request, rows, PER_PAGE)
    return render(
        request,
        "evaluation/review_mine.html",
        {
            **context,
            "open_bad": open_bad,
            "good_rate": None if open_bad else selectors.good_rate(rows),
            "since": filters.since,
        },
    )


@login_required
@requires(Perm.VIEW_EVALUATION)
@renders_app_errors
def gaps(request: HttpRequest) -> HttpResponse:
    """Services offered at a centre or station without a rating there this month."""
    since = selectors.month_start()
    rows = selectors.coverage_gaps(request.user, since)
    context = page_context(request, rows, PER_PAGE)
    return render(request, "evaluation/review_gaps.html", {**context, "since": since})
