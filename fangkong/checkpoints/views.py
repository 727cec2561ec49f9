"""Checkpoint pages: the gate's log with manual entry, refusals and overrides, sites with
their policy, checkpoints and occupancy, visitors, the watch list, duty rosters.

Thin: selectors read, services write.
"""

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_POST

from fangkong.accounts.decorators import requires
from fangkong.accounts.models import User
from fangkong.accounts.roles import Perm
from fangkong.accounts.selectors import export_with_numbers, scope_for, user_has_perm_anywhere
from fangkong.core.errors import ApplicationError, InvalidInput, NotFound
from fangkong.core.qr import qr_data_uri
from fangkong.core.text import parse_date, time_window
from fangkong.core.web import form_refusal, page_context, renders_app_errors
from fangkong.health.models import Colour
from fangkong.orgs.selectors import unit_get_by_code
from fangkong.passes.selectors import pass_state

from . import importing, selectors, services
from .models import Direction, GateEvent, Verdict, Visitor

EXPORT_LIMIT = 100_000
GATE_PAGES = (Perm.RECORD_GATE, Perm.OVERRIDE_GATE, Perm.MANAGE_CHECKPOINTS)


def _report(request: HttpRequest, action: Any) -> Any:
    """Run ``action()``; show its message, or the problem it raised, on the next page."""
    try:
        result, message = action()
    except ApplicationError as exc:
        messages.error(request, exc.as_text())
        return None
    messages.success(request, message)
    return result


def _flag(request: HttpRequest, name: str) -> bool:
    return request.POST.get(name) in ("1", "on", "true")


# ------------------------------------------------------------------ the gate's log


def _filters(request: HttpRequest, *, refused: bool = False) -> selectors.EventFilter:
    get = request.GET
    checkpoint = site = None
    if get.get("checkpoint"):
        checkpoint = selectors.checkpoint_get(request.user, get["checkpoint"])
    if get.get("site"):
        site = selectors.site_get(request.user, get["site"])
    return selectors.EventFilter(
        q=get.get("q", ""),
        checkpoint=checkpoint,
        site=site,
        direction=get.get("direction", ""),
        verdict=get.get("verdict", ""),
        refused=refused or get.get("refused") == "1",
        admitted=get.get("admitted") == "1",
        day=parse_date(get.get("day", "")) if get.get("day") else None,
    )


def _rows_for_page(request: HttpRequest, page: Any) -> list[dict[str, Any]]:
    sensitive = scope_for(request.user, Perm.VIEW_SENSITIVE)
    may_override = scope_for(request.user, Perm.OVERRIDE_GATE)
    rows = []
    for event in page:
        rows.append(
            {
                "event": event,
                "name": selectors.holder_name(event),
                "id_number": selectors.holder_id_as_seen(sensitive, event),
                "verdict": selectors.verdict_label(request.user, event),
                "reason": selectors.reason_for(request.user, event),
                "can_override": not event.admitted and may_override.covers(event.site_path),
            }
        )
    return rows


def _log_page(
    request: HttpRequest,
    *,
    refused: bool,
    entry: dict[str, Any] | None = None,
    at: Any = None,
) -> HttpResponse:
    """The log (or its refusals); ``entry``: a refused manual entry at checkpoint ``at``,
    shown again in its form above the log of that checkpoint."""
    filters = _filters(request, refused=refused)
    if at is not None:
        filters.checkpoint = at
    context = page_context(request, selectors.events_search(request.user, filters), 50)
    list_url = reverse("checkpoints:refusals" if refused else "checkpoints:log")
    if at is not None:
        # The answer to the entry's POST: its links and downloads are the log's, of that
        # checkpoint (this address takes POSTs only).
        context["query_without_page"] = urlencode({"checkpoint": at.pk})
    context["rows"] = _rows_for_page(request, context["page_obj"])
    checkpoints = selectors.checkpoints_for_recording(request.user)
    return render(
        request,
        "checkpoints/log.html",
        {
            **context,
            "refused_only": refused,
            "filters": filters,
            "q": request.GET,
            "checkpoints": selectors.checkpoints_visible(request.user),
            "record_at": checkpoints,
            "directions": Direction.choices,
            "verdicts": Verdict.choices,
            "can_export": user_has_perm_anywhere(request.user, Perm.EXPORT),
            "entry": entry or {},
            "list_url": list_url,
            "pager_base": list_url,
        },
        status=entry["status"] if entry else 200,
    )


