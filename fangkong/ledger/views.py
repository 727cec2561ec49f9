"""Ledger pages: the 台账 per kind, the item page, the tracker's worklist, the calendar.

Thin: selectors read, services write. Every action on an item is one POST to
``item_action``; its outcome comes back as a message on the page it was sent from.
"""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from fangkong.accounts.actors import Viewer
from fangkong.accounts.decorators import requires
from fangkong.accounts.models import User
from fangkong.accounts.roles import Perm
from fangkong.accounts.selectors import export_with_numbers, scope_for, user_has_perm_anywhere
from fangkong.core import calendar, calendar_services
from fangkong.core.errors import ApplicationError, InvalidInput, NotFound, PermissionDenied
from fangkong.core.models import CalendarNotice
from fangkong.core.text import local_minute
from fangkong.core.web import page_context, renders_app_errors
from fangkong.orgs.selectors import person_public_fields, sensitive_view_log

from . import item_actions, kinds, selectors, services
from .forms import FollowUpForm, ItemFilterForm, OverrideForm, year_param
from .kinds import FOLLOW_UP_CLOCK, Kind
from .models import Entry, Item

EXPORT_LIMIT = 200_000


# ------------------------------------------------------------------ index and lists


@login_required
@renders_app_errors
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    """The ledgers the user may see, with their open, overdue and waiting counts."""
    visible = selectors.kinds_visible(request.user)
    if not visible:
        raise PermissionDenied()
    rows = [(spec, selectors.kind_totals(request.user, kind=spec.key)) for spec in visible]
    return render(
        request,
        "ledger/index.html",
        {
            "rows": rows,
            "can_calendar": user_has_perm_anywhere(request.user, Perm.MANAGE_OUTBREAK),
        },
    )


def _list_query(request: HttpRequest, spec: Kind) -> tuple[ItemFilterForm, Any, Any]:
    params = request.GET.copy()
    if "state" not in params:  # open items unless "all" was chosen on purpose
        params["state"] = "open"
    form = ItemFilterForm(params, kind=spec)
    data = form.cleaned_data if form.is_valid() else {"state": "open"}
    key = (data.get("unit") or "").strip()
    unit = selectors.unit_for_ledger(request.user, kind=spec.key, key=key) if key else None
    overdue = {"1": True, "0": False}.get(data.get("overdue") or "")
    items = selectors.items_for(
        request.user,
        kind=spec.key,
        unit=unit,
        state=data.get("state") or None,
        overdue=overdue,
        owner=request.user if data.get("owner") == "me" else None,
        q=data.get("q") or None,
        opened_after=data.get("opened_after"),
    )
    if data.get("owner") == "none":
        items = items.filter(owners__isnull=True)
    return form, items, unit


@login_required
@renders_app_errors
@require_GET
def item_list(request: HttpRequest, kind: str) -> HttpResponse:
    """The 台账 of one kind: filters, search, paging, export."""
    spec = kinds.get(kind)
    form, items, unit = _list_query(request, spec)
    context = page_context(request, items, 50)
    return render(
        request,
        "ledger/list.html",
        {
            **context,
            "spec": spec,
            "form": form,
            "unit": unit,
            "rows": [_row(spec, item) for item in context["page_obj"]],
            "can_export": user_has_perm_anywhere(request.user, Perm.EXPORT),
            "can_open": user_has_perm_anywhere(request.user, spec.track_perm),
        },
    )


def _row(spec: Kind, item: Item) -> dict[str, Any]:
    return {
        "item": item,
        "state": spec.state_label(item.state),
        "subject": _subject_label(spec, item),
        "owners": "、".join(_user_name(u) for u in item.owners.all()),
    }


def _subject_label(spec: Kind, item: Item) -> str:
    if spec.subject_label is not None:
        return spec.subject_label(item)
    return item.person.name if item.person_id and item.person else ""


def _user_name(user: User) -> str:
    return getattr(user, "display_name", "") or user.get_full_name() or user.username


