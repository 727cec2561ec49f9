"""The kept per-unit head-counts equal a recount after every kind of write to people."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from fangkong.core.paths import RANGES_PER_STATEMENT, sums_by_child
from fangkong.orgs import headcount, selectors, services
from fangkong.orgs.models import OrgUnit, Person, UnitHeadcount, UnitKind
from fangkong.testing import valid_resident_id

pytestmark = pytest.mark.django_db


def brute_force(unit: OrgUnit) -> int:
    """Active people in the subtree, counted one by one in Python."""
    return sum(1 for p in Person.objects.all() if p.is_active and p.unit_path.startswith(unit.path))


def assert_exact(org) -> None:
    assert headcount.differences() == {}
    units = list(OrgUnit.objects.all())
    expected = {unit.pk: brute_force(unit) for unit in units}
    assert {u.pk: selectors.subtree_headcount(u.path) for u in units} == expected
    assert selectors.headcounts_by_subtree(units) == expected  # many: summed in Python
    assert selectors.headcounts_by_subtree(units[:3]) == {u.pk: expected[u.pk] for u in units[:3]}
    for unit in units:
        children = OrgUnit.objects.filter(parent=unit)
        by_child = selectors.child_headcounts(unit.path)
        assert {c.path: by_child.get(c.path, 0) for c in children} == {
            c.path: expected[c.pk] for c in children
        }
        # Named children: a range sum each in one statement, or grouped when many.
        listed = selectors.child_headcounts(unit.path, [c.path for c in children])
        assert {c.path: listed[c.path] for c in children} == {
            c.path: expected[c.pk] for c in children
        }
        assert sum(listed.values()) == expected[unit.pk]


def test_the_triggers_are_installed_after_every_migration():
    expected = 3 if connection.vendor == "postgresql" else 4
    assert len(headcount.installed()) == expected


def test_counts_follow_creates_moves_merges_deactivations_and_deletes(org):
    assert_exact(org)
    # The services, the ORM and a bulk insert
    services.person_create(
        actor=None, unit=org.plant_a, name="周七", id_number=valid_resident_id(4)
    )
    twin = Person.objects.create(
        name="张伟", id_number=valid_resident_id(1), unit=org.plant_a, unit_path=org.plant_a.path
    )
    Person.objects.create(
        name="王五",
        id_number=valid_resident_id(3),
        unit=org.household,
        unit_path=org.household.path,
    )
    Person.objects.bulk_create(
        Person(
            name=f"工人{n}",
            id_number=valid_resident_id(10 + n),
            unit=org.shop_a,
            unit_path=org.shop_a.path,
        )
        for n in range(5)
    )
    assert selectors.subtree_headcount(org.ent_a.path) == 8
    assert_exact(org)
    # A person moves, a whole subtree moves (its people's paths are rewritten in one UPDATE)
    services.person_update(actor=None, person=org.person_b, unit=org.community)
    services.unit_move(actor=None, unit=org.plant_a, new_parent=org.ent_b)
    assert selectors.subtree_headcount(org.ent_a.path) == 0
    assert_exact(org)
    # A merge leaves the duplicate inactive; a deactivated and a deleted person drop out
    services.person_merge(actor=None, survivor=org.person_a, duplicate=twin)
    Person.objects.filter(name="工人0").update(is_active=False)
    Person.objects.filter(name="工人1").delete()
    Person.objects.filter(name="工人0").update(is_active=True, name="工人零")
    assert selectors.subtree_headcount(org.group.path) == 8
    assert_exact(org)


def test_the_demo_counts_its_people_once_and_exactly():
    # The demo loads people with the triggers off and recounts at the end (see seed).
    from fangkong.orgs.demo import seed

    seed("small")
    assert len(headcount.installed()) == (3 if connection.vendor == "postgresql" else 4)
    assert headcount.differences() == {}
    group = OrgUnit.objects.get(parent__isnull=True)
    assert selectors.subtree_headcount(group.path) == Person.objects.filter(is_active=True).count()
    services.person_create(actor=None, unit=group, name="新来的", id_number=valid_resident_id(4000))
    assert headcount.differences() == {}


def test_a_recount_repairs_the_counts(org):
    UnitHeadcount.objects.all().delete()
    assert headcount.differences()
    headcount.install()
    assert headcount.differences() == {}
    assert len(headcount.installed()) in (3, 4)


def test_each_child_of_a_unit_with_many_counts_its_own_subtree(org):
    for n in range(12):
        services.unit_create(
            actor=None, code=f"T{n}", name=f"班组{n}", kind=UnitKind.TEAM, parent=org.shop_a
        )
    team = OrgUnit.objects.get(code="T11")
    services.person_create(actor=None, unit=team, name="赵六", id_number=valid_resident_id(40))
    services.person_create(
        actor=None, unit=org.shop_a, name="钱八", id_number=valid_resident_id(41)
    )
    assert selectors.child_headcounts(org.shop_a.path) == {team.path: 1, org.shop_a.path: 2}
    assert_exact(org)


@pytest.mark.parametrize("name", ["orgs:tree", "orgs:children", "orgs:unit"])
def test_tree_pages_cost_the_same_queries_however_many_people_and_units(
    client, org, login_as, name
):
    login_as("group_admin", org.group)
    url = reverse(name, args=[] if name == "orgs:tree" else [org.group.pk])
    client.get(url)  # per-process memos
    with CaptureQueriesContext(connection) as before:
        assert client.get(url).status_code == 200
    for n in range(30):
        unit = services.unit_create(
            actor=None, code=f"E{n}", name=f"企业{n}", kind=UnitKind.ENTERPRISE, parent=org.group
        )
        services.person_create(
            actor=None, unit=unit, name=f"员工{n}", id_number=valid_resident_id(100 + n)
        )
    with CaptureQueriesContext(connection) as after:
        page = client.get(url)
    assert page.status_code == 200
    assert len(after) == len(before)
    # No person is read to count them (the group's tree page read 28,000 grouped rows).
    assert not [q["sql"] for q in after.captured_queries if '"orgs_person"' in q["sql"]]
    if name != "orgs:children":
        assert "32" in page.content.decode()  # the group's head-count, 2 + 30


def test_per_child_sums_add_up_to_the_subtree_by_ranges_or_grouped():
    # A row under no listed child (a path no unit holds any more) still counts for the unit.
    counts = {"/1/": 1, "/1/2/": 2, "/1/2/9/": 3, "/1/3/": 4, "/1/4/7/": 5, "/1/10/": 6, "/2/": 7}
    UnitHeadcount.objects.bulk_create(UnitHeadcount(unit_path=p, n=n) for p, n in counts.items())
    rows = UnitHeadcount.objects.all()
    few = ["/1/2/", "/1/3/", "/1/10/"]
    expected = {"/1/": 1 + 5, "/1/2/": 5, "/1/3/": 4, "/1/10/": 6}
    by_ranges = sums_by_child(rows, "unit_path", "/1/", ["n"], few)
    assert {path: n for path, (n,) in by_ranges.items()} == expected
    many = few + [f"/1/{n}/" for n in range(100, 100 + RANGES_PER_STATEMENT)]
    grouped = sums_by_child(rows, "unit_path", "/1/", ["n"], many)
    assert {path: grouped[path][0] for path in expected} == expected
    assert sum(n for (n,) in grouped.values()) == sum(by_ranges[p][0] for p in expected) == 21
