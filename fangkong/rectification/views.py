"""Problem pages: the 台账 list with its export, a problem with its actions, registration
by form, and the figures by unit and period with the chart of colours over time.

Thin: selectors read, services write. A refused action comes back on the problem page
with what was typed and the message at its field (a redirect would lose every field).
"""

import datetime as dt
import mimetypes
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header, urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from fangkong.accounts.decorators import requires
from fangkong.accounts.roles import Perm
from fangkong.accounts.selectors import scope_for, user_has_perm_anywhere
from fangkong.core.errors import ApplicationError, Conflict, InvalidInput, NotFound
from fangkong.core.exports import Export
from fangkong.core.numbers import plain_decimal
from fangkong.core.text import local_minute
from fangkong.core.web import page_context, renders_app_errors
from fangkong.ledger import selectors as ledger_selectors
from fangkong.ledger.models import Entry
from fangkong.orgs.models import OrgUnit

from . import selectors, services
from .forms import (
    MILESTONE_ROWS,
    AcceptForm,
    AssignForm,
    CheckForm,
    FiguresForm,
    ProblemFilterForm,
    ProgressForm,
    ReasonForm,
    RecurForm,
    RegisterForm,
    SavingForm,
    SubmitForm,
)
from .ledger_kind import (
    ACCEPTED,
    ASSIGNED,
    CHECKED,
    IN_PROGRESS,
    PROBLEM,
    REGISTERED,
    SUBMITTED,
)
from .models import Colour, Evidence, Problem
from .selectors import ProblemFilter

EXPORT_LIMIT = 100_000
PER_PAGE = 50


# ------------------------------------------------------------------ the 台账 list


def _filters(request: HttpRequest) -> tuple[ProblemFilterForm, ProblemFilter]:
    params = request.GET.copy()
    if "state" not in params:  # open problems unless "all" was chosen on purpose
        params["state"] = "open"
    form = ProblemFilterForm(params)
    data = form.cleaned_data if form.is_valid() else {"state": "open"}
    key = (data.get("unit") or "").strip()
    unit = None
    if key:
        try:
            unit = selectors.unit_for_problems(request.user, key)
        except NotFound:
            form.add_error("unit", _("No unit of yours has this code."))
    yes_no = {"1": True, "0": False}
    filters = ProblemFilter(
        unit=unit,
        state=data.get("state") or "",
        colour=data.get("colour") or "",
        source=data.get("source") or "",
        severity=data.get("severity") or "",
        problem_class=data.get("problem_class") or "",
        overdue=yes_no.get(data.get("overdue") or ""),
        q=data.get("q") or "",
        opened_from=data.get("opened_from"),
        opened_to=data.get("opened_to"),
        closed_from=data.get("closed_from"),
        closed_to=data.get("closed_to"),
        active_from=data.get("active_from"),
        active_to=data.get("active_to"),
        on_time=yes_no.get(data.get("on_time") or ""),
        with_targets=bool(data.get("with_targets")),
        with_savings=bool(data.get("with_savings")),
        owner=request.user if data.get("owner") == "me" else None,  # type: ignore[arg-type]
        awaiting=bool(data.get("awaiting")),
        check_due=bool(data.get("check_due")),
    )
    return form, filters


def _colour_counts(request: HttpRequest, rows: Any) -> list[dict[str, Any]]:
    """The open rows of the list by colour, each linking to the list narrowed to it."""
    found = rows.filter(item__is_open=True).aggregate(
        **{c: Count("pk", filter=Q(colour=c)) for c in (Colour.RED, Colour.YELLOW, Colour.BLUE)}
    )
    query = request.GET.copy()
    query.pop("page", None)
    result = []
    for colour in (Colour.RED, Colour.YELLOW, Colour.BLUE):
        query["colour"] = colour
        result.append(
            {
                "colour": colour,
                "label": Colour(colour).label,
                "n": found[colour],
                "url": f"?{query.urlencode()}",
            }
        )
    return result


