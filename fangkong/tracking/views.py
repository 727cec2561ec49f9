"""Pages of tracking: the overview, manual cards, close-out checks, contacts and case trees.

The cards themselves are ledger items: their list, page, follow-ups and the day's
worklist are the ledger's pages; these pages add what is particular to tracking.
"""

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from fangkong.accounts.decorators import requires
from fangkong.accounts.roles import Perm
from fangkong.accounts.selectors import require_perm, scope_for, user_has_perm_anywhere
from fangkong.core.errors import ApplicationError, InvalidInput, PermissionDenied
from fangkong.core.exports import Export
from fangkong.core.web import page_context, renders_app_errors
from fangkong.health.models import OutbreakProfile
from fangkong.orgs.selectors import mask_id_number

from . import rules, selectors, services
from .forms import ContactForm
from .kinds import ABNORMAL, CONTACT

EXPORT_LIMIT = 100_000


@login_required
@renders_app_errors
@requires(Perm.VIEW_HEALTH)
def home(request: HttpRequest) -> HttpResponse:
    """Tracking at a glance: open, overdue and waiting cards, and where to work them."""
    return render(
        request,
        "tracking/home.html",
        {
            "counts": selectors.open_counts(request.user),
            "kinds": (ABNORMAL, CONTACT),
            "can_track": user_has_perm_anywhere(request.user, Perm.TRACK),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
@renders_app_errors
@requires(Perm.TRACK)
def card_open(request: HttpRequest) -> HttpResponse:
    """Find a person and open an abnormal-person card by hand."""
    error: ApplicationError | None = None
    if request.method == "POST":
        person = selectors.person_for_tracking(request.user, request.POST.get("person"), Perm.TRACK)
        try:
            item, created = services.card_open(
                actor=request.user, person=person, reason=request.POST.get("reason", "")
            )
        except InvalidInput as exc:
            error = exc
        else:
            if created:
                messages.success(request, _("The card was opened."))
            else:
                messages.info(request, _("This person already has an open card."))
            return redirect("ledger:item", pk=item.pk)
    query = request.GET.get("q", "") or request.POST.get("q", "")
    return render(
        request,
        "tracking/open.html",
        {
            "query": query,
            "people": selectors.people_to_track(request.user, query),
            "error_text": error.as_text() if error else "",
        },
        status=error.status if error else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
@renders_app_errors
def card_close(request: HttpRequest, pk: int) -> HttpResponse:
    """Check the close-out rule; request the close-out, or escalate a card that cannot close."""
    item = selectors.card_get(request.user, pk)
    error: ApplicationError | None = None
    if request.method == "POST":
        action = request.POST.get("action")
        reason = request.POST.get("reason", "")
        try:
            if action == "escalate":
                services.card_escalate(actor=request.user, item=item, reason=reason)
                messages.success(request, _("The card was escalated."))
            else:
                services.card_request_close(actor=request.user, item=item, reason=reason)
                messages.success(request, _("The close-out was requested; it waits for approval."))
        except (InvalidInput, PermissionDenied) as exc:
            error = exc
        else:
            return redirect("ledger:item", pk=item.pk)
    can_track = scope_for(request.user, Perm.TRACK).covers(item.unit_path)
    return render(
        request,
        "tracking/close.html",
        {
            "item": item,
            "readiness": rules.readiness(item),
            "can_track": can_track,
            "error_text": error.as_text() if error else "",
        },
        status=error.status if error else 200,
    )


def _contacts_query(request: HttpRequest) -> tuple[Any, Any]:
    case_id = request.GET.get("case", "")
    case = selectors.person_for_tracking(request.user, case_id) if case_id else None
    return selectors.contacts_visible(request.user, query=request.GET.get("q", ""), case=case), case


@login_required
@require_http_methods(["GET", "POST"])
@renders_app_errors
@requires(Perm.VIEW_HEALTH)
def contacts(request: HttpRequest) -> HttpResponse:
    """Close contacts: the list (search, paging, export) and recording a new contact."""
    can_track = user_has_perm_anywhere(request.user, Perm.TRACK)
    form = ContactForm(request.POST or None) if can_track else None
    error: ApplicationError | None = None
    if request.method == "POST":
        require_perm(request.user, Perm.TRACK)  # only a tracker records a contact
        if form is not None and form.is_valid():
            data = form.cleaned_data
            try:
                person = selectors.person_by_document(request.user, data["person_document"])
                case = selectors.person_by_document(request.user, data["case_document"])
                _link, item = services.contact_record(
                    actor=request.user,
                    person=person,
                    case=case,
                    last_contact_day=data["last_contact_day"],
                    relation=data["relation"],
                    note=data["note"],
                )
            except ApplicationError as exc:
                error = exc
            else:
                if item is None:
                    messages.info(
                        request, _("The contact was recorded; the observation period is over.")
                    )
                else:
                    messages.success(request, _("The contact was recorded and is observed."))
                return redirect("tracking:contacts")
    links, case = _contacts_query(request)
    context = page_context(request, links, 50)
    sensitive = scope_for(request.user, Perm.VIEW_SENSITIVE)
    observed_until = _observed_until()
    return render(
        request,
        "tracking/contacts.html",
        {
            **context,
            "rows": [
                (link, observed_until(link), _doc(link.person, sensitive))
                for link in context["page_obj"]
            ],
            "case": case,
            "query": request.GET.get("q", ""),
            "form": form,
            "error_text": error.as_text() if error else "",
            "can_export": user_has_perm_anywhere(request.user, Perm.EXPORT),
            "today": timezone.localdate(),
        },
        status=error.status if error else (422 if form is not None and form.errors else 200),
    )


def _observed_until() -> Any:
    """Return link -> last day of observation, reading the profile once per page."""
    days = dt.timedelta(days=OutbreakProfile.current().follow_up_days)
    return lambda link: link.last_contact_day + days


def _doc(person: Any, sensitive: Any) -> str:
    return (
        person.id_number if sensitive.covers(person.unit_path) else mask_id_number(person.id_number)
    )


@login_required
@renders_app_errors
@requires(Perm.VIEW_HEALTH)
def contacts_export(request: HttpRequest) -> HttpResponse:
    """Download the filtered contacts (document numbers masked); every export is audited."""
    scope = scope_for(request.user, Perm.EXPORT)
    export = Export(request, object_type="tracking.closecontact", scope=scope)
    links, _case = _contacts_query(request)
    links = scope.filter(links, "person__unit_path")
    export.check_size(links.count(), EXPORT_LIMIT)
    headers = [
        _("Close contact"),
        _("Document number"),
        _("Unit"),
        _("Case"),
        _("Relation"),
        _("Last contact"),
        _("Observed until"),
        _("Note"),
    ]

    def lines() -> Any:
        for link in links.iterator(chunk_size=2000):
            id_number, _phone = export.numbers(link.person)
            yield [
                link.person.name,
                id_number,
                link.person.unit.name,
                link.case.name,
                link.get_relation_display(),
                link.last_contact_day.isoformat(),
                observed_until(link).isoformat(),
                link.note,
            ]

    observed_until = _observed_until()
    return export.response(
        name="contacts", headers=headers, rows=lines(), label="close contacts export"
    )


@login_required
@renders_app_errors
@requires(Perm.VIEW_HEALTH)
def cases(request: HttpRequest) -> HttpResponse:
    """Cases with recorded contacts; each opens its who-exposed-whom tree."""
    context = page_context(request, selectors.cases_visible(request.user), 50)
    return render(request, "tracking/cases.html", context)


@login_required
@renders_app_errors
def case_tree(request: HttpRequest, person_id: int) -> HttpResponse:
    """Who a case exposed (and they in turn), and by whom the case was exposed."""
    case = selectors.person_for_tracking(request.user, person_id)
    return render(
        request,
        "tracking/case_tree.html",
        {"case": case, "tree": selectors.case_tree(request.user, case)},
    )
