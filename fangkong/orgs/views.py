"""Pages of the org tree, people and imports. Thin: selectors read, services write."""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_POST

from fangkong.accounts.decorators import requires
from fangkong.accounts.roles import Perm
from fangkong.accounts.selectors import export_with_numbers, scope_for, user_has_perm_anywhere
from fangkong.core.errors import (
    Conflict,
    InvalidInput,
    NotFound,
)
from fangkong.core.exports import Export
from fangkong.core.routing import reads_from_replica
from fangkong.core.web import XLSX, page_context, renders_app_errors

from . import importing, person_sections, selectors, services
from .forms import (
    ImportUploadForm,
    PeopleFilterForm,
    PersonAddForm,
    PersonEditForm,
    UnitAddForm,
    UnitMoveForm,
    UnitRenameForm,
)
from .models import ImportJob, Person

EXPORT_LIMIT = 200_000


@login_required
@renders_app_errors
def tree(request: HttpRequest) -> HttpResponse:
    """The tree page: search by name, code or pinyin initials; expand nodes lazily."""
    query = request.GET.get("q", "").strip()
    results = selectors.unit_search(request.user, query)[:50] if query else None
    roots = selectors.unit_roots(request.user)
    counts = selectors.headcounts_by_subtree(roots)
    for root in roots:
        root.headcount = counts[root.pk]  # type: ignore[attr-defined]
    return render(request, "orgs/tree.html", {"query": query, "results": results, "roots": roots})


@login_required
@renders_app_errors
def tree_children(request: HttpRequest, unit_id: int) -> HttpResponse:
    """The children of one node, for htmx to insert under it."""
    unit = selectors.unit_get(request.user, unit_id)
    return render(
        request, "orgs/_children.html", {"children": selectors.unit_children(request.user, unit)}
    )


@login_required
@renders_app_errors
def unit_detail(request: HttpRequest, unit_id: int) -> HttpResponse:
    return _unit_page(request, selectors.unit_get(request.user, unit_id))


def _unit_page(
    request: HttpRequest, unit: Any, *, refused: tuple[str, Any] | None = None, status: int = 200
) -> HttpResponse:
    """The unit page; ``refused`` is (action, bound form) of a form the server turned down,
    shown again with what was typed and its messages at the fields.
    """
    forms: dict[str, Any] = {
        "add": UnitAddForm.under(unit.kind),
        "rename": UnitRenameForm(initial={"name": unit.name}),
        "move": UnitMoveForm(),
        "add-person": PersonAddForm(),
    }
    focus = ""
    if refused is not None:
        action, form = refused
        forms[action] = form
        first = next((name for name in form.fields if name in form.errors), "")
        focus = f"{action}:{first}" if first else ""
        if first and first not in _RAW_INPUTS:  # a rendered widget carries the focus itself
            form.fields[first].widget.attrs.update({"autofocus": True, "aria-invalid": "true"})
    return render(
        request,
        "orgs/unit.html",
        {
            "unit": unit,
            "breadcrumbs": selectors.unit_breadcrumbs(request.user, unit),
            "children": selectors.unit_children(request.user, unit, include_closed=True),
            "headcount": selectors.subtree_headcount(unit.path),
            "can_manage": scope_for(request.user, Perm.MANAGE_UNITS).covers(unit.path),
            "can_add_people": scope_for(request.user, Perm.MANAGE_PEOPLE).covers(unit.path),
            "add_form": forms["add"],
            "rename_form": forms["rename"],
            "move_form": forms["move"],
            "person_form": forms["add-person"],
            "refused": refused[0] if refused else "",
            "focus": focus,
        },
        status=status,
    )


def _person_save(request: HttpRequest, person: Person, data: dict[str, Any]) -> None:
    unit = selectors.unit_get_by_code(request.user, data["unit_code"], Perm.MANAGE_PEOPLE)
    # Someone who sees only the masked number cannot have typed the real one: keep it.
    visible = scope_for(request.user, Perm.VIEW_SENSITIVE).covers(person.unit_path)
    phone = data["phone"] if visible else person.phone
    services.person_update(
        actor=request.user,
        person=person,
        phone=phone,
        category=data["category"],
        unit=unit,
        is_party_member=data["is_party_member"],
    )