@login_required
@requires(*GATE_PAGES)
def log(request: HttpRequest) -> HttpResponse:
    """The gate's log in scope, with search, filters, paging, export and manual entry."""
    return _log_page(request, refused=False)


@login_required
@requires(*GATE_PAGES)
def refusals(request: HttpRequest) -> HttpResponse:
    """Refused entries with their reasons; a supervisor may override one."""
    return _log_page(request, refused=True)


@login_required
@require_POST
@renders_app_errors
def entry(request: HttpRequest) -> HttpResponse:
    """An entry at the gate: a scanned pass, or typed by ID number or plate."""
    checkpoint = selectors.checkpoint_get(request.user, request.POST.get("checkpoint"))

    def record() -> GateEvent:
        if request.POST.get("code", "").strip():
            # A scanned pass (a hand scanner types it into the field, or it is pasted).
            event, _created = services.pass_scan(
                request.user,
                checkpoint=checkpoint,
                code=request.POST["code"],
                direction=request.POST.get("direction", ""),
                temperature=request.POST.get("temperature") or None,
                client_uuid=request.POST.get("client_uuid") or None,
            )
            return event
        event, _created = services.manual_entry(
            request.user,
            checkpoint=checkpoint,
            direction=request.POST.get("direction", ""),
            id_number=request.POST.get("id_number", ""),
            plate=request.POST.get("plate", ""),
            driver=request.POST.get("driver", ""),
            temperature=request.POST.get("temperature") or None,
            disinfected=_flag(request, "disinfected") if request.POST.get("plate") else None,
            cargo=request.POST.get("cargo", ""),
            client_uuid=request.POST.get("client_uuid") or None,
        )
        return event

    try:
        event = record()
    except ApplicationError as exc:
        # The log again with the form as typed and the problem at its field: a guard does
        # not type 18 digits twice.
        entry_refused = form_refusal(exc, request, ENTRY_FIELDS)
        return _log_page(request, refused=False, entry=entry_refused, at=checkpoint)
    _report_entry(request, event)
    return redirect(f"{reverse('checkpoints:log')}?checkpoint={checkpoint.pk}")


ENTRY_FIELDS = (
    "checkpoint",
    "direction",
    "code",
    "id_number",
    "temperature",
    "plate",
    "driver",
    "cargo",
    "disinfected",
)


def _report_entry(request: HttpRequest, event: GateEvent) -> None:
    who = selectors.holder_name(event) or event.plate
    if event.admitted:
        messages.success(request, _("Admitted: %(who)s.") % {"who": who})
    else:
        messages.error(
            request,
            _("Refused: %(who)s. %(reason)s")
            % {"who": who, "reason": selectors.reason_for(request.user, event)},
        )


@login_required
@require_POST
@renders_app_errors
def override(request: HttpRequest, event_id: int) -> HttpResponse:
    """A supervisor admits a refused entry with a reason (the form asks to confirm)."""
    event = selectors.event_get(request.user, event_id)
    _report(
        request,
        lambda: (
            services.refusal_override(
                actor=request.user, event=event, reason=request.POST.get("reason", "")
            ),
            _("The refusal was overridden; the entry is admitted."),
        ),
    )
    return redirect("checkpoints:refusals")


