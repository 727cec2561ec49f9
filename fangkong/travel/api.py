"""/api/v1 endpoints of travel: itineraries, returnee cards, risk areas, return rules. Thin."""

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import File, Form, Router, Status
from ninja.files import UploadedFile
from ninja.pagination import paginate

from fangkong.accounts.roles import Perm
from fangkong.core.errors import InvalidInput
from fangkong.core.models import Division
from fangkong.core.pagination import MappedQuerySet
from fangkong.core.schema import ObjectId, Pages

from . import importing, selectors, services
from .models import Decision, Itinerary, ReturneeCard, ReturnRule, RiskArea
from .schemas import (
    CardIn,
    DeletedOut,
    ItineraryIn,
    ItineraryOut,
    ListChangeOut,
    ReturneeCardOut,
    RiskAreaIn,
    RiskAreaOut,
    RuleIn,
    RuleOut,
)

router = Router(tags=["travel"])


def itinerary_out(row: Itinerary) -> dict[str, Any]:
    return {
        "id": row.pk,
        "person": row.person_id,
        "division": row.division_id,
        "division_name": row.division.full_name,
        "from_day": row.from_day,
        "to_day": row.to_day,
        "transport": row.transport,
        "transport_number": row.transport_number,
        "note": row.note,
        "source": row.source,
        "card": row.card_id,
    }


def decision_out(decision: Decision | None) -> dict[str, Any] | None:
    if decision is None:
        return None
    return {
        "outcome": decision.outcome,
        "outcome_label": str(decision.get_outcome_display()),
        "level": decision.level,
        "rule_id": decision.rule_id,
        "rule_label": decision.rule_label,
        "areas": decision.areas,
        "quarantine_days": decision.quarantine_days,
        "quarantine_until": decision.quarantine_until,
        "mode": decision.mode,
        "tests": decision.tests,
        "monitoring_days": decision.monitoring_days,
        "explanation": decision.explanation,
        "decided_at": decision.decided_at,
    }


def card_out(card: ReturneeCard, *, detail: bool = False) -> dict[str, Any]:
    out = {
        "id": card.pk,
        "person": card.person_id,
        "person_name": card.person.name,
        "unit_id": card.person.unit_id,
        "planned_return": card.planned_return,
        "coming_from": card.coming_from_id,
        "no_travel": card.no_travel,
        "fever": card.fever,
        "symptoms": card.symptoms,
        "contact": card.contact,
        "note": card.note,
        "filed_by": card.filed_by,
        "is_open": card.is_open,
        "outcome": card.outcome,
        "decision": decision_out(selectors.latest_decision(card)),
    }
    if detail:
        rows = card.itineraries.select_related("division").order_by("from_day")
        out["itineraries"] = [itinerary_out(row) for row in rows]
    return out


def area_out(area: RiskArea) -> dict[str, Any]:
    return {
        "id": area.pk,
        "division": area.division_id,
        "division_name": area.division.full_name,
        "level": area.level,
        "effective_from": area.effective_from,
        "effective_to": area.effective_to,
        "stays_since": area.stays_since,
        "version": area.batch_id,
    }


def change_out(change: services.ListChange) -> dict[str, Any]:
    return {
        "version": change.batch.pk if change.batch else None,
        "changed": len(change.changed),
        "raised": len(change.raised),
        "exposures": len(change.exposures),
        "redecided": change.redecided,
    }


def rule_out(rule: ReturnRule) -> dict[str, Any]:
    return {
        "id": rule.pk,
        "unit_id": rule.unit_id,
        "level": rule.level,
        "quarantine_days": rule.quarantine_days,
        "mode": rule.mode,
        "tests": rule.tests,
        "monitoring_days": rule.monitoring_days,
        "note": rule.note,
    }


# ------------------------------------------------------------------ itineraries


@router.get("/people/{person_id}/itineraries", response=list[ItineraryOut])
def person_itineraries(request: HttpRequest, person_id: ObjectId) -> Any:
    """A person's itinerary entries, newest first (health data)."""
    person = selectors.person_for_travel(request.user, person_id)
    return [itinerary_out(row) for row in selectors.person_itineraries(person)[:500]]


@router.post("/people/{person_id}/itineraries", response={201: ItineraryOut})
def add_itinerary(request: HttpRequest, person_id: ObjectId, payload: ItineraryIn) -> Any:
    """Record a trip declared by phone; the person's open card is decided again."""
    person = selectors.person_for_travel(request.user, person_id, Perm.VIEW_PEOPLE)
    row = services.itinerary_add(actor=request.user, person=person, raw=payload.dict())
    return Status(201, itinerary_out(row))


@router.delete("/itineraries/{itinerary_id}", response=DeletedOut)
def delete_itinerary(request: HttpRequest, itinerary_id: ObjectId) -> Any:
    row = selectors.itinerary_get(request.user, itinerary_id)
    services.itinerary_delete(actor=request.user, itinerary=row)
    return {"id": itinerary_id, "deleted": True}