@login_required
@renders_app_errors
@require_GET
def item_export(request: HttpRequest, kind: str) -> HttpResponse:
    """Download the filtered 台账 (xlsx or csv); ID and phone masked where the user may not
    see them; every export is audited.
    """
    spec = kinds.get(kind)
    export, scope = export_with_numbers(request, "ledger.item")
    _form, items, unit = _list_query(request, spec)
    items = scope.filter(items, "unit_path")
    export.check_size(items.count(), EXPORT_LIMIT)
    headers = [
        _("No."),
        _("Title"),
        pgettext("person", "Name"),
        _("ID number"),
        _("Phone"),
        _("Unit"),
        _("State"),
        _("Owners"),
        _("Opened at"),
        _("Next due"),
        _("Overdue"),
        _("Closed at"),
        _("Close-out reason"),
    ]

    def lines() -> Any:
        for item in items.iterator(chunk_size=2000):
            id_number, phone = export.numbers(item.person) if item.person else ("", "")
            yield [
                item.pk,
                item.title,
                _subject_label(spec, item),
                id_number,
                phone,
                item.unit.name,
                str(spec.state_label(item.state)),
                "、".join(_user_name(u) for u in item.owners.all()),
                local_minute(item.opened_at),
                local_minute(item.next_due_at)
                + (_(" (estimated)") if item.next_due_estimated else ""),
                _("Yes") if item.is_overdue else _("No"),
                local_minute(item.closed_at),
                item.close_reason,
            ]

    return export.response(
        name=f"ledger-{spec.key}",
        headers=headers,
        rows=lines(),
        unit_path=unit.path if unit else "",
        label=f"{spec.key} export",
        details={"kind": spec.key},
    )


# ------------------------------------------------------------------ item page


def _may(user: Viewer, perm: Perm, item: Item) -> bool:
    return scope_for(user, perm).covers(item.unit_path)


def _clock_label(spec: Kind, key: str) -> Any:
    if key == FOLLOW_UP_CLOCK:
        return _("Next follow-up")
    clock = spec.clock(key)
    return clock.label if clock else key


@login_required
@renders_app_errors
@require_GET
def item_page(request: HttpRequest, pk: int) -> HttpResponse:
    """One item: its deadlines, history, follow-up form and the actions the user may take."""
    return _item_render(request, selectors.item_get(request.user, pk))


def _item_render(
    request: HttpRequest, item: Item, *, refused: dict[str, Any] | None = None, status: int = 200
) -> HttpResponse:
    spec = kinds.get(item.kind)
    user = request.user
    person_fields: dict[str, Any] = {}
    if item.person is not None:
        person_fields = person_public_fields(
            item.person, sensitive_scope=scope_for(user, Perm.VIEW_SENSITIVE)
        )
        if not person_fields["masked"]:
            sensitive_view_log(user, item.person)
    work_page = spec.work_page(item) if spec.work_page else ""
    generic = not work_page  # a kind with its own page is worked there, step by step
    can_track = generic and item.is_open and _may(user, spec.track_perm, item)
    transitions = [
        t
        for t in spec.transitions_from(item.state)
        if generic
        and item.is_open
        and t.target not in spec.closed_states
        and _may(user, t.perm, item)
    ]
    closing = item.is_open and item.state == spec.closing_state and spec.close_needs_approval
    history = [
        (entry, _entry_label(spec, entry), _entry_summary(spec, entry.kind, entry.data))
        for entry in selectors.item_history(item)
    ]
    return render(
        request,
        "ledger/item.html",
        {
            "item": item,
            "spec": spec,
            "state": spec.state_label(item.state),
            "subject": _subject_label(spec, item),
            "person_fields": person_fields,
            "owners": list(item.owners.all()),
            "clocks": [(c, _clock_label(spec, c.key)) for c in selectors.item_clocks(item)],
            "history": history,
            "follow_up_form": FollowUpForm(),
            "refused": refused,
            "can_track": can_track,
            "transitions": transitions,
            "can_request_close": generic
            and item.is_open
            and not closing
            and _may(user, spec.close_perm, item),
            "can_approve": generic and closing and _may(user, spec.approve_perm, item),
            "can_reopen": generic and not item.is_open and _may(user, spec.approve_perm, item),
            "work_page": work_page,
            "can_escalate": can_track
            and spec.has_escalation
            and item.state != spec.escalated_state,
            "is_owner": any(o.pk == user.pk for o in item.owners.all()),
            "item_actions": item_actions.actions_for(user, item),
        },
        status=status,
    )