def _cleaned(form: Any) -> dict[str, Any]:
    """Return a bound form's cleaned data, or raise its problems as one InvalidInput."""
    if not form.is_valid():
        raise InvalidInput(detail={k: [str(m) for m in v] for k, v in form.errors.items()})
    return form.cleaned_data


@login_required
@require_POST
@renders_app_errors
def unit_action(request: HttpRequest, unit_id: int, action: str) -> HttpResponse:
    """Add a sub-unit or a person, rename, move or close a unit from its page.

    A refused form comes back on the page with what was typed and the message at its
    field; a redirect would lose every field.
    """
    unit = selectors.unit_get(request.user, unit_id)
    handler = _UNIT_ACTIONS.get(action)
    if handler is None:
        raise NotFound()
    form = _UNIT_FORMS[action](request.POST) if action in _UNIT_FORMS else None
    try:
        message = handler(request, unit, form)
    except (InvalidInput, Conflict) as exc:
        if form is None:  # closing has no fields: the message goes on top
            messages.error(request, exc.as_text())
            return redirect("orgs:unit", unit_id=unit.pk)
        _add_errors(form, exc)
        return _unit_page(request, unit, refused=(action, form), status=exc.status)
    messages.success(request, message)
    return redirect("orgs:unit", unit_id=unit.pk)


def _add_errors(form: Any, exc: InvalidInput | Conflict) -> None:
    """Put a service's refusal on the form: at the field it names, else above the fields."""
    if form.errors:  # the form itself refused; its errors are already in place
        return
    detail = exc.detail if isinstance(exc.detail, dict) else {}
    named = {k: v for k, v in detail.items() if k in form.fields}
    for field, problems in named.items():
        for problem in problems:
            form.add_error(field, str(problem))
    if not named:
        form.add_error(None, exc.as_text())


def _add_child(request: HttpRequest, unit: Any, form: Any) -> str:
    child = services.unit_create(actor=request.user, parent=unit, **_cleaned(form))
    return _("Unit %(name)s was added.") % {"name": child.name}


def _rename(request: HttpRequest, unit: Any, form: Any) -> str:
    services.unit_rename(actor=request.user, unit=unit, name=_cleaned(form)["name"])
    return _("The unit was renamed.")


def _move(request: HttpRequest, unit: Any, form: Any) -> str:
    data = _cleaned(form)
    try:
        parent = selectors.unit_get_by_code(request.user, data["parent_code"])
    except NotFound:
        message = _("No unit with this code in your scope.")
        raise InvalidInput(message, detail={"parent_code": [message]}) from None
    services.unit_move(actor=request.user, unit=unit, new_parent=parent)
    return _("The unit was moved under %(name)s.") % {"name": parent.name}


def _close(request: HttpRequest, unit: Any, form: Any) -> str:
    services.unit_close(actor=request.user, unit=unit)
    return _("The unit and its sub-units were closed.")


def _add_person(request: HttpRequest, unit: Any, form: Any) -> str:
    person = services.person_create(actor=request.user, unit=unit, **_cleaned(form))
    return _("%(name)s was registered.") % {"name": person.name}


# Fields unit.html writes as plain inputs (the others are rendered widgets).
_RAW_INPUTS = {"code", "name", "id_number", "phone", "parent_code"}

_UNIT_FORMS: dict[str, Any] = {
    "add": UnitAddForm,
    "rename": UnitRenameForm,
    "move": UnitMoveForm,
    "add-person": PersonAddForm,
}
_UNIT_ACTIONS = {
    "add": _add_child,
    "rename": _rename,
    "move": _move,
    "close": _close,
    "add-person": _add_person,
}


