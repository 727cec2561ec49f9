"""Cards open by themselves: from abnormal declarations, risk-area exposures, and by hand."""

import datetime as dt

import pytest
from django.utils import timezone

from fangkong.core.errors import InvalidInput, NotFound, PermissionDenied
from fangkong.health import services as health
from fangkong.health.models import Declaration
from fangkong.health.selectors import link_token
from fangkong.health.tests.factories import raw_declaration
from fangkong.ledger.models import Entry, Item
from fangkong.orgs.services import person_create
from fangkong.testing import valid_resident_id
from fangkong.tracking import services
from fangkong.tracking.kinds import ABNORMAL
from fangkong.travel.signals import Exposure, exposures_found

from .helpers import abnormal_without_card, card_of, days_ago, declare

pytestmark = pytest.mark.django_db


def test_a_fever_opens_a_card_for_the_units_tracker_with_a_first_follow_up_deadline(org):
    tracker = org.user("tracker", org.plant_a)
    before = timezone.now()
    declare(org, org.person_a, temperature="38.2")
    card = card_of(org.person_a)
    assert card is not None and card.state == "open" and card.unit == org.shop_a
    assert list(card.owners.all()) == [tracker]
    assert "张伟" in card.title and "发热" in card.title
    first = card.clocks.get(key="first_follow_up")
    assert dt.timedelta(hours=23) < first.due_at - before <= dt.timedelta(hours=24, minutes=1)
    assert card.next_due_at is not None and card.follow_up_every_hours == 24


def test_a_second_abnormal_day_adds_an_entry_to_the_open_card(org):
    declare(org, org.person_a, ago=1, temperature="38.0")
    declare(org, org.person_a, symptoms=["cough"])
    assert Item.objects.filter(kind=ABNORMAL).count() == 1
    texts = list(card_of(org.person_a).entries.values_list("text", flat=True))
    assert any(days_ago(0) in text and "有症状" in text for text in texts)


def test_a_normal_declaration_opens_nothing(org):
    declare(org, org.person_a)
    assert not Item.objects.exists()


def test_a_batch_of_proxy_declarations_leaves_no_abnormal_person_without_a_card(org):
    people = [org.person_a] + [
        person_create(
            actor=None, unit=org.shop_a, name=f"工人{n}", id_number=valid_resident_id(700 + n)
        )
        for n in range(30)
    ]
    items = [
        raw_declaration(
            person,
            temperature="38.1" if n % 3 == 0 else "36.5",
            contact="confirmed" if n % 7 == 0 else "none",
        )
        for n, person in enumerate(people)
    ]
    health.declarations_submit(actor=org.user("reporter", org.shop_a), items=items)
    abnormal = Declaration.objects.exclude(status="green").count()
    assert abnormal == len({n for n in range(31) if n % 3 == 0 or n % 7 == 0})
    assert Item.objects.filter(kind=ABNORMAL, is_open=True).count() == abnormal
    assert abnormal_without_card() == []


def test_a_declaration_through_the_personal_link_opens_a_card(org):
    link = health.link_issue(actor=org.user("grid_worker", org.group), person=org.person_a)
    health.declarations_submit(
        actor=None, items=[raw_declaration(org.person_a, test_result="positive")], via_link=link
    )
    assert link_token(link)
    assert card_of(org.person_a) is not None
    assert abnormal_without_card() == []


def test_if_the_card_cannot_be_opened_the_declaration_is_not_stored(org, monkeypatch):
    def fail(**kwargs):
        raise RuntimeError("ledger down")

    monkeypatch.setattr(services, "cards_for_declarations", fail)
    with pytest.raises(RuntimeError):
        declare(org, org.person_a, temperature="38.5")
    assert not Declaration.objects.exists()


def test_the_backfill_opens_cards_for_stored_abnormal_declarations(org):
    from fangkong.health.demo import declaration

    row = declaration(org.person_a, timezone.localdate(), temperature="38.3")
    row.save()
    assert abnormal_without_card() == [org.person_a.pk]
    assert services.cards_backfill(since=timezone.localdate()) == 1
    assert abnormal_without_card() == []


# ------------------------------------------------------------------ by hand


def test_a_tracker_opens_a_card_by_hand_once(org):
    tracker = org.user("tracker", org.ent_a)
    item, created = services.card_open(actor=tracker, person=org.person_a, reason="电话反映咽痛")
    again, created_again = services.card_open(actor=tracker, person=org.person_a, reason="再次")
    assert created and not created_again and again.pk == item.pk
    assert item.data["source"] == "manual" and list(item.owners.all()) == [tracker]


def test_opening_by_hand_needs_a_reason_the_track_permission_and_scope(org):
    tracker = org.user("tracker", org.ent_a)
    with pytest.raises(InvalidInput):
        services.card_open(actor=tracker, person=org.person_a, reason=" ")
    with pytest.raises(PermissionDenied):
        services.card_open(actor=org.user("reporter", org.ent_a), person=org.person_a, reason="x")
    with pytest.raises(NotFound):
        services.card_open(actor=tracker, person=org.person_b, reason="x")


# ------------------------------------------------------------------ travel exposures


def exposure(person, unit, level="high", last_day=None, code="420100", itinerary=1):
    return Exposure(
        person_id=person.pk,
        unit_id=unit.pk,
        itinerary_id=itinerary,
        division_code=code,
        level=level,
        last_day=last_day or timezone.localdate(),
    )


def test_exposures_open_one_card_per_person_in_bulk_and_note_open_cards(org):
    tracker_a, tracker_b = org.user("tracker", org.ent_a), org.user("tracker", org.ent_b)
    declare(org, org.person_b, temperature="38.0")  # person_b already has a card
    exposures_found.send(
        sender=None,
        exposures=[
            exposure(org.person_a, org.shop_a, "medium", itinerary=1),
            exposure(org.person_a, org.shop_a, "high", itinerary=2),
            exposure(org.person_b, org.plant_b, "high", itinerary=3),
        ],
    )
    card_a = card_of(org.person_a)
    assert card_a.data["level"] == "high" and card_a.data["itinerary"] == 2
    assert list(card_a.owners.all()) == [tracker_a]
    assert "武汉" in card_a.title
    assert Item.objects.filter(kind=ABNORMAL).count() == 2
    card_b = card_of(org.person_b)
    assert list(card_b.owners.all()) == [tracker_b]
    assert card_b.entries.filter(kind=Entry.Kind.SYSTEM, data__level="high").exists()


# ------------------------------------------------------------------ quarantine cadence


def test_cards_are_followed_twice_a_day_while_the_person_is_in_quarantine(org):
    from fangkong.quarantine.signals import placement_released, placement_started

    declare(org, org.person_a, temperature="38.0")
    card = card_of(org.person_a)
    placement_started.send(sender=None, person_id=org.person_a.pk, placement_id=1)
    card.refresh_from_db()
    assert card.follow_up_every_hours == 12
    assert card.clocks.get(key="follow_up").due_at <= card.opened_at + dt.timedelta(hours=12)
    placement_released.send(sender=None, person_id=org.person_a.pk, placement_id=1)
    card.refresh_from_db()
    assert card.follow_up_every_hours == 24


def test_a_card_opened_during_quarantine_starts_at_twelve_hours(org):
    from fangkong.quarantine.services import placement_start

    placement_start(
        actor=org.user("unit_admin", org.ent_a),
        person=org.person_a,
        mode="home",
        level="high",
        address="家中",
    )
    declare(org, org.person_a, temperature="38.0")
    assert card_of(org.person_a).follow_up_every_hours == 12