FOLLOW_UP_ENTRIES = {Entry.Kind.NOTE, Entry.Kind.MEASUREMENT, Entry.Kind.ATTACHMENT}


def _entry_label(spec: Kind, entry: Entry) -> str:
    """What a history line is: a follow-up whether it holds text, a value or a file (named
    by the item's kind: 随访, 回访, 整改进展)."""
    if entry.kind in FOLLOW_UP_ENTRIES:
        return str(spec.follow_up_label)
    return str(entry.get_kind_display())


def _entry_summary(spec: Kind, kind: str, data: dict[str, Any]) -> str:
    """Describe a state change in words: “Open → Following up”."""
    if "from" in data and "to" in data:
        return f"{spec.state_label(data['from'])} → {spec.state_label(data['to'])}"
    return ""


ACTIONS = (
    "follow_up",
    "transition",
    "request_close",
    "approve",
    "reject",
    "reopen",
    "escalate",
    "take",
)


@login_required
@renders_app_errors
@require_POST
def item_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """Apply one action to an item and go back where the form was."""
    item = selectors.item_get(request.user, pk)
    if action not in ACTIONS:
        raise NotFound()
    back = _back(request, pk)
    try:
        selectors.require_generic_steps(item)
        done = _apply(request, item, action)
    except ApplicationError as exc:
        if action == "follow_up":
            return _follow_up_refused(request, item, exc)
        messages.error(request, exc.as_text())
        return redirect(back)
    messages.success(request, done)
    return redirect(back)


def _follow_up_refused(request: HttpRequest, item: Item, exc: ApplicationError) -> HttpResponse:
    """Show the page the follow-up came from again, with what was typed and the problem at
    its field: a redirect would lose the text and put the message far above the form.
    """
    detail = exc.detail if isinstance(exc.detail, dict) else {}
    refused = {
        "values": {name: request.POST.get(name, "") for name in ("text", "value", "unit")},
        "errors": {name: [str(m) for m in problems] for name, problems in detail.items()},
        # A refusal that names no field (the item was closed meanwhile) shows at the button.
        "text": "" if detail else exc.as_text(),
    }
    from_worklist = request.POST.get("next", "").split("?")[0] == reverse("ledger:today")
    listed = selectors.my_due_today(request.user, day=timezone.localdate()).filter(pk=item.pk)
    if from_worklist and listed.exists():
        return _today_render(request, refused={item.pk: refused}, status=exc.status)
    return _item_render(request, item, refused=refused, status=exc.status)


def _back(request: HttpRequest, pk: int) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("ledger:item", args=[pk])


def _apply(request: HttpRequest, item: Item, action: str) -> str:
    user, post = request.user, request.POST
    if action == "follow_up":
        form = FollowUpForm(post, request.FILES)
        if not form.is_valid():
            raise InvalidInput(detail={k: [str(m) for m in v] for k, v in form.errors.items()})
        services.item_follow_up(
            actor=user,
            item=item,
            text=form.cleaned_data["text"],
            value=form.cleaned_data["value"],
            unit=form.cleaned_data["unit"] or "",
            file=form.cleaned_data["file"],
        )
        return _("Follow-up recorded.")
    if action == "transition":
        services.item_transition(
            actor=user, item=item, target=post.get("target", ""), note=post.get("note", "")
        )
        return _("State changed.")
    if action == "request_close":
        item = services.item_request_close(actor=user, item=item, reason=post.get("reason", ""))
        if item.is_open:
            return _("Close-out requested; it waits for approval.")
        return _("Closed out.")
    if action == "approve":
        services.item_approve_close(actor=user, item=item, note=post.get("note", ""))
        return _("Close-out approved.")
    if action == "reject":
        services.item_reject_close(actor=user, item=item, reason=post.get("reason", ""))
        return _("Close-out rejected.")
    if action == "reopen":
        services.item_reopen(actor=user, item=item, reason=post.get("reason", ""))
        return _("Reopened.")
    if action == "escalate":
        services.item_escalate(actor=user, item=item, reason=post.get("reason", ""))
        return _("Escalated; the parent unit's admins were told.")
    services.item_assign(actor=user, item=item, owners=[user])  # type: ignore[list-item]
    return _("You own this item now.")