@login_required
@renders_app_errors
def units_export(request: HttpRequest) -> HttpResponse:
    """Download the units matching the tree search (or every unit in scope) with head-counts."""
    scope = scope_for(request.user, Perm.EXPORT)
    export = Export(request, object_type="orgs.orgunit", scope=scope)
    units = list(
        selectors.unit_search(request.user, request.GET.get("q", ""), include_closed=True)
        .filter(scope.q("path"))
        .select_related("parent")[:EXPORT_LIMIT]
    )
    counts = selectors.headcounts_by_subtree(units)
    headers = [
        _("Code"),
        _("Name"),
        _("Kind"),
        _("Parent code"),
        _("Effective from"),
        _("Closed on"),
        _("People"),
    ]
    rows = (
        [
            u.code,
            u.name,
            u.get_kind_display(),
            u.parent.code if u.parent else "",
            u.valid_from.isoformat(),
            u.valid_to.isoformat() if u.valid_to else "",
            counts[u.pk],
        ]
        for u in units
    )
    return export.response(name="units", headers=headers, rows=rows)


def _people_query(request: HttpRequest) -> tuple[PeopleFilterForm, Any]:
    form = PeopleFilterForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    unit = (
        selectors.unit_get(request.user, data["unit"], Perm.VIEW_PEOPLE)
        if data.get("unit")
        else None
    )
    party = {"1": True, "0": False}.get(data.get("party", ""))
    people = selectors.people_visible(
        request.user,
        selectors.PeopleFilter(
            query=data.get("q", ""),
            unit=unit,
            category=data.get("category", ""),
            party_member=party,
        ),
    )
    return form, (people, unit)


@login_required
@reads_from_replica
@renders_app_errors
def people(request: HttpRequest) -> HttpResponse:
    """People in scope with search, filters and paging; numbers masked unless allowed."""
    form, (people, unit) = _people_query(request)
    context = page_context(request, people, 50)
    sensitive = scope_for(request.user, Perm.VIEW_SENSITIVE)
    rows = [
        (p, selectors.person_public_fields(p, sensitive_scope=sensitive))
        for p in context["page_obj"]
    ]
    selectors.sensitive_list_view_log(
        request.user, [p.pk for p, shown in rows if not shown["masked"]]
    )
    return render(
        request,
        "orgs/people.html",
        {
            **context,
            "form": form,
            "rows": rows,
            "unit": unit,
            "can_export": user_has_perm_anywhere(request.user, Perm.EXPORT),
        },
    )


@login_required
@renders_app_errors
def people_export(request: HttpRequest) -> HttpResponse:
    """Download the filtered list as .xlsx or .csv, masked exactly as on screen."""
    export, scope = export_with_numbers(request, "orgs.person")
    _form, (people, unit) = _people_query(request)
    people = scope.filter(people, "unit_path")
    export.check_size(people.count(), EXPORT_LIMIT)
    headers = [
        pgettext("person", "Name"),
        _("Gender"),
        _("Document type"),
        _("Document number"),
        _("Phone"),
        _("Category"),
        _("Unit"),
        _("Unit code"),
        _("Party member"),
    ]

    def rows() -> Any:
        for p in people.iterator(chunk_size=2000):
            id_number, phone = export.numbers(p)
            yield [
                p.name,
                p.get_gender_display(),
                p.get_id_type_display(),
                id_number,
                phone,
                p.get_category_display(),
                p.unit.name,
                p.unit.code,
                _("Yes") if p.is_party_member else _("No"),
            ]

    return export.response(
        name="people", headers=headers, rows=rows(), unit_path=unit.path if unit else ""
    )


@login_required
@renders_app_errors
def person_detail(request: HttpRequest, person_id: int) -> HttpResponse:
    """One person; viewing the full numbers is recorded in the audit log."""
    person = selectors.person_get(request.user, person_id)
    sensitive = scope_for(request.user, Perm.VIEW_SENSITIVE)
    shown = selectors.person_public_fields(person, sensitive_scope=sensitive)
    if not shown["masked"]:
        selectors.sensitive_view_log(request.user, person)
    history = selectors.person_history(person)
    can_edit = scope_for(request.user, Perm.MANAGE_PEOPLE).covers(person.unit_path)
    form = None
    if can_edit and person.is_active:
        form = PersonEditForm(
            request.POST or None,
            initial={
                "phone": shown["phone"],
                "category": person.category,
                "unit_code": person.unit.code,
                "is_party_member": person.is_party_member,
            },
        )
        if request.method == "POST" and form.is_valid():
            try:
                _person_save(request, person, form.cleaned_data)
                messages.success(request, _("Saved."))
                return redirect("orgs:person", person_id=person.pk)
            except NotFound:
                form.add_error("unit_code", _("No unit with this code in your scope."))
            except (InvalidInput, Conflict) as exc:
                form.add_error(None, exc.as_text())
    return render(
        request,
        "orgs/person.html",
        {
            "person": person,
            "shown": shown,
            "history": history,
            "merged_records": Person.objects.filter(merged_into=person),
            "form": form,
            "sections": person_sections.sections_for(request.user, person),
        },
    )