@login_required
@require_GET
@requires(Perm.VIEW_PROBLEMS)
def problems(request: HttpRequest) -> HttpResponse:
    """The problems in the user's scope: filters, search, paging, counts by colour, export."""
    form, filters = _filters(request)
    rows = selectors.problems_search(request.user, filters)
    if form.errors:  # shown at their fields: no rows rather than rows of other filters
        rows = rows.none()
    context = page_context(request, selectors.with_list_columns(rows), PER_PAGE)
    return render(
        request,
        "rectification/list.html",
        {
            **context,
            "form": form,
            "unit": filters.unit,
            "colour_counts": _colour_counts(request, rows),
            "rows": [_row(p) for p in context["page_obj"]],
            "today": timezone.localdate(),
            "can_export": user_has_perm_anywhere(request.user, Perm.EXPORT),
            "can_register": user_has_perm_anywhere(request.user, Perm.RECTIFY),
        },
    )


def _row(problem: Problem) -> dict[str, Any]:
    item = problem.item
    assert item is not None
    targets = list(problem.targets.all())
    return {
        "problem": problem,
        "item": item,
        "state": PROBLEM.state_label(item.state),
        "owners": "、".join(u.display_name or u.username for u in item.owners.all()),
        "targets": [(t, selectors.done_percent(t)) for t in targets],
        "overdue": selectors.is_overdue(problem),
    }


@login_required
@require_GET
@renders_app_errors
def problems_export(request: HttpRequest) -> HttpResponse:
    """Download the filtered 台账 (xlsx or csv); every export is audited."""
    export = Export(
        request, object_type="rectification.problem", scope=scope_for(request.user, Perm.EXPORT)
    )
    form, filters = _filters(request)
    if form.errors:
        raise InvalidInput(
            _("Correct the filters before exporting."),
            detail={name: [str(e) for e in errors] for name, errors in form.errors.items()},
        )
    rows = selectors.problems_search(request.user, filters)
    rows = export.in_scope(rows, selectors.UNIT_PATH, limit=EXPORT_LIMIT)
    headers = [
        _("No."),
        _("Source"),
        _("Source reference"),
        _("Title"),
        pgettext("problem", "Category"),
        _("Severity"),
        _("Class"),
        _("Responsible unit"),
        _("Assigning unit"),
        _("Person responsible"),
        _("Leader in charge"),
        _("State"),
        _("Colour"),
        _("Due on"),
        _("Targets"),
        _("Opened at"),
        _("Closed at"),
        pgettext("problem", "On time"),
    ]

    def lines() -> Any:
        for problem in selectors.with_list_columns(rows).iterator(chunk_size=2000):
            item = problem.item
            assert item is not None
            targets = "；".join(
                f"{t.label} {plain_decimal(t.done)}/{plain_decimal(t.target)}{t.unit_of_measure}"
                for t in problem.targets.all()
            )
            yield [
                problem.pk,
                problem.get_source_display(),
                problem.source_ref,
                problem.title,
                problem.category,
                problem.get_severity_display(),
                problem.get_problem_class_display(),
                item.unit.place,
                problem.assigning_unit.name,
                problem.responsible_name,
                problem.leader_name,
                str(PROBLEM.state_label(item.state)),
                problem.get_colour_display() if problem.colour else "",
                problem.due_on,
                targets,
                local_minute(item.opened_at),
                local_minute(item.closed_at),
                {True: _("Yes"), False: _("No")}.get(problem.on_time, ""),  # type: ignore[arg-type]
            ]

    return export.response(
        name="rectification-problems",
        headers=headers,
        rows=lines(),
        unit_path=filters.unit.path if filters.unit else "",
        label="problems export",
    )


# ------------------------------------------------------------------ one problem


def _may(request: HttpRequest, perm: Perm, path: str) -> bool:
    return scope_for(request.user, perm).covers(path)


def _forms(problem: Problem, data: Any = None) -> dict[str, Any]:
    return {
        "assign": AssignForm(data, candidates=selectors.owner_candidates(problem)),
        "progress": ProgressForm(data, problem=problem),
        "submit": SubmitForm(data),
        "accept": AcceptForm(data),
        "return": ReasonForm(data),
        "check": CheckForm(data),
        "close": ReasonForm(data),
        "recur": RecurForm(data),
        "saving": SavingForm(data),
    }


