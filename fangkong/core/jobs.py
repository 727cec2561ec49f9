"""The task queue as admins see it: waiting tasks, finished tasks, schedules; run one now."""

import ast
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet
from django_q.models import OrmQ, Schedule, Task
from django_q.tasks import async_task

from .access import user_may
from .audit import audit_record
from .errors import NotFound, PermissionDenied
from .models import AuditLog

VIEW_JOBS = "view_jobs"


def require_jobs_access(user: Any) -> None:
    if not user_may(user, VIEW_JOBS):
        raise PermissionDenied()


def queued_tasks(user: Any) -> QuerySet[OrmQ]:
    """Tasks waiting in the queue (a lock means a worker has taken it)."""
    require_jobs_access(user)
    return OrmQ.objects.order_by("id")


def finished_tasks(user: Any, *, outcome: str = "", query: str = "") -> QuerySet[Task]:
    """Finished tasks, newest first; ``outcome`` is "success", "failure" or "" for both."""
    require_jobs_access(user)
    tasks = Task.objects.defer("args", "kwargs")
    if outcome in ("success", "failure"):
        tasks = tasks.filter(success=outcome == "success")
    if query:
        tasks = tasks.filter(Q(func__icontains=query) | Q(name__icontains=query))
    return tasks.order_by("-stopped")


def schedules(user: Any) -> QuerySet[Schedule]:
    require_jobs_access(user)
    return Schedule.objects.order_by("next_run", "name")


def _literal(text: str | None, default: Any) -> Any:
    try:
        return ast.literal_eval(text) if text else default
    except (SyntaxError, ValueError):
        return default


@transaction.atomic
def schedule_run_now(*, actor: Any, schedule_id: int) -> str:
    """Queue a schedule's function once, now, without moving its next regular run."""
    require_jobs_access(actor)
    schedule = Schedule.objects.filter(pk=schedule_id).first()
    if schedule is None:
        raise NotFound()
    args = _literal(schedule.args, ())
    args = args if isinstance(args, tuple) else (args,)
    kwargs = _literal(schedule.kwargs, {})
    kwargs = kwargs if isinstance(kwargs, dict) else {}
    audit_record(
        actor=actor,
        action=AuditLog.Action.CREATE,
        obj=schedule,
        object_type="django_q.task",
        object_repr=f"run now: {schedule.func}",
        after={"schedule": schedule.name, "func": schedule.func},
    )
    func, name = schedule.func, schedule.name or schedule.func
    # After commit, like every other enqueue: the audit row and the task go together.
    transaction.on_commit(lambda: async_task(func, *args, group=name, **kwargs))
    return func