@login_required
@renders_app_errors
def duplicates(request: HttpRequest) -> HttpResponse:
    """Active people who share a document number, with a merge action per group."""
    sensitive = scope_for(request.user, Perm.VIEW_SENSITIVE)
    groups = [
        [(p, selectors.person_public_fields(p, sensitive_scope=sensitive)) for p in group]
        for group in selectors.duplicate_groups(request.user)
    ]
    return render(request, "orgs/duplicates.html", {"groups": groups})


@login_required
@require_POST
@renders_app_errors
def merge(request: HttpRequest) -> HttpResponse:
    survivor = selectors.person_get(request.user, request.POST.get("survivor"))
    duplicate = selectors.person_get(request.user, request.POST.get("duplicate"))
    services.person_merge(actor=request.user, survivor=survivor, duplicate=duplicate)
    messages.success(request, _("The records were merged; the duplicate is kept in the history."))
    return redirect("orgs:duplicates")


# ------------------------------------------------------------------ imports


@login_required
@renders_app_errors
@requires(Perm.IMPORT)
def imports(request: HttpRequest) -> HttpResponse:
    """Upload a file and list earlier import jobs."""
    form = ImportUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            unit = selectors.unit_get_by_code(
                request.user, form.cleaned_data["unit_code"], Perm.IMPORT
            )
            job = importing.import_job_create(
                actor=request.user,
                kind=form.cleaned_data["kind"],
                scope_unit=unit,
                upload=form.cleaned_data["file"],
            )
            return redirect("orgs:import_detail", job_id=job.pk)
        except NotFound:
            form.add_error("unit_code", _("No unit with this code in your import scope."))
        except InvalidInput as exc:
            form.add_error(None, str(exc.message))
    return render(
        request,
        "orgs/imports.html",
        {"form": form, **page_context(request, selectors.import_jobs_visible(request.user), 20)},
    )


@login_required
@renders_app_errors
def import_detail(request: HttpRequest, job_id: int) -> HttpResponse:
    """The preview: progress, every rejected row with its reason, and the commit button."""
    job = selectors.import_job_get(request.user, job_id)
    template = (
        "orgs/_import_status.html"
        if request.headers.get("HX-Request")
        else "orgs/import_detail.html"
    )
    return render(
        request,
        template,
        {"job": job, "errors": job.errors[:500], "running": job.status in _RUNNING},
    )


_RUNNING = {ImportJob.Status.PENDING, ImportJob.Status.VALIDATING, ImportJob.Status.COMMITTING}


@login_required
@require_POST
@renders_app_errors
def import_commit(request: HttpRequest, job_id: int) -> HttpResponse:
    job = selectors.import_job_get(request.user, job_id)
    importing.import_job_commit(
        actor=request.user, job=job, skip_bad_rows=request.POST.get("skip_bad_rows") == "1"
    )
    return redirect("orgs:import_detail", job_id=job.pk)


@login_required
@renders_app_errors
def import_rejected(request: HttpRequest, job_id: int) -> HttpResponse:
    job = selectors.import_job_get(request.user, job_id)
    response = HttpResponse(importing.rejected_rows_workbook(job), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="rejected-{job.pk}.xlsx"'
    return response


@login_required
def import_template(request: HttpRequest, kind: str) -> HttpResponse:
    if kind not in ImportJob.Kind.values:
        kind = ImportJob.Kind.PEOPLE
    response = HttpResponse(importing.template_workbook(kind), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="template-{kind}.xlsx"'
    return response