def _actions(request: HttpRequest, problem: Problem) -> set[str]:
    """The actions the viewer may take now; the services check again."""
    item = problem.item
    assert item is not None
    user = request.user
    rectify = _may(request, Perm.RECTIFY, item.unit_path)
    accepting = _may(request, Perm.ACCEPT_PROBLEMS, problem.assigning_path)
    owner = any(o.pk == user.pk for o in item.owners.all())
    state = item.state
    actions = set()
    if accepting and not owner and item.is_open and state in (REGISTERED, ASSIGNED):
        actions.add("assign")
    if rectify and item.is_open and state in (ASSIGNED, IN_PROGRESS):
        actions |= {"progress", "submit"}
    if rectify:
        actions.add("saving")
    if accepting and not owner:
        if state == SUBMITTED:
            actions |= {"accept", "return"}
        if state == ACCEPTED:
            actions.add("check")
        if state == CHECKED and item.is_open:
            actions.add("close")
        if not item.is_open:
            actions.add("recur")
    return actions


def _problem_render(
    request: HttpRequest,
    problem: Problem,
    *,
    refused: tuple[str, Any] | None = None,
    status: int = 200,
) -> HttpResponse:
    item = problem.item
    assert item is not None
    forms = _forms(problem)
    if refused is not None:
        forms[refused[0]] = refused[1]
    history = [(entry, _entry_summary(entry)) for entry in ledger_selectors.item_history(item)]
    check_day = selectors.check_day(problem)
    return render(
        request,
        "rectification/problem.html",
        {
            "problem": problem,
            "item": item,
            "state": PROBLEM.state_label(item.state),
            "owners": list(item.owners.all()),
            "targets": selectors.target_rows(problem),
            "milestones": list(problem.milestones.all()),
            "evidence": list(problem.evidence.all()),
            "savings": [
                (s, selectors.saved_percent(s.baseline, s.current)) for s in problem.savings.all()
            ],
            "history": history,
            "forms": forms,
            "actions": _actions(request, problem),
            "refused": refused[0] if refused else "",
            "check_day": check_day,
            "check_early": check_day is not None and timezone.localdate() < check_day,
            "today": timezone.localdate(),
        },
        status=status,
    )


def _entry_summary(entry: Entry) -> str:
    data = entry.data or {}
    if "from" in data and "to" in data:
        return f"{PROBLEM.state_label(data['from'])} → {PROBLEM.state_label(data['to'])}"
    return ""


@login_required
@require_GET
@renders_app_errors
def problem_page(request: HttpRequest, problem_id: int) -> HttpResponse:
    """One problem: facts, targets, milestones, evidence, savings, history and actions."""
    return _problem_render(request, selectors.problem_get(request.user, problem_id))


@login_required
@require_POST
@renders_app_errors
def problem_action(request: HttpRequest, problem_id: int, action: str) -> HttpResponse:
    """Take one step on a problem from its page."""
    problem = selectors.problem_get(request.user, problem_id)
    handler = _ACTIONS.get(action)
    if handler is None:
        raise NotFound()
    form = _forms(problem, request.POST)[action]
    try:
        if not form.is_valid():
            raise InvalidInput(detail={k: [str(m) for m in v] for k, v in form.errors.items()})
        message = handler(request, problem, form)
    except (InvalidInput, Conflict) as exc:
        _add_errors(form, exc)
        return _problem_render(request, problem, refused=(action, form), status=exc.status)
    messages.success(request, message)
    # "#": the page opens at its top, where the message is (without a fragment of its own
    # the redirect keeps the form's #form-<step>, which a refusal uses to show the step)
    return redirect(reverse("rectification:problem", args=[problem.pk]) + "#")


