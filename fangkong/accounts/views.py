"""Log-in, API tokens, the audit log browser, accounts and the jobs page."""

import datetime as dt
import json
from typing import Any

from django.apps import apps
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from fangkong.core.errors import ApplicationError, NotFound
from fangkong.core.exports import Export
from fangkong.core.models import AuditLog
from fangkong.core.schedules import every, job_name
from fangkong.core.web import page_context, renders_app_errors

from . import selectors, services
from .actors import Viewer
from .audit_display import (
    audit_changes,
    object_link,
    object_pages_for,
    object_text,
    object_type_choices,
    object_type_label,
)
from .forms import LoginForm, RoleGrantForm, TokenForm
from .models import ApiToken, User
from .roles import Perm

EXPORT_LIMIT = 200_000
QUEUED_SHOWN = 100


# The session remembers when the user last logged in before this session, so the home
# page can show what arrived since (log-in overwrites ``User.last_login``).
PREVIOUS_LOGIN = "previous_login"


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def form_valid(self, form: Any) -> HttpResponse:
        previous = form.get_user().last_login
        response = super().form_valid(form)
        if previous is not None:
            self.request.session[PREVIOUS_LOGIN] = previous.isoformat()
        return response


@login_required
def tokens(request: HttpRequest) -> HttpResponse:
    """List, create and revoke the user's API tokens."""
    user = request.user
    assert isinstance(user, User)  # login_required
    new_key = None
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        _token, new_key = services.api_token_create(
            actor=user, user=user, name=form.cleaned_data["name"]
        )
        form = TokenForm()
    return render(
        request,
        "accounts/tokens.html",
        {"form": form, "new_key": new_key, "tokens": selectors.api_tokens_for(user)},
    )


@login_required
@require_POST
def token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    token = get_object_or_404(ApiToken, pk=token_id, user=request.user)
    services.api_token_revoke(actor=request.user, token=token)
    messages.success(request, _("The token was revoked."))
    return redirect("accounts:tokens")


