"""Abnormal declaration → card → follow-ups → close-out with approval (or escalation)."""

from decimal import Decimal

import pytest

from fangkong.core.errors import InvalidInput, PermissionDenied
from fangkong.ledger import services as ledger
from fangkong.ledger.models import Entry
from fangkong.tracking import rules, services

from .helpers import card_of, declare

pytestmark = pytest.mark.django_db


def test_abnormal_declaration_to_close_out_with_approval(org):
    tracker = org.user("tracker", org.plant_a)
    admin = org.user("unit_admin", org.ent_a)
    declare(org, org.person_a, ago=4, temperature="38.4")
    card = card_of(org.person_a)
    assert card is not None and list(card.owners.all()) == [tracker]

    ledger.item_follow_up(
        actor=tracker, item=card, text="电话随访，体温偏高", value=Decimal("37.9"), unit="°C"
    )
    card.refresh_from_db()
    assert card.clocks.get(key="first_follow_up").met_at is not None
    assert card.state == "following"

    # One normal day is not enough: the close-out is refused and the card may be escalated.
    declare(org, org.person_a, ago=0)
    with pytest.raises(InvalidInput) as refused:
        services.card_request_close(actor=tracker, item=card, reason="体温正常")
    assert "1" in str(refused.value.message) and "3" in str(refused.value.message)

    for ago in (2, 1):
        declare(org, org.person_a, ago=ago)
    ledger.item_follow_up(actor=tracker, item=card, text="连续三天正常", value=Decimal("36.5"))
    assert rules.readiness(card).ready
    services.card_request_close(actor=tracker, item=card, reason="连续三天体温正常，无症状")
    card.refresh_from_db()
    assert card.state == "closing" and card.is_open

    with pytest.raises(PermissionDenied):
        ledger.item_approve_close(actor=tracker, item=card)
    ledger.item_approve_close(actor=admin, item=card, note="同意销号")
    card.refresh_from_db()
    assert (card.state, card.is_open) == ("closed", False)
    kinds = list(card.entries.order_by("at", "id").values_list("kind", flat=True))
    assert kinds[-2:] == [Entry.Kind.CLOSE_REQUEST, Entry.Kind.APPROVAL]
    assert card_of(org.person_a) is None


def test_the_ledgers_own_close_out_obeys_the_rule_too(org):
    tracker = org.user("tracker", org.plant_a)
    declare(org, org.person_a, temperature="38.4")
    card = card_of(org.person_a)
    with pytest.raises(InvalidInput):
        ledger.item_request_close(actor=tracker, item=card, reason="想销号")
    card.refresh_from_db()
    assert card.state == "open"


def test_a_role_without_the_track_permission_may_not_request_the_close_out(org):
    declare(org, org.person_a, ago=4, temperature="38.4")
    for ago in (2, 1, 0):
        declare(org, org.person_a, ago=ago)
    card = card_of(org.person_a)
    with pytest.raises(PermissionDenied):
        services.card_request_close(actor=org.user("reporter", org.ent_a), item=card, reason="销号")


def test_a_card_that_cannot_close_is_escalated_to_the_parent_units_admins(org):
    from fangkong.notify.models import InboxItem

    tracker = org.user("tracker", org.shop_a)
    parent_admin = org.user("unit_admin", org.plant_a)
    declare(org, org.person_a, temperature="38.4")
    card = card_of(org.person_a)
    services.card_escalate(actor=tracker, item=card, reason="持续发热，已超过观察期")
    card.refresh_from_db()
    assert card.state == "escalated"
    assert InboxItem.objects.filter(user=parent_admin).exists()