def _add_errors(form: Any, exc: ApplicationError) -> None:
    """Put a service's refusal on the form: at the field it names, else above the fields."""
    if form.errors:  # the form itself refused; its errors are already in place
        return
    detail = exc.detail if isinstance(exc.detail, dict) else {}
    aliases = {"done": "note", "files": "note"}
    named: dict[str, Any] = {}
    for key, problems in detail.items():
        field = key if key in form.fields else aliases.get(key, "")
        if field in form.fields:
            named.setdefault(field, []).extend(problems)
    for field, problems in named.items():
        for problem in problems:
            form.add_error(field, str(problem))
    if not named:
        form.add_error(None, exc.as_text())


def _assign(request: HttpRequest, problem: Problem, form: Any) -> str:
    data = form.cleaned_data
    candidates = selectors.owner_candidates(problem).filter(pk__in=data["owners"])
    services.problem_assign(
        actor=request.user,
        problem=problem,
        owners=list(candidates),
        responsible_name=data.get("responsible_name") or "",
    )
    return _("The problem was assigned.")


def _progress(request: HttpRequest, problem: Problem, form: Any) -> str:
    services.problem_progress(
        actor=request.user,
        problem=problem,
        note=form.cleaned_data.get("note") or "",
        done=form.done(),
        files=request.FILES.getlist("files"),
        milestones_done=form.cleaned_data.get("milestones") or [],
    )
    return _("The progress was recorded.")


def _submit(request: HttpRequest, problem: Problem, form: Any) -> str:
    services.problem_submit(actor=request.user, problem=problem, **form.cleaned_data)
    return _("The work was submitted for acceptance.")


def _accept(request: HttpRequest, problem: Problem, form: Any) -> str:
    services.problem_accept(actor=request.user, problem=problem, **form.cleaned_data)
    return _("The work was accepted.")


def _return(request: HttpRequest, problem: Problem, form: Any) -> str:
    services.problem_return(actor=request.user, problem=problem, **form.cleaned_data)
    return _("The work was returned for rework.")


def _check(request: HttpRequest, problem: Problem, form: Any) -> str:
    effective = form.cleaned_data["effective"] == "1"
    services.problem_check_effect(
        actor=request.user,
        problem=problem,
        effective=effective,
        note=form.cleaned_data.get("note") or "",
    )
    if effective:
        return _("The fix holds; the problem may be closed out.")
    return _("The fix does not hold; the problem is back in progress.")


def _close(request: HttpRequest, problem: Problem, form: Any) -> str:
    services.problem_close_out(actor=request.user, problem=problem, **form.cleaned_data)
    return _("The problem was closed out.")


def _recur(request: HttpRequest, problem: Problem, form: Any) -> str:
    services.problem_recur(actor=request.user, problem=problem, **form.cleaned_data)
    return _("The problem was reopened.")


def _saving(request: HttpRequest, problem: Problem, form: Any) -> str:
    services.saving_record(actor=request.user, problem=problem, **form.cleaned_data)
    return _("The saving was recorded.")


_ACTIONS: dict[str, Any] = {
    "assign": _assign,
    "progress": _progress,
    "submit": _submit,
    "accept": _accept,
    "return": _return,
    "check": _check,
    "close": _close,
    "recur": _recur,
    "saving": _saving,
}


@login_required
@require_GET
@renders_app_errors
def evidence_download(request: HttpRequest, evidence_id: int) -> HttpResponse:
    """An evidence file, to whoever sees its problem."""
    evidence = Evidence.objects.filter(pk=evidence_id).select_related("problem").first()
    if evidence is None:
        raise NotFound()
    selectors.problem_get(request.user, evidence.problem_id)
    try:
        with evidence.file.open("rb") as handle:
            content = handle.read()  # at most 10 MB (services.MAX_EVIDENCE_BYTES)
    except (FileNotFoundError, ValueError):
        raise NotFound() from None
    kind = mimetypes.guess_type(evidence.name)[0] or "application/octet-stream"
    response = HttpResponse(content, content_type=kind)
    response["Content-Disposition"] = content_disposition_header(True, evidence.name) or ""
    response["X-Content-Type-Options"] = "nosniff"
    return response


# ------------------------------------------------------------------ registration