# ------------------------------------------------------------------ returnee cards


@router.post(
    "/people/{person_id}/returnee-card", response={200: ReturneeCardOut, 201: ReturneeCardOut}
)
def file_card(request: HttpRequest, person_id: ObjectId, payload: CardIn) -> Any:
    """File (201) or update (200) the person's open returnee card; the answer has the decision."""
    person = selectors.person_for_travel(request.user, person_id, Perm.VIEW_PEOPLE)
    existed = selectors.open_card(person) is not None
    raw = payload.dict()
    card = services.card_file(actor=request.user, person=person, raw=raw)
    return Status(200 if existed else 201, card_out(card, detail=True))


@router.get("/returnee-cards", response=list[ReturneeCardOut])
@paginate(Pages, page_size=50)
def list_cards(
    request: HttpRequest,
    outcome: str = "",
    unit_id: ObjectId | None = None,
    q: str = "",
    level: str = "",
    include_closed: bool = False,
) -> Any:
    """Returnee cards in the caller's health scope: may return / must quarantine / waiting."""
    unit = selectors.unit_for_travel(request.user, pk=unit_id) if unit_id else None
    filters = selectors.ReturneeFilter(
        query=q, unit=unit, outcome=outcome, level=level, include_closed=include_closed
    )
    return MappedQuerySet(selectors.returnees_search(request.user, filters), card_out)


@router.get("/returnee-cards/{card_id}", response=ReturneeCardOut)
def get_card(request: HttpRequest, card_id: ObjectId) -> Any:
    return card_out(selectors.card_get(request.user, card_id), detail=True)


@router.post("/returnee-cards/{card_id}/redecide", response=ReturneeCardOut)
def redecide_card(request: HttpRequest, card_id: ObjectId) -> Any:
    card = selectors.card_get(request.user, card_id)
    services.card_redecide(actor=request.user, card=card)
    return card_out(card, detail=True)


# ------------------------------------------------------------------ risk areas


@router.get("/risk-areas", response=list[RiskAreaOut])
@paginate(Pages, page_size=100)
def list_risk_areas(request: HttpRequest, q: str = "", level: str = "") -> Any:
    """The risk-area list in force today (a public notice: every signed-in caller)."""
    return MappedQuerySet(selectors.risk_areas_current(query=q, level=level), area_out)


def change_status(change: services.ListChange) -> Any:
    """201 with the new version; 200 when the list already said so (no version made)."""
    return Status(201 if change.batch else 200, change_out(change))


@router.post("/risk-areas", response={200: ListChangeOut, 201: ListChangeOut})
def set_risk_area(request: HttpRequest, payload: RiskAreaIn) -> Any:
    """Set one region's level; a raise re-checks the stays since ``stays_since``.

    ``stays_since`` defaults to the start of the look-back window (never after
    ``effective_from``). Saving the level a region already has makes no version (200).
    """
    division = Division.objects.filter(code=payload.division.strip()).first()
    if division is None:
        message = _("No region has the code “%(code)s”.") % {"code": payload.division[:12]}
        raise InvalidInput(detail={"division": [message]})
    change = services.risk_area_set(
        actor=request.user,
        division=division,
        level=payload.level,
        effective_from=payload.effective_from,
        stays_since=payload.stays_since,
        notice=payload.notice,
    )
    return change_status(change)


@router.post("/risk-areas/import", response={200: ListChangeOut, 201: ListChangeOut})
def import_risk_areas(
    request: HttpRequest, file: File[UploadedFile], notice: Form[str] = ""
) -> Any:
    """Import a notice's list (地区代码/地区名称, 风险等级, 生效日期[, 适用停留起始日期])."""
    change = importing.risk_areas_import(actor=request.user, upload=file, notice=notice)
    return change_status(change)


# ------------------------------------------------------------------ return rules


@router.get("/return-rules", response=list[RuleOut])
def list_rules(request: HttpRequest, unit_id: ObjectId | None = None) -> Any:
    """The group rules, or a unit's own overrides when ``unit_id`` is given."""
    if unit_id is None:
        return [rule_out(rule) for rule in selectors.group_rules().values()]
    unit = selectors.unit_for_rules(request.user, pk=unit_id)
    return [rule_out(rule) for rule in selectors.unit_rules(request.user, unit).values()]


@router.post("/return-rules", response=RuleOut)
def save_rule(request: HttpRequest, payload: RuleIn) -> Any:
    """Create or change the group rule (no unit) or a unit's override for one level."""
    unit = selectors.unit_for_rules(request.user, pk=payload.unit_id) if payload.unit_id else None
    raw = payload.dict(exclude={"unit_id", "level"})
    raw = {key: "" if value is None else value for key, value in raw.items()}
    rule = services.rule_save(actor=request.user, unit=unit, level=payload.level, raw=raw)
    return rule_out(rule)
