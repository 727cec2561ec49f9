"""A new item goes to the tracker nearest above its unit, else to the nearest unit admin."""

import pytest

from fangkong.ledger.keys import person_from_key, person_key
from fangkong.ledger.owners import owners_for, owners_for_paths

pytestmark = pytest.mark.django_db


def test_the_nearest_tracker_above_the_unit_wins(org):
    enterprise_tracker = org.user("tracker", org.ent_a)
    plant_tracker = org.user("tracker", org.plant_a)
    assert owners_for(org.shop_a.path) == [plant_tracker]
    assert owners_for(org.ent_a.path) == [enterprise_tracker]


def test_without_a_tracker_the_nearest_unit_admin_is_the_owner(org):
    org.user("unit_admin", org.group)
    admin = org.user("unit_admin", org.ent_a)
    assert owners_for(org.shop_a.path) == [admin]


def test_a_tracker_higher_up_beats_a_unit_admin_lower_down(org):
    tracker = org.user("tracker", org.group)
    org.user("unit_admin", org.plant_a)
    assert owners_for(org.shop_a.path) == [tracker]


def test_nobody_fits(org):
    org.user("tracker", org.ent_b)
    assert owners_for(org.shop_a.path) == []


def test_the_roles_are_configurable(org, settings):
    settings.TRACKING_ASSIGNEE_ROLES = ["grid_worker"]
    worker = org.user("grid_worker", org.ent_a)
    org.user("tracker", org.plant_a)
    assert owners_for(org.shop_a.path) == [worker]


def test_many_units_in_one_query(org, django_assert_num_queries):
    a, b = org.user("tracker", org.ent_a), org.user("tracker", org.ent_b)
    with django_assert_num_queries(1):
        owners = owners_for_paths([org.shop_a.path, org.plant_b.path, org.household.path])
    assert owners == {org.shop_a.path: [a], org.plant_b.path: [b], org.household.path: [b]}


def test_inactive_holders_are_not_owners(org):
    tracker = org.user("tracker", org.plant_a)
    tracker.is_active = False
    tracker.save(update_fields=["is_active"])
    admin = org.user("unit_admin", org.ent_a)
    assert owners_for(org.shop_a.path) == [admin]


def test_a_person_key_reads_back():
    assert person_from_key(person_key(42)) == 42
    with pytest.raises(ValueError):
        person_from_key("placement:42")
