from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from . import jobs
from .health import database_health, queue_health
from .web import page_context, renders_app_errors

QUEUED_SHOWN = 100


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Report the database and the task queue; 503 when either is down."""
    database, queue = database_health(), queue_health()
    ok = database["ok"] and queue["ok"]
    return JsonResponse({"ok": ok, "database": database, "queue": queue}, status=200 if ok else 503)


@login_required
@renders_app_errors
def jobs_page(request: HttpRequest) -> HttpResponse:
    """The task queue for admins: schedules, waiting tasks, finished tasks with failures."""
    outcome = request.GET.get("outcome", "")
    query = request.GET.get("q", "").strip()
    queued = jobs.queued_tasks(request.user)
    return render(
        request,
        "core/jobs.html",
        {
            **page_context(
                request, jobs.finished_tasks(request.user, outcome=outcome, query=query), 30
            ),
            "schedules": jobs.schedules(request.user),
            "queued": Paginator(queued, QUEUED_SHOWN).get_page(1),
            "now": timezone.now(),  # a lock in the future means a worker holds the task
            "outcome": outcome,
            "query": query,
        },
    )


@login_required
@require_POST
@renders_app_errors
def schedule_run(request: HttpRequest, schedule_id: int) -> HttpResponse:
    func = jobs.schedule_run_now(actor=request.user, schedule_id=schedule_id)
    messages.success(request, _("%(func)s was queued to run now.") % {"func": func})
    return redirect("jobs")
