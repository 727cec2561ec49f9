"""The day tallies stay equal to a recount of the declarations after every kind of write."""

import datetime as dt

import pytest
from django.utils import timezone

from fangkong.health import services, tally
from fangkong.health.models import DayTally
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
