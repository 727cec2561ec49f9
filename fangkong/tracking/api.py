"""/api/v1/tracking endpoints: manual cards, close-out, close contacts and case trees.

Follow-ups and the other ledger actions on a card are the ledger's endpoints.
"""

import datetime as dt
from dataclasses import asdict
from typing import Any

from django.http import HttpRequest
from ninja import Router, Status
from ninja.pagination import paginate

from fangkong.accounts.roles import Perm
from fangkong.core.pagination import MappedQuerySet
from fangkong.core.schema import ObjectId, Pages
from fangkong.health.models import OutbreakProfile
from fangkong.ledger.models import Item

from . import rules, selectors, services
from .models import CloseContact
from .rules import observation_end
from .schemas import (
    CardOpenIn,
    CardReasonIn,
    CaseTreeOut,
    ContactIn,
    ContactOut,
    ReadinessOut,
    TrackingCardOut,
)

router = Router(tags=["tracking"])


def card_out(item: Item, *, created: bool = False) -> dict[str, Any]:
    return {
        "id": item.pk,
        "kind": item.kind,
        "title": item.title,
        "state": item.state,
        "person_id": item.person_id,
        "unit_id": item.unit_id,
        "is_open": item.is_open,
        "next_due_at": item.next_due_at,
        "follow_up_every_hours": item.follow_up_every_hours,
        "owner_ids": sorted(item.owners.values_list("pk", flat=True)),
        "created": created,
    }


def contact_out(
    link: CloseContact, card: Item | None = None, *, days: int | None = None
) -> dict[str, Any]:
    observe_until = (
        observation_end(link.last_contact_day)
        if days is None
        else link.last_contact_day + dt.timedelta(days=days)
    )
    return {
        "id": link.pk,
        "person_id": link.person_id,
        "person_name": link.person.name,
        "case_id": link.case_id,
        "case_name": link.case.name,
        "relation": link.relation,
        "last_contact_day": link.last_contact_day,
        "observe_until": observe_until,
        "card_id": card.pk if card else None,
    }


@router.post("/tracking/cards", response={200: TrackingCardOut, 201: TrackingCardOut})
def card_open(request: HttpRequest, payload: CardOpenIn) -> Any:
    """Open an abnormal-person card by hand (200 with the open card if there is one)."""
    person = selectors.person_for_tracking(request.user, payload.person_id)
    item, created = services.card_open(actor=request.user, person=person, reason=payload.reason)
    return Status(201 if created else 200, card_out(item, created=created))


@router.get("/tracking/cards/{card_id}/readiness", response=ReadinessOut)
def card_readiness(request: HttpRequest, card_id: ObjectId) -> Any:
    """May the card be closed out now? The consecutive normal days and the rule's sentence."""
    return asdict(rules.readiness(selectors.card_get(request.user, card_id)))


@router.post("/tracking/cards/{card_id}/close", response=TrackingCardOut)
def card_close(request: HttpRequest, card_id: ObjectId, payload: CardReasonIn) -> Any:
    """Request the close-out (it waits for approval); 422 while the rule does not hold."""
    item = selectors.card_get(request.user, card_id)
    return card_out(
        services.card_request_close(actor=request.user, item=item, reason=payload.reason)
    )


@router.post("/tracking/cards/{card_id}/escalate", response=TrackingCardOut)
def card_escalate(request: HttpRequest, card_id: ObjectId, payload: CardReasonIn) -> Any:
    item = selectors.card_get(request.user, card_id)
    return card_out(services.card_escalate(actor=request.user, item=item, reason=payload.reason))


@router.get("/tracking/contacts", response=list[ContactOut])
@paginate(Pages, page_size=50)
def contacts_list(request: HttpRequest, case_id: ObjectId | None = None, q: str = "") -> Any:
    """Close contacts in the caller's health scope (optionally of one case)."""
    case = selectors.person_for_tracking(request.user, case_id) if case_id else None
    selectors.require_health(request.user)
    days = OutbreakProfile.current().follow_up_days
    links = selectors.contacts_visible(request.user, query=q, case=case)
    return MappedQuerySet(links, lambda link: contact_out(link, days=days))


@router.post("/tracking/contacts", response={201: ContactOut})
def contact_create(request: HttpRequest, payload: ContactIn) -> Any:
    """Record a close contact of a case; the contact's observation card opens."""
    person = selectors.person_for_tracking(request.user, payload.person_id)
    case = selectors.person_for_tracking(request.user, payload.case_id)
    link, card = services.contact_record(
        actor=request.user,
        person=person,
        case=case,
        last_contact_day=payload.last_contact_day,
        relation=payload.relation,
        note=payload.note,
    )
    return Status(201, contact_out(link, card))


@router.get("/tracking/cases/{person_id}/tree", response=CaseTreeOut)
def case_tree(request: HttpRequest, person_id: ObjectId) -> Any:
    """Who the case exposed, generation by generation, and who exposed the case."""
    case = selectors.person_for_tracking(request.user, person_id, Perm.VIEW_HEALTH)
    return asdict(selectors.case_tree(request.user, case))
