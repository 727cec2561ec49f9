"""Owners are told at once: every card that opens reaches its owners' inbox and channels.

One notice per unit and opening, sent after the opening commits: a fever's card links to
itself, a raise that opens many cards sends one summary per unit with the unit's list.
"""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from fangkong.ledger.models import Item
from fangkong.notify import services as notify_services
from fangkong.notify.models import ChannelKind, Delivery, Event, InboxItem, Notification
from fangkong.notify.testing import RobotServer
from fangkong.orgs.services import person_create
from fangkong.quarantine import services as quarantine
from fangkong.quarantine.models import Mode
from fangkong.quarantine.tests.factories import make_site
from fangkong.testing import valid_resident_id
from fangkong.tracking import services
from fangkong.tracking.kinds import ABNORMAL, CONTACT
from fangkong.travel.signals import Exposure, exposures_found

from .helpers import card_of, declare

pytestmark = pytest.mark.django_db


@pytest.fixture
def robot():
    with RobotServer() as server:
        yield server


def opened_notices(user=None):
    rows = Notification.objects.filter(event=Event.ITEM_OPENED)
    return rows.filter(inbox_items__user=user) if user is not None else rows


def subscribe_robot(org, robot, unit):
    channel = notify_services.channel_create(
        actor=None,
        unit=org.group,
        name="WeCom",
        kind=ChannelKind.WECOM,
        webhook_url=robot.url(),
    )
    notify_services.subscription_create(
        actor=None, channel=channel, unit=unit, event=Event.ITEM_OPENED, include_subtree=True
    )
    return channel


def test_a_fever_tells_the_trackers_inbox_and_robot_at_once_with_a_link_to_the_card(
    org, robot, django_capture_on_commit_callbacks
):
    tracker = org.user("tracker", org.plant_a)
    subscribe_robot(org, robot, org.ent_a)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        declare(org, org.person_a, temperature="38.2")
        assert not opened_notices().exists()  # nothing before the declaration commits
    assert callbacks
    card = card_of(org.person_a)
    [notice] = opened_notices(tracker)
    assert notice.link == reverse("ledger:item", args=[card.pk])
    assert notice.unit == org.shop_a and "一车间" in notice.subject
    assert "张伟" not in notice.subject + notice.body  # robots post to group chats
    inbox = InboxItem.objects.get(user=tracker, notification=notice)
    assert inbox.read_at is None
    [delivery] = Delivery.objects.filter(notification=notice)
    assert delivery.status == Delivery.Status.SENT and len(robot.received) == 1


def test_a_declaration_that_opens_no_new_card_tells_nobody_again(
    org, django_capture_on_commit_callbacks
):
    org.user("tracker", org.plant_a)
    with django_capture_on_commit_callbacks(execute=True):
        declare(org, org.person_a, ago=1, temperature="38.0")
    with django_capture_on_commit_callbacks(execute=True):
        declare(org, org.person_a, temperature="38.5")  # the open card gets an entry
    assert opened_notices().count() == 1


def exposure(person, itinerary):
    return Exposure(
        person_id=person.pk,
        unit_id=person.unit_id,
        itinerary_id=itinerary,
        division_code="420100",
        level="high",
        last_day=timezone.localdate(),
    )


def test_a_raise_opening_cards_in_two_units_sends_one_summary_per_unit_and_owner(
    org, robot, django_capture_on_commit_callbacks
):
    tracker_a, tracker_b = org.user("tracker", org.ent_a), org.user("tracker", org.ent_b)
    subscribe_robot(org, robot, org.group)
    workers = [org.person_a] + [
        person_create(
            actor=None, unit=org.shop_a, name=f"工人{n}", id_number=valid_resident_id(800 + n)
        )
        for n in range(4)
    ]
    others = [org.person_b] + [
        person_create(
            actor=None, unit=org.plant_b, name=f"员工{n}", id_number=valid_resident_id(900 + n)
        )
        for n in range(2)
    ]
    with django_capture_on_commit_callbacks(execute=True):
        exposures_found.send(
            sender=None,
            exposures=[exposure(p, n) for n, p in enumerate([*workers, *others])],
        )
    assert Item.objects.filter(kind=ABNORMAL, is_open=True).count() == 8
    notices = {n.unit_id: n for n in opened_notices()}
    assert set(notices) == {org.shop_a.pk, org.plant_b.pk}  # one per unit, not one per card
    shop, plant = notices[org.shop_a.pk], notices[org.plant_b.pk]
    assert "5" in shop.subject and "3" in plant.subject
    assert shop.link == reverse("ledger:list", args=[ABNORMAL]) + f"?unit={org.shop_a.pk}"
    assert list(opened_notices(tracker_a)) == [shop]
    assert list(opened_notices(tracker_b)) == [plant]
    assert Delivery.objects.filter(notification__event=Event.ITEM_OPENED).count() == 2
    assert len(robot.received) == 2


def test_a_contact_card_tells_its_owner_not_whoever_recorded_it(
    org, django_capture_on_commit_callbacks
):
    tracker = org.user("tracker", org.plant_a)
    admin = org.user("unit_admin", org.ent_a)
    case = person_create(actor=None, unit=org.shop_a, name="王芳", id_number=valid_resident_id(990))
    with django_capture_on_commit_callbacks(execute=True):
        _link, card = services.contact_record(
            actor=admin,
            person=org.person_a,
            case=case,
            last_contact_day=timezone.localdate() - dt.timedelta(days=1),
        )
    assert card is not None and card.kind == CONTACT
    [notice] = opened_notices(tracker)
    assert notice.link == reverse("ledger:item", args=[card.pk])
    assert not opened_notices(admin).exists()


def test_a_quarantine_placement_tells_its_owner(org, django_capture_on_commit_callbacks):
    tracker = org.user("tracker", org.plant_a)
    _site, rooms = make_site(org.ent_a, rooms={"101": 1})
    with django_capture_on_commit_callbacks(execute=True):
        placement = quarantine.placement_start(
            actor=org.user("unit_admin", org.ent_a),
            person=org.person_a,
            mode=Mode.CENTRALISED,
            level="high",
            site=rooms["101"].site,
            room=rooms["101"],
        )
    item = quarantine.placement_item(placement)
    [notice] = opened_notices(tracker)
    assert notice.link == reverse("ledger:item", args=[item.pk])