@login_required
@require_http_methods(["GET", "POST"])
@requires(Perm.RECTIFY)
def problem_new(request: HttpRequest) -> HttpResponse:
    """Register a problem by form, for one of the units where the user rectifies."""
    units = list(selectors.assigning_units(request.user))
    form = RegisterForm(request.POST or None, units=units)
    status = 200
    if request.method == "POST":
        try:
            if not form.is_valid():
                _check_beyond_the_form(request, form)  # their errors too, in one round
                raise InvalidInput(detail={k: [str(m) for m in v] for k, v in form.errors.items()})
            problem = _register(request, form, units)
        except (InvalidInput, Conflict) as exc:
            _add_errors(form, exc)
            status = exc.status
        else:
            messages.success(request, _("The problem was registered."))
            return redirect("rectification:problem", problem_id=problem.pk)
    return render(request, "rectification/register.html", {"form": form}, status=status)


_NO_SUCH_UNIT = gettext_lazy("No unit with this code in your scope.")


def _check_beyond_the_form(request: HttpRequest, form: RegisterForm) -> None:
    """The unit code and the milestones, checked when the form has errors of its own."""
    code = form.cleaned_data.get("unit_code")
    if code and "unit_code" not in form.errors:
        try:
            selectors.unit_for_problems(request.user, code)
        except NotFound:
            form.add_error("unit_code", str(_NO_SUCH_UNIT))
    for field, problems in _milestone_problems(form).items():
        if field not in form.errors:
            form.add_error(field, problems[0])


def _register(request: HttpRequest, form: RegisterForm, units: list[OrgUnit]) -> Problem:
    data = form.cleaned_data
    assigning = next(u for u in units if u.pk == data["assigning_unit"])
    try:
        unit = selectors.unit_for_problems(request.user, data["unit_code"])
    except NotFound:  # with the milestones' problems, so that all show in one round
        message = str(_NO_SUCH_UNIT)
        detail = {"unit_code": [message], **_milestone_problems(form)}
        raise InvalidInput(message, detail=detail) from None
    try:
        return services.problem_register(
            actor=request.user,
            new=services.NewProblem(
                title=data["title"],
                unit=unit,
                assigning_unit=assigning,
                source=data["source"],
                problem_class=data["problem_class"],
                due_on=data.get("due_on"),
                due_working_days=data.get("due_working_days"),
                source_ref=data.get("source_ref") or "",
                description=data.get("description") or "",
                category=data.get("category") or "",
                severity=data["severity"],
                responsible_name=data.get("responsible_name") or "",
                leader_name=data.get("leader_name") or "",
                targets=form.targets(),
                milestones=form.milestones(),
            ),
        )
    except InvalidInput as exc:  # the service names the unit "unit"; the form "unit_code"
        if isinstance(exc.detail, dict):
            if "unit" in exc.detail:
                exc.detail["unit_code"] = exc.detail.pop("unit")
            _name_milestone_rows(exc.detail, form)
        raise


def _milestone_problems(form: RegisterForm) -> dict[str, list[str]]:
    """The milestones the service would refuse, by the form's row (a due date given)."""
    data, today = form.cleaned_data, timezone.localdate()
    problems = {}
    for i in range(MILESTONE_ROWS):
        day = data.get(f"milestone_{i}_due")
        if data.get(f"milestone_{i}_title") and day is not None:
            refusal = services.milestone_refusal(day, today=today, due_on=data.get("due_on"))
            if refusal:
                problems[f"milestone_{i}_due"] = [refusal]
    return problems


def _name_milestone_rows(detail: dict[str, Any], form: RegisterForm) -> None:
    """The service names the Nth milestone sent ("milestones.N"); the form's rows may have
    blanks between them."""
    filled = [i for i in range(MILESTONE_ROWS) if form.cleaned_data.get(f"milestone_{i}_title")]
    for key in [key for key in detail if key.startswith("milestones.")]:
        index = int(key.split(".", 1)[1])
        detail[f"milestone_{filled[index]}_due"] = detail.pop(key)


