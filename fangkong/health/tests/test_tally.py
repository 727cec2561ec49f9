"""The day tallies stay equal to a recount of the declarations after every kind of write."""

import datetime as dt

import pytest
from django.db import connection
from django.utils import timezone

from fangkong.health import services, subtree_tally, tally
from fangkong.health.models import DayTally, SubtreeTally
from fangkong.orgs.services import person_create, person_merge, person_update, unit_move

from .factories import raw_declaration

pytestmark = pytest.mark.django_db


def declare(org, *items):
    actor = org.user("grid_worker", org.group)
    return services.declarations_submit(actor=actor, items=list(items))


def counts(day, path):
    row = DayTally.objects.get(day=day, unit_path=path)
    return {name: getattr(row, name) for name in tally.COUNTS}


def test_new_and_superseding_declarations_keep_the_tally_exact(org):
    today = timezone.localdate()
    declare(
        org,
        raw_declaration(org.person_a, temperature="38.4", symptoms=["cough"]),
        raw_declaration(org.person_b, whereabouts="travelling"),
    )
    shop = counts(today, org.shop_a.path)
    assert shop["declared"] == 1 and shop["abnormal"] == 1
    assert shop["fever"] == 1 and shop["symptom"] == 1
    assert counts(today, org.plant_b.path)["returnees"] == 1

    # The afternoon's normal declaration supersedes the morning's fever.
    declare(org, raw_declaration(org.person_a))
    assert counts(today, org.shop_a.path) == {**dict.fromkeys(tally.COUNTS, 0), "declared": 1}
    assert tally.differences([today]) == []


def test_a_retried_uuid_does_not_count_twice(org):
    item = raw_declaration(org.person_a, temperature="38.0")
    declare(org, item)
    declare(org, item)
    assert counts(timezone.localdate(), org.shop_a.path)["declared"] == 1


def test_moves_and_merges_carry_the_counts_along(org):
    today = timezone.localdate()
    yesterday = today - dt.timedelta(days=1)
    admin = org.user("group_admin", org.group)
    declare(org, raw_declaration(org.person_a, day=yesterday.isoformat(), temperature="38.0"))
    declare(org, raw_declaration(org.person_a))
    person_update(actor=admin, person=org.person_a, unit=org.plant_b)
    assert counts(yesterday, org.plant_b.path)["fever"] == 1
    assert counts(today, org.shop_a.path)["declared"] == 0

    unit_move(actor=admin, unit=org.plant_b, new_parent=org.ent_a)
    org.plant_b.refresh_from_db()
    assert counts(today, org.plant_b.path)["declared"] == 1

    # The community registered the same person again (it cannot see the plant's record).
    twin = person_create(
        actor=org.user("unit_admin", org.community),
        unit=org.community,
        name="张伟",
        id_number=org.person_a.id_number,
    )
    declare(org, raw_declaration(twin, temperature="37.9"))
    person_merge(actor=admin, survivor=org.person_a, duplicate=twin)
    assert counts(today, org.community.path)["declared"] == 0
    assert tally.differences([yesterday, today]) == []


def test_rebuild_recounts_from_the_declarations(org):
    today = timezone.localdate()
    declare(org, raw_declaration(org.person_a, temperature="38.0"))
    DayTally.objects.update(declared=99)
    assert tally.differences([today]) != []
    tally.rebuild([today])
    assert tally.differences([today]) == []


def test_the_subtree_triggers_are_installed_after_every_migration():
    expected = 1 if connection.vendor == "postgresql" else 3
    assert len(subtree_tally.installed()) == expected


def test_each_subtree_row_sums_the_tallies_below_its_enterprise(org):
    # The fixture's enterprises sit one level below the group, so its plants have the
    # subtree rows (two levels below the root): a workshop counts in its plant's row.
    today = timezone.localdate()
    paths = {
        "/7/": "/7/",
        "/7/8/": "/7/8/",
        "/7/8/9/": "/7/8/9/",
        "/7/8/9/10/": "/7/8/9/",
        "/7/8/9/10/11/12/": "/7/8/9/",
        "/7/8/19/": "/7/8/19/",
    }
    DayTally.objects.bulk_create(
        DayTally(day=today, unit_path=path, declared=n + 1) for n, path in enumerate(paths)
    )
    rows = dict(SubtreeTally.objects.filter(day=today).values_list("unit_path", "declared"))
    assert rows == {"/7/": 1, "/7/8/": 2, "/7/8/9/": 3 + 4 + 5, "/7/8/19/": 6}
    assert {path: subtree_tally.bucket_path(path) for path in paths} == paths
    DayTally.objects.filter(unit_path="/7/8/9/10/").delete()
    assert SubtreeTally.objects.get(day=today, unit_path="/7/8/9/").declared == 3 + 5
    assert subtree_tally.differences([today]) == []


def test_declarations_reach_the_group_and_an_enterprise_through_the_subtree_rows(org):
    today = timezone.localdate()
    declare(org, raw_declaration(org.person_a, temperature="38.4"))
    assert org.person_a.unit_path.startswith(org.plant_a.path)  # a workshop of plant A1
    row = SubtreeTally.objects.get(day=today, unit_path=org.plant_a.path)
    assert (row.declared, row.abnormal, row.fever) == (1, 1, 1)
    unit_move(actor=org.user("group_admin", org.group), unit=org.plant_a, new_parent=org.ent_b)
    org.plant_a.refresh_from_db()
    assert SubtreeTally.objects.get(day=today, unit_path=org.plant_a.path).fever == 1
    assert tally.differences([today]) == []
