"""/api/v1 endpoints of the health card: declare one or a batch, read statuses."""

from typing import Any

from django.http import HttpRequest
from django.utils.translation import get_language
from ninja import Router, Status
from ninja.pagination import paginate

from fangkong.core.divisions import division_search
from fangkong.core.pagination import MappedQuerySet
from fangkong.core.schema import Day, ObjectId, Pages

from . import selectors, services
from .models import Declaration
from .schemas import (
    BatchIn,
    BatchOut,
    DeclarationIn,
    DeclarationOut,
    DivisionOut,
    PersonHealthOut,
    StoredOut,
    SymptomOut,
)
from .status import reason_labels

router = Router(tags=["health"])


def stored_out(stored: services.Stored) -> dict[str, Any]:
    row = stored.declaration
    return {
        "id": row.pk,
        "uuid": row.uuid,
        "person": row.person_id,
        "day": row.day,
        "status": row.status,
        "reasons": row.reasons,
        "is_current": row.is_current,
        "duplicate": not stored.created,
    }


def declaration_out(row: Declaration) -> dict[str, Any]:
    return {
        "id": row.pk,
        "uuid": row.uuid,
        "person": row.person_id,
        "person_name": row.person.name,
        "unit_id": row.person.unit_id,
        "day": row.day,
        "temperature": float(row.temperature),
        "symptoms": row.symptoms,
        "division": row.division_id,
        "division_name": row.division.full_name,
        "whereabouts": row.whereabouts,
        "contact": row.contact,
        "risk_area_stay": row.risk_area_stay,
        "test_result": row.test_result,
        "filed_by": row.filed_by,
        "status": row.status,
        "reasons": row.reasons,
        "reason_labels": reason_labels(row.reasons),
        "is_current": row.is_current,
        "created_at": row.created_at,
    }


@router.post("/declarations", response={200: StoredOut, 201: StoredOut})
def declare(request: HttpRequest, payload: DeclarationIn) -> Any:
    """File one declaration on behalf of a person; the same UUID again returns the stored one."""
    [stored] = services.declarations_submit(
        actor=request.user, items=[payload.dict(exclude_none=True)]
    )
    return Status(201 if stored.created else 200, stored_out(stored))


@router.post("/declarations/batch", response=BatchOut)
def declare_batch(request: HttpRequest, payload: BatchIn) -> Any:
    """File up to 1,000 declarations at once, all or nothing; retried UUIDs are not stored twice."""
    results = services.declarations_submit(actor=request.user, items=payload.items)
    created = sum(1 for stored in results if stored.created)
    return {
        "created": created,
        "duplicates": len(results) - created,
        "results": [stored_out(stored) for stored in results],
    }


@router.get("/declarations", response=list[DeclarationOut])
@paginate(Pages, page_size=50)
def list_declarations(
    request: HttpRequest,
    day: Day | None = None,
    unit_id: ObjectId | None = None,
    status: str = "",
    include_history: bool = False,
) -> Any:
    """Declarations of people in the caller's health scope, newest day first."""
    unit = selectors.unit_for_health(request.user, pk=unit_id) if unit_id else None
    filters = selectors.DeclarationFilter(
        unit=unit, day=day, status=status, include_history=include_history
    )
    return MappedQuerySet(selectors.declarations_search(request.user, filters), declaration_out)


@router.get("/people/{person_id}/health", response=PersonHealthOut)
def person_health(request: HttpRequest, person_id: ObjectId) -> Any:
    """A person's current health status and the last 30 days of declarations."""
    person = selectors.person_for_health(request.user, person_id)
    history = list(selectors.person_status_history(person))
    current = next((row for row in history if row.is_current), None)
    return {
        "person": person.pk,
        "status": current.status if current else None,
        "reasons": current.reasons if current else [],
        "reason_labels": reason_labels(current.reasons) if current else [],
        "day": current.day if current else None,
        "history": [declaration_out(row) for row in history],
    }


@router.get("/divisions", response=list[DivisionOut])
def divisions(request: HttpRequest, q: str = "") -> Any:
    """Search GB/T 2260 divisions by code prefix, name or pinyin initials."""
    return list(division_search(q))


@router.get("/symptoms", response=list[SymptomOut])
def symptoms(request: HttpRequest) -> Any:
    """The symptom list the forms offer, in the caller's language."""
    english = (get_language() or "").startswith("en")
    return [
        {"code": s.code, "name": s.name_en if english else s.name}
        for s in selectors.symptoms_active()
    ]
