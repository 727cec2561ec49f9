"""Each placement is a ledger item: twice-daily checks, test results, release with approval."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from fangkong.core.errors import Conflict, PermissionDenied
from fangkong.ledger import services as ledger
from fangkong.ledger.models import Entry, Item, ItemClock
from fangkong.orgs.services import person_create
from fangkong.testing import valid_resident_id

from .. import selectors, services, signals
from ..ledger_kind import KIND
from ..models import Mode, Placement
from .factories import make_site

pytestmark = pytest.mark.django_db


@pytest.fixture
def placement(org):
    org.user("tracker", org.plant_a)  # the nearest tracker above the person
    _site, rooms = make_site(org.ent_a, rooms={"101": 1})
    return services.placement_start(
        actor=org.user("unit_admin", org.ent_a),
        person=org.person_a,
        mode=Mode.CENTRALISED,
        level="high",
        start=timezone.localdate() - dt.timedelta(days=14),
        site=rooms["101"].site,
        room=rooms["101"],
    )


def test_a_placement_opens_its_item_with_a_12_hour_check_and_a_release_clock(org, placement):
    item = services.placement_item(placement)
    assert (item.kind, item.state, item.person, item.unit) == (
        KIND,
        "active",
        org.person_a,
        org.shop_a,
    )
    assert item.follow_up_every_hours == 12
    assert item.open_key == f"person:{org.person_a.pk}"
    assert list(item.owners.all()) == [org.user("tracker", org.plant_a)]
    clocks = {c.key: c for c in ItemClock.objects.filter(item=item)}
    release = timezone.localtime(clocks["release"].due_at)
    assert (release.date(), release.hour) == (placement.planned_end, 23)
    assert clocks["follow_up"].due_at - item.opened_at == dt.timedelta(hours=12)


def test_checks_and_test_results_are_follow_ups(org, placement):
    tracker = org.user("tracker", org.plant_a)
    check = services.placement_check(
        actor=tracker, placement=placement, temperature="36.6", note="无不适"
    )
    assert (check.kind, check.value, check.unit) == (Entry.Kind.MEASUREMENT, Decimal("36.6"), "°C")
    test = services.placement_test(actor=tracker, placement=placement, result="negative")
    assert test.data["test"] == "negative"
    # The next check falls due 12 hours after this one, whatever the release clock says.
    follow_up = ItemClock.objects.get(item_id=check.item_id, key="follow_up")
    assert follow_up.due_at > timezone.now() + dt.timedelta(hours=11)


def test_release_needs_approval_and_frees_the_bed(org, placement):
    tracker, admin = org.user("tracker", org.plant_a), org.user("unit_admin", org.ent_a)
    released = []

    def listener(**kwargs):
        released.append(kwargs["person_id"])

    services.placement_release_request(actor=tracker, placement=placement, reason="期满，核酸阴性")
    assert placement.state == Placement.State.RELEASING
    with pytest.raises(PermissionDenied):
        services.placement_release_approve(actor=tracker, placement=placement)
    [row] = selectors.occupancy(admin)
    assert row.occupied == 1  # still in the room until approved
    signals.placement_released.connect(listener)
    try:
        services.placement_release_approve(actor=admin, placement=placement, note="同意")
    finally:
        signals.placement_released.disconnect(listener)
    assert placement.state == Placement.State.RELEASED and placement.released_at
    assert released == [org.person_a.pk]
    assert selectors.open_placement_for(org.person_a.pk) is None
    [row] = selectors.occupancy(admin)
    assert (row.occupied, row.free) == (0, 1)


def test_a_refused_release_keeps_the_person_in(org, placement):
    tracker, admin = org.user("tracker", org.plant_a), org.user("unit_admin", org.ent_a)
    services.placement_release_request(actor=tracker, placement=placement, reason="期满")
    services.placement_release_reject(actor=admin, placement=placement, reason="待复检")
    assert placement.state == Placement.State.ACTIVE


def test_the_placement_follows_its_item_worked_on_the_ledger(org, placement):
    admin = org.user("unit_admin", org.ent_a)
    item = services.placement_item(placement)
    ledger.item_request_close(actor=admin, item=item, reason="期满")
    ledger.item_approve_close(actor=admin, item=item)
    placement.refresh_from_db()
    assert placement.state == Placement.State.RELEASED
    # The bed is taken meanwhile: reopening the release is refused.
    other = person_create(actor=None, unit=org.shop_a, name="王强", id_number=valid_resident_id(7))
    services.placement_start(
        actor=admin,
        person=other,
        mode=Mode.CENTRALISED,
        level="high",
        site=placement.site,
        room=placement.room,
    )
    with pytest.raises(Conflict):
        ledger.item_reopen(actor=admin, item=Item.objects.get(pk=item.pk), reason="误操作")
    placement.refresh_from_db()
    assert placement.state == Placement.State.RELEASED


def test_a_new_placement_after_release(org, placement):
    admin = org.user("unit_admin", org.ent_a)
    services.placement_release_request(actor=admin, placement=placement, reason="期满")
    services.placement_release_approve(actor=admin, placement=placement)
    again = services.placement_start(
        actor=admin, person=org.person_a, mode=Mode.HOME, level="medium", address="家中"
    )
    assert services.placement_item(again).is_open


def test_the_ledger_pages_show_quarantine_items(client, org, placement, login_as):
    login_as("tracker", org.plant_a)
    item = services.placement_item(placement)
    assert "张伟" in client.get("/ledger/quarantine/").content.decode()
    assert client.get(f"/ledger/item/{item.pk}/").status_code == 200