@login_required
@renders_app_errors
def log_export(request: HttpRequest) -> HttpResponse:
    """Download the filtered log; ID numbers masked unless the user may see them."""
    export, scope = export_with_numbers(request, "checkpoints.gateevent")
    filters = _filters(request)
    rows = scope.filter(selectors.events_search(request.user, filters), "site_path")
    export.check_size(rows.count(), EXPORT_LIMIT)
    headers = [
        _("Time"),
        _("Checkpoint"),
        _("Direction"),
        pgettext("person", "Name"),
        _("Document number"),
        _("Vehicle plate"),
        _("Driver"),
        _("Verdict"),
        _("Reason"),
        _("Temperature (°C)"),
        _("Disinfected"),
        _("Cargo"),
        _("Guard"),
        _("Overridden by"),
        _("Override reason"),
    ]

    def lines() -> Any:
        for event in rows.iterator(chunk_size=2000):
            number = ""
            if event.person is not None:
                number = export.numbers(event.person)[0]
            elif event.visitor is not None:
                number = export.numbers_at(event.site_path, event.visitor.id_number)[0]
            yield [
                timezone.localtime(event.at).strftime("%Y-%m-%d %H:%M:%S"),
                event.checkpoint.name,
                event.get_direction_display(),
                selectors.holder_name(event),
                number,
                event.plate,
                event.driver,
                selectors.verdict_label(request.user, event),
                selectors.reason_for(request.user, event),
                float(event.temperature) if event.temperature is not None else "",
                {True: _("Yes"), False: _("No")}.get(event.disinfected, ""),
                event.cargo,
                str(event.guard or ""),
                str(event.overridden_by or ""),
                event.override_reason,
            ]

    return export.response(
        name="gate-log",
        headers=headers,
        rows=lines(),
        unit_path=filters.site.path if filters.site else "",
        label="gate log export",
    )


# ------------------------------------------------------------------ sites and checkpoints


@login_required
@requires(*GATE_PAGES)
def sites(request: HttpRequest) -> HttpResponse:
    """Sites with checkpoints in scope; admins add checkpoints to a site."""
    if request.method == "POST":
        _report(request, lambda: _checkpoint_add(request))
        return redirect("checkpoints:sites")
    visible = selectors.sites_with_checkpoints(request.user)
    checkpoints = selectors.checkpoints_visible(request.user).order_by("site_path", "code")
    return render(
        request,
        "checkpoints/sites.html",
        {
            "sites": [(site, [c for c in checkpoints if c.site_id == site.pk]) for site in visible],
            "can_manage": user_has_perm_anywhere(request.user, Perm.MANAGE_CHECKPOINTS),
        },
    )


def _checkpoint_add(request: HttpRequest) -> tuple[Any, str]:
    site = unit_get_by_code(
        request.user, request.POST.get("site_code", ""), Perm.MANAGE_CHECKPOINTS
    )
    checkpoint = services.checkpoint_create(
        actor=request.user,
        site=site,
        code=request.POST.get("code", ""),
        name=request.POST.get("name", ""),
        zones=request.POST.get("zones", ""),
        is_mobile=_flag(request, "is_mobile"),
    )
    return checkpoint, _("Checkpoint %(name)s was added.") % {"name": checkpoint.name}


@login_required
@renders_app_errors
def site_detail(request: HttpRequest, site_id: int) -> HttpResponse:
    """A site: its policy, its checkpoints and who is inside now."""
    site = selectors.site_get(request.user, site_id)
    can_manage = scope_for(request.user, Perm.MANAGE_CHECKPOINTS).covers(site.path)
    if request.method == "POST":
        _report(
            request,
            lambda: (
                services.policy_update(
                    actor=request.user,
                    site=site,
                    admit_colours=request.POST.getlist("admit_colours"),
                    refuse_printed=_flag(request, "refuse_printed"),
                    refuse_without_device_key=_flag(request, "refuse_without_device_key"),
                    outsiders_banned=_flag(request, "outsiders_banned"),
                ),
                _("The site's policy was saved."),
            ),
        )
        return redirect("checkpoints:site", site_id=site.pk)
    inside = selectors.inside_now(request.user, site)
    return render(
        request,
        "checkpoints/site.html",
        {
            "site": site,
            "policy": services.policy_for(site),
            "colours": Colour.choices,
            "checkpoints": selectors.checkpoints_visible(request.user, include_inactive=True)
            .filter(site=site)
            .order_by("code"),
            "inside": inside,
            "inside_total": sum(len(row.events) for row in inside),
            "figures": selectors.gate_figures(site.path, timezone.localdate()),
            "today": timezone.localdate(),
            "can_manage": can_manage,
        },
    )


