"""The overdue sweep (set-based, one notification per unit) and the ledger's reads."""

import datetime as dt

import pytest
from django.utils import timezone

from fangkong.accounts.roles import Role
from fangkong.core.errors import NotFound, PermissionDenied
from fangkong.ledger import selectors, services
from fangkong.ledger.keys import person_key
from fangkong.ledger.models import Item
from fangkong.notify.models import InboxItem, Notification
from fangkong.orgs.services import person_create
from fangkong.testing import valid_resident_id

pytestmark = pytest.mark.django_db


def people(org, unit, count, start):
    return [
        person_create(
            actor=None, unit=unit, name=f"员工{start + i}", id_number=valid_resident_id(start + i)
        )
        for i in range(count)
    ]


def open_for(person, opened_at, owners=()):
    item, _ = services.item_open(
        actor=None,
        kind="testcase",
        subject=person,
        person=person,
        unit=person.unit,
        title=person.name,
        open_key=person_key(person.pk),
        opened_at=opened_at,
        owners=owners,
    )
    return item


def test_sweep_warns_marks_overdue_and_sends_one_notification_per_unit(org):
    now = timezone.now()
    owner = org.user(Role.TRACKER, org.shop_a)
    admin_plant_a = org.user(Role.UNIT_ADMIN, org.plant_a)
    late_a = [
        open_for(p, now - dt.timedelta(hours=30), [owner]) for p in people(org, org.shop_a, 3, 100)
    ]
    late_b = [open_for(p, now - dt.timedelta(hours=25)) for p in people(org, org.plant_b, 2, 200)]
    [open_for(p, now - dt.timedelta(hours=23), [owner]) for p in people(org, org.shop_a, 2, 300)]
    fine = open_for(org.person_b, now)

    result = services.overdue_sweep(now)

    assert result["overdue"] == 5
    assert result["warned"] == 2
    assert set(Item.objects.filter(is_overdue=True)) == {*late_a, *late_b}
    assert not Item.objects.get(pk=fine.pk).is_overdue
    overdue = Notification.objects.filter(event="item_overdue")
    # One per affected unit, to its parent: the workshop's plant, B1's enterprise.
    assert sorted(n.unit_id for n in overdue) == sorted([org.plant_a.pk, org.ent_b.pk])
    shop_note = overdue.get(unit=org.plant_a)
    assert "3" in shop_note.subject
    assert set(
        InboxItem.objects.filter(notification=shop_note).values_list("user_id", flat=True)
    ) == {
        owner.pk,
        admin_plant_a.pk,
    }
    due_soon = Notification.objects.filter(event="item_due_soon")
    assert [n.unit_id for n in due_soon] == [org.shop_a.pk]
    assert InboxItem.objects.filter(notification=due_soon[0], user=owner).exists()
    assert all(item.clocks.filter(breached_at__isnull=False).exists() for item in late_a)
    assert result["notifications"] == 3

    again = services.overdue_sweep(now + dt.timedelta(minutes=5))
    assert again == {"warned": 0, "overdue": 0, "notifications": 0}
    assert Notification.objects.count() == 3
    # The soon ones pass their deadline later: a breach, no second warning.
    later = services.overdue_sweep(now + dt.timedelta(hours=2))
    assert later["overdue"] == 2 and later["warned"] == 0


def test_sweep_ignores_closed_items(org):
    tracker = org.user(Role.TRACKER, org.ent_a)
    quick, _ = services.item_open(
        actor=None,
        kind="quick",
        subject=org.shop_a,
        unit=org.shop_a,
        title="整改",
        opened_at=timezone.now() - dt.timedelta(days=3),
    )
    services.item_request_close(actor=tracker, item=quick, reason="done")
    assert services.overdue_sweep(timezone.now())["overdue"] == 0


def test_sweep_runs_as_a_periodic_job():
    from fangkong.core.schedules import PERIODIC_JOBS

    assert ("fangkong.ledger.tasks.overdue_sweep", 5) in PERIODIC_JOBS


def test_items_for_is_scoped_and_filtered(org):
    now = timezone.now()
    a = open_for(org.person_a, now - dt.timedelta(hours=30))
    b = open_for(org.person_b, now)
    services.overdue_sweep(now)
    tracker_a = org.user(Role.TRACKER, org.ent_a)
    group_admin = org.user(Role.GROUP_ADMIN, org.group)
    assert list(selectors.items_for(tracker_a, kind="testcase")) == [a]
    assert list(selectors.items_for(group_admin, kind="testcase")) == [a, b]
    assert list(selectors.items_for(group_admin, kind="testcase", overdue=True)) == [a]
    assert list(selectors.items_for(group_admin, kind="testcase", unit=org.ent_b)) == [b]
    assert list(selectors.items_for(group_admin, kind="testcase", q="李娜")) == [b]
    assert list(selectors.items_for(group_admin, kind="testcase", state="closed")) == []
    guard = org.user(Role.GUARD, org.ent_a)  # no health data
    with pytest.raises(PermissionDenied):
        selectors.items_for(guard, kind="testcase")
    with pytest.raises(NotFound):
        selectors.item_get(tracker_a, b.pk)
    assert selectors.item_get(tracker_a, a.pk) == a
    with pytest.raises(NotFound):
        selectors.items_for(group_admin, kind="nonesuch")


def test_open_counts_by_unit(org):
    now = timezone.now()
    open_for(org.person_a, now - dt.timedelta(hours=30))
    open_for(org.person_b, now)
    extra = people(org, org.ent_a, 1, 400)[0]
    open_for(extra, now)
    services.overdue_sweep(now)
    viewer = org.user(Role.VIEWER, org.group)
    counts = selectors.open_counts_by_unit(viewer, kind="testcase", unit=org.group)
    assert counts[org.ent_a.pk] == {"open": 2, "overdue": 1, "closing": 0}
    assert counts[org.ent_b.pk] == {"open": 1, "overdue": 0, "closing": 0}
    assert counts[org.group.pk] == {"open": 0, "overdue": 0, "closing": 0}
    within_a = selectors.open_counts_by_unit(viewer, kind="testcase", unit=org.ent_a)
    assert within_a[org.ent_a.pk]["open"] == 1  # placed on the enterprise itself
    assert within_a[org.plant_a.pk]["open"] == 1
    with pytest.raises(NotFound):
        selectors.open_counts_by_unit(
            org.user(Role.VIEWER, org.ent_b), kind="testcase", unit=org.ent_a
        )


def test_my_due_today(org):
    now = timezone.now()
    tracker = org.user(Role.TRACKER, org.ent_a)
    # Opened 30 hours ago, its daily follow-up is overdue, so due today at any hour.
    due = open_for(org.person_a, now - dt.timedelta(hours=30), [tracker])
    later = people(org, org.shop_a, 1, 500)[0]
    open_for(later, now + dt.timedelta(days=2), [tracker])
    open_for(org.person_b, now - dt.timedelta(hours=30))  # not the tracker's
    assert list(selectors.my_due_today(tracker)) == [due]
