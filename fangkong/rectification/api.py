"""/api/v1/rectification endpoints: problems and their steps, supervision, bulletins."""

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Status
from ninja.pagination import paginate

from fangkong.accounts.roles import Perm
from fangkong.core.errors import InvalidInput
from fangkong.core.pagination import MappedQuerySet
from fangkong.core.schema import Day, ObjectId, Pages
from fangkong.orgs.selectors import unit_get

from . import selectors, services
from .ledger_kind import PROBLEM
from .models import Problem
from .schemas import (
    ProblemAssignIn,
    ProblemCheckIn,
    ProblemDetailOut,
    ProblemIn,
    ProblemNoteIn,
    ProblemOut,
    ProblemProgressIn,
    ProblemReasonIn,
    ProblemRecurIn,
    ProblemSavingIn,
    ProblemSavingRecordedOut,
    ProblemSubmitIn,
)

router = Router(tags=["rectification"])


# ------------------------------------------------------------------ problems (r16p)
# The 台账 list, one problem, registration and each step of a problem's life.


def problem_out(problem: Problem) -> dict[str, Any]:
    item = problem.item
    assert item is not None
    return {
        "id": problem.pk,
        "item_id": item.pk,
        "title": problem.title,
        "source": problem.source,
        "source_ref": problem.source_ref,
        "category": problem.category,
        "severity": problem.severity,
        "problem_class": problem.problem_class,
        "unit_id": item.unit_id,
        "unit_place": item.unit.place,
        "assigning_unit_id": problem.assigning_unit_id,
        "responsible_name": problem.responsible_name,
        "leader_name": problem.leader_name,
        "state": item.state,
        "state_label": str(PROBLEM.state_label(item.state)),
        "is_open": item.is_open,
        "colour": problem.colour if item.is_open else "",
        "starts_on": problem.starts_on,
        "due_on": problem.due_on,
        "overdue": selectors.is_overdue(problem),
        "on_time": problem.on_time,
        "recurrences": problem.recurrences,
        "owner_ids": sorted(u.pk for u in item.owners.all()),
        "targets": [
            {
                "id": row.target.pk,
                "label": row.target.label,
                "unit_of_measure": row.target.unit_of_measure,
                "target": row.target.target,
                "done": row.target.done,
                "percent": row.percent,
            }
            for row in selectors.target_rows(problem)
        ],
    }


def problem_detail_out(problem: Problem) -> dict[str, Any]:
    item = problem.item
    assert item is not None
    return {
        **problem_out(problem),
        "description": problem.description,
        "measures": problem.measures,
        "root_cause": problem.root_cause,
        "preventive": problem.preventive,
        "submitted_at": problem.submitted_at,
        "accepted_at": problem.accepted_at,
        "effect_checked_at": problem.effect_checked_at,
        "effect_check_from": selectors.check_day(problem),
        "closed_at": item.closed_at,
        "close_reason": item.close_reason,
        "milestones": [
            {"id": m.pk, "title": m.title, "due_on": m.due_on, "done_at": m.done_at}
            for m in problem.milestones.all()
        ],
        "evidence": [
            {
                "id": e.pk,
                "name": e.name,
                "sha256": e.sha256,
                "size": e.size,
                "uploaded_at": e.uploaded_at,
            }
            for e in problem.evidence.all()
        ],
        "savings": [saving_out(s) for s in problem.savings.all()],
    }


def saving_out(saving: Any) -> dict[str, Any]:
    return {
        "id": saving.pk,
        "problem_id": saving.problem_id,
        "label": saving.label,
        "unit_of_measure": saving.unit_of_measure,
        "baseline": saving.baseline,
        "current": saving.current,
        "saved_percent": selectors.saved_percent(saving.baseline, saving.current),
    }


def _fresh(request: HttpRequest, problem_id: int) -> dict[str, Any]:
    return problem_detail_out(selectors.problem_get(request.user, problem_id))


@router.get("/rectification/problems", response=list[ProblemOut])
@paginate(Pages, page_size=50)
def list_problems(
    request: HttpRequest,
    unit_id: ObjectId | None = None,
    state: str = "open",
    colour: str = "",
    source: str = "",
    severity: str = "",
    problem_class: str = "",
    overdue: bool | None = None,
    q: str = "",
    owner: str = "",
    opened_from: Day | None = None,
    opened_to: Day | None = None,
    closed_from: Day | None = None,
    closed_to: Day | None = None,
    on_time: bool | None = None,
    awaiting: bool = False,
    check_due: bool = False,
) -> Any:
    """Problems in scope, the most urgent first; ``state`` "open" (default), "closed", ""
    for all, or one state; ``owner=me`` for the caller's own."""
    unit = unit_get(request.user, unit_id, Perm.VIEW_PROBLEMS) if unit_id else None
    filters = selectors.ProblemFilter(
        unit=unit,
        state=state,
        colour=colour,
        source=source,
        severity=severity,
        problem_class=problem_class,
        overdue=overdue,
        q=q,
        opened_from=opened_from,
        opened_to=opened_to,
        closed_from=closed_from,
        closed_to=closed_to,
        on_time=on_time,
        owner=request.user if owner == "me" else None,  # type: ignore[arg-type]
        awaiting=awaiting,
        check_due=check_due,
    )
    rows = selectors.with_list_columns(selectors.problems_search(request.user, filters))
    return MappedQuerySet(rows, problem_out)


@router.get("/rectification/problems/{problem_id}", response=ProblemDetailOut)
def get_problem(request: HttpRequest, problem_id: ObjectId) -> Any:
    return _fresh(request, problem_id)