@login_required
@renders_app_errors
def checkpoint_detail(request: HttpRequest, checkpoint_id: int) -> HttpResponse:
    """One checkpoint: edit it (admins), its posts; the log filtered to it is one link away."""
    checkpoint = selectors.checkpoint_get(request.user, checkpoint_id)
    if request.method == "POST":
        _report(
            request,
            lambda: (
                services.checkpoint_update(
                    actor=request.user,
                    checkpoint=checkpoint,
                    name=request.POST.get("name", ""),
                    zones=request.POST.get("zones", ""),
                    is_mobile=_flag(request, "is_mobile"),
                    is_active=_flag(request, "is_active"),
                ),
                _("The checkpoint was saved."),
            ),
        )
        return redirect("checkpoints:checkpoint", checkpoint_id=checkpoint.pk)
    return render(
        request,
        "checkpoints/checkpoint.html",
        {
            "checkpoint": checkpoint,
            "posts": selectors.posts_visible(request.user).filter(checkpoint=checkpoint),
            "can_manage": scope_for(request.user, Perm.MANAGE_CHECKPOINTS).covers(
                checkpoint.site_path
            ),
        },
    )


# ------------------------------------------------------------------ visitors


def _visitors_query(request: HttpRequest) -> tuple[dt.date, Any]:
    day = parse_date(request.GET.get("day", "")) or timezone.localdate()
    return day, selectors.visitors_search(request.user, q=request.GET.get("q", ""), day=day)


@login_required
@renders_app_errors
def visitors_export(request: HttpRequest) -> HttpResponse:
    """Download the day's visitors as filtered; numbers masked unless the user may see them."""
    export, scope = export_with_numbers(request, "checkpoints.visitor")
    day, rows = _visitors_query(request)
    rows = scope.filter(rows, "site_path")
    export.check_size(rows.count(), EXPORT_LIMIT)
    headers = [
        pgettext("person", "Name"),
        _("ID number"),
        _("Phone"),
        _("Vehicle plate"),
        pgettext("visit", "Site"),
        _("Purpose"),
        _("Visit"),
        _("Registered"),
        _("Host"),
        _("Cancelled"),
    ]

    def lines() -> Any:
        for visitor in rows.iterator(chunk_size=2000):
            id_number, phone = export.numbers_at(
                visitor.site_path, visitor.id_number, visitor.phone
            )
            yield [
                visitor.name,
                id_number,
                phone,
                visitor.plate,
                visitor.site.place,
                visitor.purpose,
                time_window(visitor.valid_from, visitor.valid_until),
                visitor.get_source_display(),
                str(visitor.host or ""),
                _("Yes") if visitor.cancelled_at else "",
            ]

    return export.response(
        name=f"visitors-{day.isoformat()}",
        headers=headers,
        rows=lines(),
        label="visitors export",
    )


@login_required
@renders_app_errors
def visitors(request: HttpRequest) -> HttpResponse:
    """Visitors by day: hosts pre-register, guards register walk-ins."""
    refused: dict[str, Any] = {}
    status = 200
    if request.method == "POST":
        try:
            visitor, message = _visitor_add(request)
        except ApplicationError as exc:
            # The form again, open, with what was typed and the problem at its field.
            which = "refused_walk_in" if request.POST.get("walk_in") == "1" else "refused_pre"
            refused[which] = form_refusal(exc, request, VISITOR_FIELDS)
            status = exc.status
        else:
            messages.success(request, message)
            if visitor.pass_id_hash:
                # The host sees the visitor link at once, to send it or show its QR code.
                return redirect("checkpoints:visitor", visitor_id=visitor.pk)
            return redirect("checkpoints:visitors")
    day, rows = _visitors_query(request)
    context = page_context(request, rows, 50)
    page = list(context["page_obj"])
    tokens = selectors.visitor_link_tokens(request.user, page)
    context["rows"] = [
        {
            **_visitor_numbers(request, visitor),
            "visitor": visitor,
            "window": time_window(visitor.valid_from, visitor.valid_until),
            "has_link": visitor.pk in tokens,
        }
        for visitor in page
    ]
    return render(
        request,
        "checkpoints/visitors.html",
        {
            **context,
            "day": day,
            "q": request.GET.get("q", ""),
            "host_sites": selectors.host_sites(request.user),
            "can_export": user_has_perm_anywhere(request.user, Perm.EXPORT),
            "walk_in_sites": {c.site for c in selectors.checkpoints_for_recording(request.user)},
            **refused,
        },
        status=status,
    )