# ------------------------------------------------------------------ figures


FIGURES = ("found", "closed", "on_time", "overdue", "targets", "savings")


def figure_url(figure: str, unit: OrgUnit, start: dt.date, end: dt.date) -> str:
    """The 台账 list narrowed to what one figure counts."""
    f = selectors.filter_for_figure(figure, unit, start, end)
    query: dict[str, Any] = {"unit": unit.code or unit.pk, "state": ""}
    for name in (
        "opened_from",
        "opened_to",
        "closed_from",
        "closed_to",
        "active_from",
        "active_to",
    ):
        if getattr(f, name):
            query[name] = getattr(f, name).isoformat()
    if f.on_time is not None:
        query["on_time"] = "1" if f.on_time else "0"
    if f.overdue:
        query["overdue"] = "1"
    if f.with_targets:
        query["with_targets"] = "1"
    if f.with_savings:
        query["with_savings"] = "1"
    return f"{reverse('rectification:problems')}?{urlencode(query)}"


def _period(data: dict[str, Any]) -> tuple[dt.date, dt.date]:
    today = timezone.localdate()
    start = data.get("start") or today.replace(day=1)
    end = data.get("end") or today
    return start, max(end, start)


@login_required
@require_GET
@requires(Perm.VIEW_PROBLEMS)
def figures(request: HttpRequest) -> HttpResponse:
    """Problems found, closed, on time, overdue, targets done and savings of a unit and its
    children in a period, each a link to the rows it counts; open items by colour over time."""
    form = FiguresForm(request.GET or None)
    data = form.cleaned_data if form.is_bound and form.is_valid() else {}
    key = (data.get("unit") or "").strip()
    unit = None
    if key:
        try:
            unit = selectors.unit_for_problems(request.user, key)
        except NotFound:
            form.add_error("unit", _("No unit of yours has this code."))
    unit = unit or selectors.default_unit(request.user)
    if unit is None:
        raise NotFound()
    start, end = _period(data)
    total, rows = selectors.figures_by_child(request.user, unit, start, end)
    if not form.is_bound:  # show the period and unit the figures are of
        form = FiguresForm(initial={"unit": unit.code, "start": start, "end": end})

    def links(row: selectors.Figures) -> dict[str, str]:
        target = row.unit
        if row.own:  # the unit's own problems: the list cannot split them from its subtree
            return {}
        return {figure: figure_url(figure, target, start, end) for figure in FIGURES}

    series = selectors.colour_series(unit, start, end)
    return render(
        request,
        "rectification/figures.html",
        {
            "form": form,
            "unit": unit,
            "start": start,
            "end": end,
            "total": total,
            "total_links": links(total),
            "rows": [(row, links(row)) for row in rows],
            "chart": _chart(series),
        },
    )


CHART_HEIGHT = 160
CHART_BAR = 14


def _chart(series: list[selectors.ColourDay]) -> dict[str, Any]:
    """Stacked bars of open problems by colour per day, laid out for an inline SVG."""
    top = max((day.total for day in series), default=0)
    scale = (CHART_HEIGHT - 20) / top if top else 0
    bars = []
    for index, day in enumerate(series):
        x, y = index * (CHART_BAR + 4) + 30, CHART_HEIGHT - 16
        parts = []
        for name in ("red", "yellow", "blue", "plain"):
            n = getattr(day, name)
            height = round(n * scale, 1)
            y -= height
            if n:
                parts.append({"colour": name, "n": n, "y": round(y, 1), "height": height})
        bars.append({"day": day, "x": x, "parts": parts})
    return {
        "bars": bars,
        "width": max(len(series) * (CHART_BAR + 4) + 40, 200),
        "height": CHART_HEIGHT,
        "top": top,
        "bar": CHART_BAR,
        "label_y": CHART_HEIGHT - 2,
    }


def problems_url(**query: Any) -> str:
    """The 台账 list with ``query`` (the home page's links)."""
    return (
        f"{reverse('rectification:problems')}?{urlencode(query)}"
        if query
        else reverse("rectification:problems")
    )