@router.post("/rectification/problems", response={201: ProblemDetailOut})
def register_problem(request: HttpRequest, payload: ProblemIn) -> Any:
    """Register a problem for the assigning unit; the responsible unit lies below it."""
    unit = unit_get(request.user, payload.unit_id, Perm.VIEW_PROBLEMS)
    assigning = unit_get(request.user, payload.assigning_unit_id, Perm.VIEW_PROBLEMS)
    problem = services.problem_register(
        actor=request.user,
        new=services.NewProblem(
            title=payload.title,
            unit=unit,
            assigning_unit=assigning,
            source=payload.source,
            problem_class=payload.problem_class,
            due_on=payload.due_on,
            due_working_days=payload.due_working_days,
            source_ref=payload.source_ref,
            description=payload.description,
            category=payload.category,
            severity=payload.severity,
            responsible_name=payload.responsible_name,
            leader_name=payload.leader_name,
            effect_check_days=payload.effect_check_days,
            targets=[(t.label, t.unit_of_measure, t.quantity) for t in payload.targets],
            milestones=[(m.title, m.due_on) for m in payload.milestones],
        ),
    )
    return Status(201, _fresh(request, problem.pk))


@router.post("/rectification/problems/{problem_id}/assign", response=ProblemDetailOut)
def assign_problem(request: HttpRequest, problem_id: ObjectId, payload: ProblemAssignIn) -> Any:
    """Assign to people holding the rectification role on the responsible unit or above."""
    problem = selectors.problem_get(request.user, problem_id)
    owners = list(selectors.owner_candidates(problem).filter(pk__in=payload.owner_ids))
    if len(owners) != len(set(payload.owner_ids)):
        message = _(
            "Choose people who hold the rectification role on the responsible unit or above."
        )
        raise InvalidInput(message, detail={"owner_ids": [message]})
    services.problem_assign(
        actor=request.user,
        problem=problem,
        owners=owners,
        responsible_name=payload.responsible_name,
    )
    return _fresh(request, problem_id)


@router.post("/rectification/problems/{problem_id}/progress", response=ProblemDetailOut)
def report_progress(request: HttpRequest, problem_id: ObjectId, payload: ProblemProgressIn) -> Any:
    """A progress report: a note, quantities done, milestones reached (files: the page)."""
    problem = selectors.problem_get(request.user, problem_id)
    services.problem_progress(
        actor=request.user,
        problem=problem,
        note=payload.note,
        done={row.target_id: row.done for row in payload.done},
        milestones_done=payload.milestone_ids,
    )
    return _fresh(request, problem_id)


@router.post("/rectification/problems/{problem_id}/submit", response=ProblemDetailOut)
def submit_problem(request: HttpRequest, problem_id: ObjectId, payload: ProblemSubmitIn) -> Any:
    problem = selectors.problem_get(request.user, problem_id)
    services.problem_submit(actor=request.user, problem=problem, **payload.dict())
    return _fresh(request, problem_id)


@router.post("/rectification/problems/{problem_id}/accept", response=ProblemDetailOut)
def accept_problem(request: HttpRequest, problem_id: ObjectId, payload: ProblemNoteIn) -> Any:
    problem = selectors.problem_get(request.user, problem_id)
    services.problem_accept(actor=request.user, problem=problem, note=payload.note)
    return _fresh(request, problem_id)


@router.post("/rectification/problems/{problem_id}/return", response=ProblemDetailOut)
def return_problem(request: HttpRequest, problem_id: ObjectId, payload: ProblemReasonIn) -> Any:
    problem = selectors.problem_get(request.user, problem_id)
    services.problem_return(actor=request.user, problem=problem, reason=payload.reason)
    return _fresh(request, problem_id)


@router.post("/rectification/problems/{problem_id}/check", response=ProblemDetailOut)
def check_problem(request: HttpRequest, problem_id: ObjectId, payload: ProblemCheckIn) -> Any:
    problem = selectors.problem_get(request.user, problem_id)
    services.problem_check_effect(
        actor=request.user, problem=problem, effective=payload.effective, note=payload.note
    )
    return _fresh(request, problem_id)


@router.post("/rectification/problems/{problem_id}/close", response=ProblemDetailOut)
def close_problem(request: HttpRequest, problem_id: ObjectId, payload: ProblemReasonIn) -> Any:
    problem = selectors.problem_get(request.user, problem_id)
    services.problem_close_out(actor=request.user, problem=problem, reason=payload.reason)
    return _fresh(request, problem_id)


@router.post("/rectification/problems/{problem_id}/recur", response=ProblemDetailOut)
def recur_problem(request: HttpRequest, problem_id: ObjectId, payload: ProblemRecurIn) -> Any:
    problem = selectors.problem_get(request.user, problem_id)
    services.problem_recur(
        actor=request.user, problem=problem, reason=payload.reason, due_on=payload.due_on
    )
    return _fresh(request, problem_id)


@router.post(
    "/rectification/problems/{problem_id}/savings", response={201: ProblemSavingRecordedOut}
)
def record_saving(request: HttpRequest, problem_id: ObjectId, payload: ProblemSavingIn) -> Any:
    problem = selectors.problem_get(request.user, problem_id)
    saving = services.saving_record(actor=request.user, problem=problem, **payload.dict())
    return Status(201, saving_out(saving))


# ------------------------------------------------------------------ weekly bulletin (r16b)
from .bulletin_api import router as bulletin_router  # noqa: E402

router.add_router("", bulletin_router)
# supervision (supervision_api.py): orders listed, issued and ended
from .supervision_api import router as supervision_router  # noqa: E402

router.add_router("", supervision_router)