# ------------------------------------------------------------------ tracker's worklist


@login_required
@renders_app_errors
@require_GET
@requires(Perm.TRACK)
def today(request: HttpRequest) -> HttpResponse:
    """The tracker's follow-ups due by tonight (overdue first) and the items opened today,
    built for a phone.
    """
    return _today_render(request)


def _today_render(
    request: HttpRequest, *, refused: dict[int, dict[str, Any]] | None = None, status: int = 200
) -> HttpResponse:
    refused = refused or {}
    today = timezone.localdate()
    items = list(selectors.my_due_today(request.user, day=today)[:200])
    rows = []
    for item in items:
        spec = kinds.find(item.kind)
        if spec is not None:
            opened_today = item.opened_at.astimezone(calendar.LOCAL_TZ).date() == today
            rows.append(
                {
                    **_row(spec, item),
                    "spec": spec,
                    "opened_today": opened_today,
                    "refused": refused.get(item.pk),
                }
            )
    return render(
        request,
        "ledger/today.html",
        {
            "rows": rows,
            "any_opened_today": any(row["opened_today"] for row in rows),
            "now": timezone.now(),
            "follow_up_form": FollowUpForm(),
            "any_refused": bool(refused),
        },
        status=status,
    )


# ------------------------------------------------------------------ calendar


@login_required
@renders_app_errors
@require_http_methods(["GET", "POST"])
def calendar_page(request: HttpRequest) -> HttpResponse:
    """A year's holidays and make-up days; group admins enter the State Council's notice."""
    scope_path = selectors.calendar_audit_scope(request.user)
    year = year_param(request.GET.get("year") or request.POST.get("year"))
    form = OverrideForm(initial={"is_working": "0"})
    if request.method == "POST":
        outcome = _calendar_post(request, year, scope_path)
        if isinstance(outcome, OverrideForm):
            form = outcome
        else:
            return redirect(f"{reverse('ledger:calendar')}?year={year}")
    return render(
        request,
        "ledger/calendar.html",
        {
            "year": year,
            "years": [year - 1, year + 1],
            "entries": calendar.special_days(year),
            "in_package": year in calendar.PACKAGE_OFFICIAL_YEARS,
            "notice": CalendarNotice.objects.filter(year=year).select_related("entered_by").first(),
            "official": calendar.year_is_official(year),
            "form": form,
        },
    )


def _calendar_post(request: HttpRequest, year: int, scope_path: str) -> OverrideForm | None:
    action = request.POST.get("action", "")
    try:
        if action == "save":
            form = OverrideForm(request.POST)
            if not form.is_valid():
                return form
            calendar_services.calendar_day_save(
                actor=request.user, scope_path=scope_path, **form.cleaned_data
            )
            messages.success(request, _("The override was saved."))
        elif action == "delete":
            raw = request.POST.get("override", "")
            calendar_services.calendar_day_delete(
                actor=request.user,
                scope_path=scope_path,
                override_id=int(raw) if raw.isdigit() else 0,
            )
            messages.success(request, _("The override was removed."))
        elif action == "notice":
            calendar_services.calendar_notice_enter(
                actor=request.user,
                scope_path=scope_path,
                year=year,
                note=request.POST.get("note", ""),
            )
            messages.success(request, _("The year's notice is marked as entered."))
        else:
            raise NotFound()
    except ApplicationError as exc:
        if exc.status in (403, 404):
            raise
        messages.error(request, exc.as_text())
    return None
