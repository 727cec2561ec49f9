"""Placements: planned end from the outbreak profile, capacity, one open per person, signals."""

import datetime as dt

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from fangkong.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from fangkong.health.models import OutbreakProfile
from fangkong.orgs.services import person_create
from fangkong.testing import valid_resident_id

from .. import selectors, services, signals
from ..models import Mode, Placement
from .factories import make_site

pytestmark = pytest.mark.django_db
START = dt.date(2020, 2, 1)


@pytest.fixture
def site(org):
    return make_site(org.ent_a)


def place(org, person, room, **kwargs):
    args = {"mode": Mode.CENTRALISED, "level": "high", "start": START}
    args.update(kwargs)
    return services.placement_start(
        actor=org.user("unit_admin", org.ent_a),
        person=person,
        site=room.site if room else None,
        room=room,
        **args,
    )


def test_planned_end_comes_from_the_outbreak_profile(org, site):
    _site, rooms = site
    profile = OutbreakProfile.current()
    profile.quarantine_days_high = 21
    profile.save()
    placement = place(org, org.person_a, rooms["101"])
    assert placement.days == 21
    assert placement.planned_end == START + dt.timedelta(days=21)
    assert placement.site_path == rooms["101"].site.unit_path
    assert placement.unit_path == org.person_a.unit_path


def test_given_days_win_and_a_level_without_days_needs_them(org, site):
    _site, rooms = site
    assert place(org, org.person_a, rooms["101"], level="medium", days=10).days == 10
    other = person_create(actor=None, unit=org.shop_a, name="王强", id_number=valid_resident_id(7))
    with pytest.raises(InvalidInput) as low:
        place(org, other, rooms["102"], level="low")  # the profile says 0 days
    assert "days" in low.value.detail


def test_a_full_room_refuses_with_conflict(org, site):
    _site, rooms = site
    place(org, org.person_a, rooms["101"])
    other = person_create(actor=None, unit=org.shop_a, name="王强", id_number=valid_resident_id(7))
    with pytest.raises(Conflict) as full:
        place(org, other, rooms["101"])
    assert "101" in str(full.value.message)
    assert place(org, other, rooms["102"]).room == rooms["102"]


def test_one_open_placement_per_person(org, site):
    _site, rooms = site
    place(org, org.person_a, rooms["101"])
    with pytest.raises(Conflict):
        place(org, org.person_a, rooms["102"])
    with pytest.raises(IntegrityError), transaction.atomic():  # the database says so too
        Placement.objects.create(
            person=org.person_a,
            unit_path=org.person_a.unit_path,
            mode=Mode.HOME,
            level="high",
            start=START,
            days=14,
            planned_end=START + dt.timedelta(days=14),
        )


def test_home_quarantine_needs_an_address_and_no_room(org):
    with pytest.raises(InvalidInput):
        place(org, org.person_a, None, mode=Mode.HOME)
    placement = place(org, org.person_a, None, mode=Mode.HOME, address="翠溪北区1号楼101")
    assert placement.site is None and placement.where


def test_started_signal_and_open_placement_selector(org, site):
    _site, rooms = site
    seen = []

    def listener(**kwargs):
        seen.append((kwargs["person_id"], kwargs["placement_id"]))

    signals.placement_started.connect(listener)
    try:
        placement = place(org, org.person_a, rooms["101"])
    finally:
        signals.placement_started.disconnect(listener)
    assert seen == [(org.person_a.pk, placement.pk)]
    assert selectors.open_placement_for(org.person_a.pk) == placement
    assert selectors.open_placement_for(org.person_b.pk) is None


def test_scope_of_placing_people(org, site):
    with pytest.raises(NotFound):  # person B is outside enterprise A
        place(org, org.person_b, None, mode=Mode.HOME, address="x")
    with pytest.raises(PermissionDenied):  # a tracker sees the person but may not place
        services.placement_start(
            actor=org.user("tracker", org.ent_a),
            person=org.person_a,
            mode=Mode.HOME,
            level="high",
            address="x",
        )


def test_rooms_keep_their_beds_above_occupancy(org, site):
    _site, rooms = site
    place(org, org.person_a, rooms["102"])
    other = person_create(actor=None, unit=org.shop_a, name="王强", id_number=valid_resident_id(7))
    place(org, other, rooms["102"])
    admin = org.user("unit_admin", org.ent_a)
    with pytest.raises(Conflict):
        services.room_update(actor=admin, room=rooms["102"], capacity=1)
    assert services.room_update(actor=admin, room=rooms["102"], capacity=3).capacity == 3
    with pytest.raises(Conflict):  # people stayed there: the room is kept for the records
        services.room_delete(actor=admin, room=rooms["102"])
    services.room_delete(actor=admin, room=rooms["101"])


def test_move_to_a_room_with_a_free_bed(org, site):
    _site, rooms = site
    placement = place(org, org.person_a, rooms["101"])
    admin = org.user("unit_admin", org.ent_a)
    services.placement_move(actor=admin, placement=placement, room=rooms["102"])
    placement.refresh_from_db()
    assert placement.room == rooms["102"]


def test_occupancy_per_site_and_room(org, site):
    _site, rooms = site
    today = timezone.localdate()
    place(org, org.person_a, rooms["102"], start=today - dt.timedelta(days=14))
    other = person_create(actor=None, unit=org.shop_a, name="王强", id_number=valid_resident_id(7))
    place(org, other, rooms["102"], start=today - dt.timedelta(days=13))
    [row] = selectors.occupancy(org.user("viewer", org.ent_a), today=today)
    assert (row.capacity, row.occupied, row.free) == (3, 2, 1)
    assert (row.ending_today, row.ending_tomorrow) == (1, 1)
    by_room = {r.room.number: r for r in row.rooms}
    assert (by_room["101"].free, by_room["102"].free) == (1, 0)
    assert selectors.occupancy(org.user("viewer", org.ent_b)) == []