VISITOR_FIELDS = ("site", "name", "id_number", "phone", "plate", "purpose", "day", "start", "end")


def _visitor_numbers(request: HttpRequest, visitor: Visitor) -> dict[str, str]:
    """The visitor's ID and phone numbers, masked unless the user may see them in full."""
    id_number, phone = selectors.visitor_numbers_as_seen(
        scope_for(request.user, Perm.VIEW_SENSITIVE),
        visitor.site_path,
        visitor.id_number,
        visitor.phone,
    )
    return {"id_number": id_number, "phone": phone}


def visitor_link_url(request: HttpRequest, token: str) -> str:
    return request.build_absolute_uri(reverse("passes:link", args=[token]))


@login_required
@renders_app_errors
def visitor_detail(request: HttpRequest, visitor_id: int) -> HttpResponse:
    """One visit: its facts, its pass's state and, for the host or a site admin, the
    visitor link (to copy and send, or to scan off the screen) and the cancel button."""
    visitor = selectors.visitor_get(request.user, visitor_id)
    row = selectors.visitor_pass(visitor)
    token = selectors.visitor_link_tokens(request.user, [visitor]).get(visitor.pk, "")
    url = visitor_link_url(request, token) if token else ""
    manage = selectors.may_manage_visit(request.user, visitor)
    return render(
        request,
        "checkpoints/visitor.html",
        {
            **_visitor_numbers(request, visitor),
            "visitor": visitor,
            "window": time_window(visitor.valid_from, visitor.valid_until),
            "pass_row": row,
            "pass_state": pass_state(row, timezone.now()) if row else "",
            "link_url": url,
            "link_qr": qr_data_uri(url, scale=5) if url else "",
            "can_cancel": manage
            and visitor.cancelled_at is None
            and visitor.valid_until > timezone.now(),
        },
    )


@login_required
@renders_app_errors
def visitor_cancel(request: HttpRequest, visitor_id: int) -> HttpResponse:
    """Ask to confirm (with an optional reason), then cancel the visit and revoke its pass."""
    visitor = selectors.visitor_get(request.user, visitor_id)
    services.require_visit_manager(request.user, visitor)
    if request.method == "POST":
        done = _report(
            request,
            lambda: (
                services.visitor_cancel(
                    actor=request.user, visitor=visitor, reason=request.POST.get("reason", "")
                ),
                _("The visit was cancelled; its pass and link no longer admit."),
            ),
        )
        if done is not None:
            return redirect("checkpoints:visitor", visitor_id=visitor.pk)
    return render(request, "checkpoints/visitor_cancel.html", {"visitor": visitor})


def _visitor_add(request: HttpRequest) -> tuple[Any, str]:
    post = request.POST
    walk_in = post.get("walk_in") == "1"
    site = selectors.site_get(request.user, post.get("site")) if walk_in else None
    if site is None:
        site = next(
            (s for s in selectors.host_sites(request.user) if str(s.pk) == post.get("site")), None
        )
    if site is None:
        raise NotFound()

    def time_of(name: str) -> dt.time | None:
        try:
            return dt.time.fromisoformat(post[name]) if post.get(name) else None
        except ValueError:
            return None

    visitor = services.visitor_register(
        actor=request.user,
        site=site,
        name=post.get("name", ""),
        id_number=post.get("id_number", ""),
        phone=post.get("phone", ""),
        plate=post.get("plate", ""),
        purpose=post.get("purpose", ""),
        day=parse_date(post.get("day", "")) or timezone.localdate(),
        start=time_of("start"),
        end=time_of("end"),
        walk_in=walk_in,
    )
    return visitor, _("Visitor %(name)s was registered.") % {"name": visitor.name}


# ------------------------------------------------------------------ watch list


@login_required
@requires(Perm.OVERRIDE_GATE)
def watch_list(request: HttpRequest) -> HttpResponse:
    """The watch list: ID numbers refused everywhere under a unit; reasons for supervisors."""
    if request.method == "POST":
        if request.POST.get("remove"):
            entry = selectors.watch_entry_get(request.user, request.POST["remove"])
            _report(
                request,
                lambda: (
                    services.watch_remove(actor=request.user, entry=entry),
                    _("The entry was removed from the watch list."),
                ),
            )
        else:
            _report(request, lambda: _watch_add(request))
        return redirect("checkpoints:watch")
    return render(
        request,
        "checkpoints/watch.html",
        page_context(request, selectors.watch_entries(request.user), 50),
    )


