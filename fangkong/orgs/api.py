"""/api/v1 endpoints for units, people and import jobs. Thin: selectors and services do the work."""

from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import File, Form, Router, Status
from ninja.decorators import decorate_view
from ninja.files import UploadedFile
from ninja.pagination import paginate

from fangkong.accounts.roles import Perm
from fangkong.accounts.selectors import scope_for
from fangkong.core.pagination import MappedQuerySet
from fangkong.core.routing import reads_from_replica
from fangkong.core.schema import ObjectId, Pages

from . import importing, selectors, services
from .models import ImportJob, OrgUnit, Person
from .schemas import (
    ChildOut,
    CommitIn,
    HeadcountOut,
    ImportJobOut,
    MergeIn,
    PersonIn,
    PersonOut,
    PersonPatch,
    UnitCloseIn,
    UnitIn,
    UnitMoveIn,
    UnitOut,
    UnitPatch,
)

router = Router()
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def unit_out(unit: OrgUnit) -> dict[str, Any]:
    return {
        "id": unit.pk,
        "code": unit.code,
        "name": unit.name,
        "place": unit.place,
        "kind": unit.kind,
        "kind_label": str(unit.get_kind_display()),
        "parent_id": unit.parent_id,
        "depth": unit.depth,
        "path": unit.path,
        "valid_from": unit.valid_from,
        "valid_to": unit.valid_to,
        **(
            {"headcount": unit.headcount, "child_count": unit.child_count}  # type: ignore[attr-defined]
            if hasattr(unit, "headcount")
            else {}
        ),
    }


def person_out(person: Person, sensitive: Any) -> dict[str, Any]:
    visible = selectors.person_public_fields(person, sensitive_scope=sensitive)
    return {
        "id": person.pk,
        "name": person.name,
        "gender": person.gender,
        "id_type": person.id_type,
        "category": person.category,
        "unit_id": person.unit_id,
        "unit_name": person.unit.name,
        "household_id": person.household_id,
        "is_party_member": person.is_party_member,
        "joined_on": person.joined_on,
        "is_active": person.is_active,
        "merged_into_id": person.merged_into_id,
        **visible,
    }


def job_out(job: ImportJob) -> dict[str, Any]:
    return {
        "id": job.pk,
        "kind": job.kind,
        "status": job.status,
        "status_label": str(job.get_status_display()),
        "unit_id": job.scope_unit_id,
        "original_name": job.original_name,
        "rows_total": job.rows_total,
        "rows_done": job.rows_done,
        "rows_bad": job.rows_bad,
        "rows_imported": job.rows_imported,
        "progress_percent": job.progress_percent,
        "message": job.message,
        "skip_bad_rows": job.skip_bad_rows,
        "errors": job.errors[:1000],
        "header_row": job.header_row,
        "ignored_columns": job.ignored_columns,
        "created_at": job.created_at,
    }


# ------------------------------------------------------------------ units


@router.get("/units", response=list[UnitOut], tags=["units"])
@paginate(Pages, page_size=50)
def list_units(
    request: HttpRequest, q: str = "", kind: str = "", include_closed: bool = False
) -> Any:
    """Search the units in the caller's scope by name, code or pinyin initials."""
    units = selectors.unit_search(request.user, q, kind=kind, include_closed=include_closed)
    return MappedQuerySet(units, unit_out)


@router.get("/units/{unit_id}", response=UnitOut, tags=["units"])
def get_unit(request: HttpRequest, unit_id: ObjectId) -> Any:
    return unit_out(selectors.unit_get(request.user, unit_id))


@router.get("/units/{unit_id}/children", response=list[ChildOut], tags=["units"])
def unit_children(request: HttpRequest, unit_id: ObjectId) -> Any:
    """Return the unit's children with their subtree head-counts."""
    unit = selectors.unit_get(request.user, unit_id)
    return [unit_out(child) for child in selectors.unit_children(request.user, unit)]


@router.get("/units/{unit_id}/headcount", response=HeadcountOut, tags=["units"])
def unit_headcount(request: HttpRequest, unit_id: ObjectId) -> Any:
    """Count active people and open units in the unit's subtree."""
    unit = selectors.unit_get(request.user, unit_id)
    return {
        "unit_id": unit.pk,
        "headcount": selectors.subtree_headcount(unit.path),
        "units": selectors.subtree_unit_count(unit.path),
    }


@router.post("/units", response={201: UnitOut}, tags=["units"])
def create_unit(request: HttpRequest, payload: UnitIn) -> Any:
    parent = selectors.unit_get(request.user, payload.parent_id)
    unit = services.unit_create(
        actor=request.user,
        code=payload.code,
        name=payload.name,
        kind=payload.kind,
        parent=parent,
        valid_from=payload.valid_from,
    )
    return Status(201, unit_out(unit))


@router.patch("/units/{unit_id}", response=UnitOut, tags=["units"])
def rename_unit(request: HttpRequest, unit_id: ObjectId, payload: UnitPatch) -> Any:
    unit = selectors.unit_get(request.user, unit_id)
    return unit_out(services.unit_rename(actor=request.user, unit=unit, name=payload.name))


@router.post("/units/{unit_id}/move", response=UnitOut, tags=["units"])
def move_unit(request: HttpRequest, unit_id: ObjectId, payload: UnitMoveIn) -> Any:
    unit = selectors.unit_get(request.user, unit_id)
    parent = selectors.unit_get(request.user, payload.parent_id)
    return unit_out(services.unit_move(actor=request.user, unit=unit, new_parent=parent))


@router.post("/units/{unit_id}/close", response=UnitOut, tags=["units"])
def close_unit(request: HttpRequest, unit_id: ObjectId, payload: UnitCloseIn) -> Any:
    unit = selectors.unit_get(request.user, unit_id)
    return unit_out(services.unit_close(actor=request.user, unit=unit, on=payload.on))


