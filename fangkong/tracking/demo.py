"""The tracking story of the demo: cards from the week's declarations, worked by a tracker.

``sdly_tracker`` (tracker at SDLY-P1, the plant of the demo's personal link) owns the cards
of the plant: two open ones with follow-ups, one closed out with the unit admin's approval,
and a chain of close contacts around one case. Deterministic: people by id, fixed texts.
"""

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from fangkong.accounts.models import RoleAssignment, User
from fangkong.accounts.roles import Role
from fangkong.core.paths import subtree_q
from fangkong.health import services as health
from fangkong.ledger import services as ledger
from fangkong.ledger.models import Item
from fangkong.orgs.demo import DEMO_PASSWORD
from fangkong.orgs.models import OrgUnit, Person

from . import selectors, services
from .models import Relation

TRACKER = ("sdly_tracker", "电解铝厂跟踪员", Role.TRACKER, "SDLY-P1")
PLANT = "SDLY-P1"
LINK_WORKSHOP = "SDLY-P1-W1"  # its first worker declares live in the demo: keep them card-free


def _declare(admin: Any, person: Person, day: dt.date, **fields: Any) -> None:
    raw = {
        "uuid": str(uuid.uuid5(uuid.NAMESPACE_URL, f"fangkong-demo/{person.pk}/{day}")),
        "person": person.pk,
        "day": day.isoformat(),
        "temperature": "36.5",
        "division": "370303",
        **fields,
    }
    health.declarations_submit(actor=admin, items=[raw])


def _tracker() -> tuple[User, bool]:
    username, display, role, code = TRACKER
    user = User.objects.filter(username=username).first()
    if user is not None:
        return user, False
    user = User(username=username, display_name=display)
    user.set_password(DEMO_PASSWORD)
    user.save()
    RoleAssignment.objects.create(user=user, role=role, unit=OrgUnit.objects.get(code=code))
    return user, True


def _story_people(plant: OrgUnit) -> list[Person]:
    workshop = OrgUnit.objects.filter(code=LINK_WORKSHOP).first()
    skip = (
        Person.objects.filter(subtree_q("unit_path", workshop.path), is_active=True)
        .order_by("pk")
        .first()
        if workshop is not None
        else None
    )
    people = Person.objects.filter(subtree_q("unit_path", plant.path), is_active=True).order_by(
        "pk"
    )
    if skip is not None:
        people = people.exclude(pk=skip.pk)
    return list(people.select_related("unit")[:40])


def _card(person: Person) -> Item:
    card = selectors.open_card(person.pk)
    if card is None:
        raise RuntimeError(f"no open card for person {person.pk}")
    return card


@transaction.atomic
def seed_tracking(*, today: dt.date | None = None, days: int = 7) -> list[tuple[str, str, str]]:
    """Open the week's cards and play the plant's story; return the accounts made."""
    today = today or timezone.localdate()
    plant = OrgUnit.objects.filter(code=PLANT).first()
    admin = User.objects.filter(is_superuser=True).order_by("pk").first()
    approver = User.objects.filter(username="unit_admin").first()
    if plant is None or admin is None or approver is None:
        return []
    tracker, made = _tracker()
    services.cards_backfill(since=today - dt.timedelta(days=days - 1), until=today, backdate=True)
    # The story's people: no card yet, so each step below is the one that opens it.
    people = [p for p in _story_people(plant) if selectors.open_card(p.pk) is None][:6]
    if len(people) < 6:
        return []
    fever, cough, recovered, colleague, spouse, second = people
    day = lambda n: today - dt.timedelta(days=n)  # noqa: E731

    _declare(admin, fever, today, temperature="38.3")
    card = _card(fever)
    ledger.item_follow_up(  # the first follow-up visit moves the card to "following"
        actor=tracker,
        item=card,
        text="已电话联系本人：体温38.1℃，已居家休息",
        value=Decimal("38.1"),
        unit="°C",
    )

    _declare(admin, cough, day(1), temperature="36.8", symptoms=["cough"])
    ledger.item_follow_up(actor=tracker, item=_card(cough), text="咳嗽减轻，继续观察")

    _declare(admin, recovered, day(5), temperature="37.8")
    card = _card(recovered)
    ledger.item_follow_up(
        actor=tracker, item=card, text="就诊：普通感冒", value=Decimal("37.6"), unit="°C"
    )
    for n in (3, 2, 1, 0):
        _declare(admin, recovered, day(n), temperature="36.4")
    ledger.item_follow_up(
        actor=tracker, item=card, text="连续四天体温正常", value=Decimal("36.4"), unit="°C"
    )
    services.card_request_close(actor=tracker, item=card, reason="连续四天体温正常，无症状")
    ledger.item_approve_close(actor=approver, item=card, note="同意销号")

    services.contact_record(
        actor=tracker,
        person=colleague,
        case=fever,
        last_contact_day=day(1),
        relation=Relation.COLLEAGUE,
    )
    services.contact_record(
        actor=tracker,
        person=spouse,
        case=fever,
        last_contact_day=today,
        relation=Relation.HOUSEHOLD,
    )
    services.contact_record(
        actor=tracker,
        person=second,
        case=colleague,
        last_contact_day=today,
        relation=Relation.SOCIAL,
    )
    return [(TRACKER[0], str(Role(TRACKER[2]).label), plant.name)] if made else []