def _watch_add(request: HttpRequest) -> tuple[Any, str]:
    unit = unit_get_by_code(request.user, request.POST.get("unit_code", ""), Perm.OVERRIDE_GATE)
    entry = services.watch_add(
        actor=request.user,
        unit=unit,
        id_number=request.POST.get("id_number", ""),
        name=request.POST.get("name", ""),
        reason=request.POST.get("reason", ""),
    )
    return entry, _("%(number)s is on the watch list.") % {"number": entry.id_masked}


# ------------------------------------------------------------------ duty rosters


@login_required
@requires(*GATE_PAGES)
def rosters(request: HttpRequest) -> HttpResponse:
    """Duty posts with their rotation; admins add posts and put guards on days."""
    if request.method == "POST":
        _report(request, lambda: _roster_action(request))
        return redirect("checkpoints:rosters")
    today = timezone.localdate()
    posts = list(selectors.posts_visible(request.user))
    managed = scope_for(request.user, Perm.MANAGE_CHECKPOINTS)
    # The guards a post may be given, once per site (not once per post).
    guards = {
        path: list(services.guards_of(path))
        for path in {post.site_path for post in posts if managed.covers(post.site_path)}
    }
    return render(
        request,
        "checkpoints/rosters.html",
        {
            "posts": [
                {
                    "post": post,
                    "today_guard": selectors.guard_on(post, today),
                    "today_index": selectors.day_index(post, today),
                    "rows": selectors.roster_rows(post),
                    "guards": guards.get(post.site_path, []),
                }
                for post in posts
            ],
            "checkpoints": [
                c
                for c in selectors.checkpoints_visible(request.user)
                if managed.covers(c.site_path)
            ],
            "today": today,
        },
    )


def _roster_action(request: HttpRequest) -> tuple[Any, str]:
    post_data = request.POST
    if post_data.get("post"):
        post = selectors.post_get(request.user, post_data["post"])
        guard_id = post_data.get("guard") or ""
        guard = User.objects.filter(pk=int(guard_id)).first() if guard_id.isdigit() else None
        try:
            index = int(post_data.get("day_index", ""))
        except ValueError:
            index = -1
        services.roster_set(actor=request.user, post=post, assignments={index: guard})
        return post, _("The roster was saved.")
    checkpoint = selectors.checkpoint_get(request.user, post_data.get("checkpoint"))
    post = services.post_create(
        actor=request.user,
        checkpoint=checkpoint,
        name=post_data.get("name", ""),
        starts_at=post_data.get("starts_at", ""),
        hours=post_data.get("hours") or 12,
        period_days=post_data.get("period_days") or 7,
    )
    return post, _("Post %(name)s was added.") % {"name": post.name}


@login_required
@requires(Perm.MANAGE_CHECKPOINTS)
def roster_import(request: HttpRequest) -> HttpResponse:
    """Upload a roster: a preview of every assignment (or every bad row), then commit all."""
    context: dict[str, Any] = {}
    if request.method == "POST" and request.POST.get("token"):
        written = _report(
            request,
            lambda: (
                importing.roster_commit(actor=request.user, token=request.POST["token"]),
                _("The roster was imported."),
            ),
        )
        if written is not None:
            return redirect("checkpoints:rosters")
    elif request.method == "POST":
        upload = request.FILES.get("file")
        try:
            if upload is None:
                raise InvalidInput(_("Choose a file to upload."))
            context["assignments"], context["token"] = importing.roster_preview(
                actor=request.user, upload=upload
            )
        except ApplicationError as exc:
            context["error"] = exc.as_text()
            context["rows"] = (
                (exc.detail or {}).get("rows", []) if isinstance(exc.detail, dict) else []
            )
    return render(request, "checkpoints/roster_import.html", context)


@login_required
@requires(Perm.MANAGE_CHECKPOINTS)
def roster_template(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(
        importing.template_workbook(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = 'attachment; filename="roster-template.xlsx"'
    return response