def _parse_day(value: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


@login_required
@renders_app_errors
def audit_log(request: HttpRequest) -> HttpResponse:
    """Browse the audit rows of the caller's subtrees, filtered by actor, action, object, day."""
    entries = selectors.audit_entries_visible(request.user)
    filters: dict[str, Any] = {
        k: request.GET.get(k, "").strip()
        for k in ("actor", "action", "object_type", "since", "until")
    }
    entries = selectors.audit_entries_filtered(
        entries,
        actor=filters["actor"],
        action=filters["action"],
        object_type=filters["object_type"],
        since=_parse_day(filters["since"]),
        until=_parse_day(filters["until"]),
    )
    if request.GET.get("format") in ("xlsx", "csv"):
        return _audit_export(request, entries)
    page = page_context(request, entries, 50)
    pages = object_pages_for(request.user)
    for entry in page["page_obj"]:
        entry.link = object_link(entry, pages)
        entry.type_label = object_type_label(entry.object_type)
        entry.text = object_text(entry)
        entry.changes = audit_changes(entry.object_type, entry.before, entry.after)
    return render(
        request,
        "accounts/audit.html",
        {
            **page,
            "filters": filters,
            "actions": AuditLog.Action.choices,
            "object_types": object_type_choices(selectors.audit_object_types(request.user)),
        },
    )


def _audit_export(request: HttpRequest, entries: Any) -> HttpResponse:
    """Download the filtered audit rows; the download is itself recorded."""
    scope = selectors.scope_for(request.user, Perm.VIEW_AUDIT)
    export = Export(request, object_type="core.auditlog", scope=scope)
    entries = entries[:EXPORT_LIMIT]
    headers = [
        _("Time"),
        _("Actor"),
        _("Action"),
        _("Object type"),
        _("Object id"),
        _("Object"),
        _("Before"),
        _("After"),
        _("IP address"),
    ]
    rows = (
        [
            timezone.localtime(e.at).strftime("%Y-%m-%d %H:%M:%S"),
            str(e.actor or ""),
            e.get_action_display(),
            e.object_type,
            e.object_id,
            e.object_repr,
            json.dumps(e.before, ensure_ascii=False) if e.before is not None else "",
            json.dumps(e.after, ensure_ascii=False) if e.after is not None else "",
            e.ip_address or "",
        ]
        for e in entries.iterator(chunk_size=2000)
    )
    return export.response(name="audit-log", headers=headers, rows=rows, label="audit log export")


def _unit_by_code(user: Viewer, code: str) -> Any:
    """Return the unit with ``code`` if it lies where ``user`` manages accounts, else 404."""
    # accounts sits below orgs: reach the unit model through the app registry, not an import.
    units = apps.get_model("orgs", "OrgUnit").objects.filter(code=code.strip())
    unit = selectors.scope_for(user, Perm.MANAGE_ACCOUNTS).filter(units, "path").first()
    if unit is None:
        raise NotFound()
    return unit


@login_required
@renders_app_errors
def users(request: HttpRequest) -> HttpResponse:
    """Who holds which role where, in the caller's subtrees; grant and revoke roles."""
    query = request.GET.get("q", "").strip()
    assignments = selectors.assignments_managed(request.user, query=query)
    form = RoleGrantForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            data = form.cleaned_data
            services.role_grant(
                actor=request.user,
                username=data["username"],
                role=data["role"],
                unit=_unit_by_code(request.user, data["unit_code"]),
                password=data["password"],
                display_name=data["display_name"],
            )
            messages.success(request, _("The role was granted."))
            return redirect("accounts:users")
        except NotFound:
            form.add_error("unit_code", _("No unit with this code in your scope."))
        except ApplicationError as exc:
            form.add_error(None, exc.as_text())
    return render(
        request,
        "accounts/users.html",
        {**page_context(request, assignments, 50), "form": form, "query": query},
    )


@login_required
@require_POST
@renders_app_errors
def role_revoke(request: HttpRequest, assignment_id: int) -> HttpResponse:
    assignment = selectors.assignments_managed(request.user).filter(pk=assignment_id).first()
    if assignment is None:
        raise NotFound()
    services.role_revoke(actor=request.user, assignment=assignment)
    messages.success(request, _("The role was revoked."))
    return redirect("accounts:users")


@login_required
@renders_app_errors
def jobs(request: HttpRequest) -> HttpResponse:
    """The task queue for admins: schedules, waiting tasks, finished tasks with failures."""
    outcome = request.GET.get("outcome", "")
    query = request.GET.get("q", "").strip()
    queued = Paginator(selectors.queued_tasks(request.user), QUEUED_SHOWN).get_page(1)
    finished = page_context(
        request, selectors.finished_tasks(request.user, outcome=outcome, query=query), 30
    )
    # A task shows as its job's name: its own name is a random word pair from the queue.
    for task in finished["page_obj"]:
        task.job = job_name(task.func)
    for waiting in queued:
        waiting.job = job_name(waiting.func())
    return render(
        request,
        "accounts/jobs.html",
        {
            **finished,
            "schedules": [_schedule_row(s) for s in selectors.schedules(request.user)],
            "queued": queued,
            "now": timezone.now(),  # a lock in the future means a worker holds the task
            "outcome": outcome,
            "query": query,
        },
    )


def _schedule_row(schedule: Any) -> dict[str, Any]:
    """A schedule as the page shows it: the job's name and how often, not a function path."""
    if schedule.schedule_type == schedule.MINUTES and schedule.minutes:
        how_often = every(schedule.minutes)
    else:
        how_often = schedule.get_schedule_type_display()
    return {
        "pk": schedule.pk,
        "name": job_name(schedule.func),
        "every": how_often,
        "next_run": schedule.next_run,
    }


@login_required
@require_POST
@renders_app_errors
def schedule_run(request: HttpRequest, schedule_id: int) -> HttpResponse:
    func = services.schedule_run_now(actor=request.user, schedule_id=schedule_id)
    messages.success(request, _("%(func)s was queued to run now.") % {"func": job_name(func)})
    return redirect("jobs")