# ------------------------------------------------------------------ people


@router.get("/people", response=list[PersonOut], tags=["people"])
@decorate_view(reads_from_replica)
@paginate(Pages, page_size=50)
def list_people(
    request: HttpRequest,
    q: str = "",
    unit_id: ObjectId | None = None,
    category: str = "",
    party_member: bool | None = None,
) -> Any:
    """List people in scope; numbers are masked unless the caller may see them."""
    unit = selectors.unit_get(request.user, unit_id, Perm.VIEW_PEOPLE) if unit_id else None
    people = selectors.people_visible(
        request.user,
        selectors.PeopleFilter(query=q, unit=unit, category=category, party_member=party_member),
    )
    sensitive = scope_for(request.user, Perm.VIEW_SENSITIVE)

    def log_unmasked(rows: list[dict[str, Any]]) -> None:
        selectors.sensitive_list_view_log(
            request.user, [row["id"] for row in rows if not row["masked"]]
        )

    return MappedQuerySet(people, lambda p: person_out(p, sensitive), log_unmasked)


@router.get("/people/duplicates", response=list[list[PersonOut]], tags=["people"])
def people_duplicates(request: HttpRequest) -> Any:
    """Groups of active people sharing a document number, for merging."""
    sensitive = scope_for(request.user, Perm.VIEW_SENSITIVE)
    return [
        [person_out(p, sensitive) for p in group]
        for group in selectors.duplicate_groups(request.user)
    ]


@router.get("/people/{person_id}", response=PersonOut, tags=["people"])
def get_person(request: HttpRequest, person_id: ObjectId) -> Any:
    """One person; full numbers (and an audit row) when the caller may see them."""
    person = selectors.person_get(request.user, person_id)
    sensitive = scope_for(request.user, Perm.VIEW_SENSITIVE)
    if sensitive.covers(person.unit_path):
        selectors.sensitive_view_log(request.user, person)
    return person_out(person, sensitive)


@router.post("/people", response={201: PersonOut}, tags=["people"])
def create_person(request: HttpRequest, payload: PersonIn) -> Any:
    unit = selectors.unit_get(request.user, payload.unit_id)
    household = (
        selectors.unit_get(request.user, payload.household_id) if payload.household_id else None
    )
    data = payload.dict(exclude={"unit_id", "household_id"})
    person = services.person_create(actor=request.user, unit=unit, household=household, **data)
    return Status(201, person_out(person, scope_for(request.user, Perm.VIEW_SENSITIVE)))


@router.patch("/people/{person_id}", response=PersonOut, tags=["people"])
def update_person(request: HttpRequest, person_id: ObjectId, payload: PersonPatch) -> Any:
    person = selectors.person_get(request.user, person_id)
    changes = payload.dict(exclude_unset=True)
    if changes.get("unit_id"):
        changes["unit"] = selectors.unit_get(request.user, changes.pop("unit_id"))
    person = services.person_update(actor=request.user, person=person, **changes)
    return person_out(person, scope_for(request.user, Perm.VIEW_SENSITIVE))


@router.post("/people/{person_id}/merge", response=PersonOut, tags=["people"])
def merge_person(request: HttpRequest, person_id: ObjectId, payload: MergeIn) -> Any:
    """Merge another record with the same document number into this one."""
    survivor = selectors.person_get(request.user, person_id)
    duplicate = selectors.person_get(request.user, payload.duplicate_id)
    person = services.person_merge(actor=request.user, survivor=survivor, duplicate=duplicate)
    return person_out(person, scope_for(request.user, Perm.VIEW_SENSITIVE))


# ------------------------------------------------------------------ imports


@router.get("/imports", response=list[ImportJobOut], tags=["imports"])
@paginate(Pages, page_size=20)
def list_imports(request: HttpRequest) -> Any:
    return MappedQuerySet(selectors.import_jobs_visible(request.user), job_out)


@router.post("/imports", response={201: ImportJobOut}, tags=["imports"])
def create_import(
    request: HttpRequest,
    kind: Form[str],
    unit_id: Form[int],
    file: File[UploadedFile],
    skip_bad_rows: Form[bool] = False,
) -> Any:
    """Upload a spreadsheet or .csv file; the job validates it and waits for a commit."""
    unit = selectors.unit_get(request.user, unit_id)
    job = importing.import_job_create(
        actor=request.user, kind=kind, scope_unit=unit, upload=file, skip_bad_rows=skip_bad_rows
    )
    job.refresh_from_db()
    return Status(201, job_out(job))


@router.get("/imports/{job_id}", response=ImportJobOut, tags=["imports"])
def get_import(request: HttpRequest, job_id: ObjectId) -> Any:
    return job_out(selectors.import_job_get(request.user, job_id))


@router.post("/imports/{job_id}/commit", response=ImportJobOut, tags=["imports"])
def commit_import(request: HttpRequest, job_id: ObjectId, payload: CommitIn) -> Any:
    """Write every row (or, when asked, every valid row) in one transaction."""
    job = selectors.import_job_get(request.user, job_id)
    return job_out(
        importing.import_job_commit(
            actor=request.user, job=job, skip_bad_rows=payload.skip_bad_rows
        )
    )


@router.get("/imports/{job_id}/rejected", tags=["imports"])
def rejected_rows(request: HttpRequest, job_id: ObjectId) -> HttpResponse:
    """Download the rejected rows with their reasons as .xlsx."""
    job = selectors.import_job_get(request.user, job_id)
    response = HttpResponse(importing.rejected_rows_workbook(job), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="rejected-{job.pk}.xlsx"'
    return response
