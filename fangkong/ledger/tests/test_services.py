"""The ledger engine: opening, follow-ups, transitions, close-out, reopening, permissions."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from fangkong.accounts.roles import Role
from fangkong.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from fangkong.core.models import AuditLog
from fangkong.ledger import services
from fangkong.ledger.keys import person_key
from fangkong.ledger.models import Entry, Item, ItemClock
from fangkong.ledger.services import NewItem
from fangkong.orgs.services import person_update

from .conftest import local

pytestmark = pytest.mark.django_db


def open_card(org, actor=None, person=None, **kwargs):
    person = person or org.person_a
    kwargs.setdefault("open_key", person_key(person.pk))
    return services.item_open(
        actor=actor,
        kind="testcase",
        subject=person,
        person=person,
        unit=person.unit,
        title=f"{person.name} 发热",
        **kwargs,
    )


def test_opening_starts_the_clocks_and_is_idempotent_by_open_key(org):
    tracker = org.user(Role.TRACKER, org.plant_a)
    item, created = open_card(org, tracker, opened_at=local(2025, 9, 30, 9, 0), owners=[tracker])
    assert created
    clocks = {c.key: c for c in item.clocks.all()}
    assert clocks["first_follow_up"].due_at == local(2025, 10, 1, 9, 0)
    # Ten working days after 30 Sept 2025, across National Day and the make-up Saturday.
    assert clocks["resolution"].due_at == local(2025, 10, 21, 23, 59, 59)
    assert not clocks["resolution"].estimated
    assert clocks["follow_up"].due_at == local(2025, 10, 1, 9, 0)
    assert item.next_due_at == local(2025, 10, 1, 9, 0)
    assert item.unit_path == org.shop_a.path
    assert list(item.owners.all()) == [tracker]
    again, created_again = open_card(org, tracker)
    assert (again.pk, created_again) == (item.pk, False)
    assert Item.objects.count() == 1
    assert AuditLog.objects.filter(object_type="ledger.item", action="create").count() == 1


def test_a_resolution_deadline_in_a_year_without_notice_is_flagged(org):
    item, _ = open_card(org, opened_at=local(2099, 6, 1, 9, 0))
    resolution = item.clocks.get(key="resolution")
    assert resolution.estimated
    item.clocks.exclude(key="resolution").update(met_at=timezone.now())
    services.refresh_due(item)
    assert item.next_due_estimated


def test_bulk_opening_skips_open_keys_and_repeats(org):
    open_card(org)
    rows = [
        NewItem(subject=p, person=p, unit=p.unit, title=p.name, open_key=person_key(p.pk))
        for p in (org.person_a, org.person_b, org.person_b)
    ]
    assert services.items_open_bulk(actor=None, kind="testcase", rows=rows) == 1
    assert Item.objects.count() == 2
    new = Item.objects.get(person=org.person_b)
    assert new.clocks.count() == 3
    assert new.next_due_at is not None
    assert new.entries.filter(kind=Entry.Kind.SYSTEM).count() == 1
    assert services.items_open_bulk(actor=None, kind="testcase", rows=rows) == 0


def test_one_item_and_many_leave_the_same_trail(org):
    """item_open is one row of the bulk path: one audit row per unit, a lone item's naming it."""
    tracker = org.user(Role.TRACKER, org.ent_a)
    item, _ = open_card(org, tracker, owners=[tracker])
    row = AuditLog.objects.get(object_type="ledger.item", action="create")
    assert (row.object_id, row.scope_path, row.actor) == (str(item.pk), item.unit_path, tracker)
    assert row.object_repr == f"testcase #{item.pk} {item.title}"
    assert row.after["state"] == "open" and row.after["ids"] == [item.pk]
    opening = item.entries.get()
    assert (opening.kind, opening.author, opening.data) == (
        Entry.Kind.SYSTEM,
        tracker,
        {"state": "open"},
    )
    rows = [
        NewItem(subject=unit, unit=org.shop_a, title=unit.name)
        for unit in (org.shop_a, org.plant_a)
    ]
    assert services.items_open_bulk(actor=tracker, kind="testcase", rows=rows) == 2
    many = AuditLog.objects.filter(object_type="ledger.item").exclude(pk=row.pk).get()
    assert many.object_repr == "testcase: 2 item(s) opened" and len(many.after["ids"]) == 2


def test_a_title_is_needed_one_at_a_time_or_in_bulk(org):
    with pytest.raises(InvalidInput):
        services.item_open(
            actor=None, kind="testcase", subject=org.person_a, unit=org.shop_a, title="  "
        )
    rows = [NewItem(subject=org.person_b, unit=org.shop_a, title=" ")]
    with pytest.raises(InvalidInput):
        services.items_open_bulk(actor=None, kind="testcase", rows=rows)
    assert not Item.objects.exists()


def test_bulk_opening_refuses_units_outside_the_actors_scope(org):
    tracker_b = org.user(Role.TRACKER, org.ent_b)
    rows = [NewItem(subject=org.person_a, person=org.person_a, unit=org.shop_a, title="x")]
    with pytest.raises(NotFound):
        services.items_open_bulk(actor=tracker_b, kind="testcase", rows=rows)


def test_follow_up_meets_the_first_clock_and_restarts_the_recurring_one(org):
    tracker = org.user(Role.TRACKER, org.ent_a)
    item, _ = open_card(org, tracker, opened_at=timezone.now() - dt.timedelta(hours=30))
    services.overdue_sweep(timezone.now())
    item.refresh_from_db()
    assert item.is_overdue
    at = timezone.now() - dt.timedelta(minutes=1)
    entry = services.item_follow_up(
        actor=tracker, item=item, text="体温正常", value=Decimal("36.6"), unit="℃", at=at
    )
    assert entry.kind == Entry.Kind.MEASUREMENT
    clocks = {c.key: c for c in item.clocks.all()}
    assert clocks["first_follow_up"].met_at == at
    assert clocks["follow_up"].due_at == at + dt.timedelta(hours=24)
    assert clocks["follow_up"].breached_at is None
    item.refresh_from_db()
    assert not item.is_overdue
    assert item.next_due_at == at + dt.timedelta(hours=24)
    with pytest.raises(InvalidInput):
        services.item_follow_up(actor=tracker, item=item, text="  ")


def test_follow_up_by_a_role_without_track_is_refused(org):
    item, _ = open_card(org)
    reporter = org.user(Role.REPORTER, org.ent_a)
    with pytest.raises(PermissionDenied):
        services.item_follow_up(actor=reporter, item=item, text="ok")
    outsider = org.user(Role.TRACKER, org.ent_b)
    with pytest.raises(NotFound):
        services.item_follow_up(actor=outsider, item=item, text="ok")


def test_transitions_follow_the_workflow_and_its_permissions(org):
    tracker = org.user(Role.TRACKER, org.ent_a)
    admin = org.user(Role.UNIT_ADMIN, org.ent_a)
    item, _ = open_card(org)
    with pytest.raises(Conflict):
        services.item_transition(actor=tracker, item=item, target="escalated")
    item = services.item_transition(actor=tracker, item=item, target="following", note="电话")
    assert item.state == "following"
    with pytest.raises(PermissionDenied):
        services.item_transition(actor=tracker, item=item, target="open")
    item = services.item_transition(actor=admin, item=item, target="open")
    assert item.state == "open"
    assert item.entries.filter(kind=Entry.Kind.TRANSITION).count() == 2


def test_close_out_by_a_role_that_may_not_is_refused(org):
    item, _ = open_card(org)
    reporter = org.user(Role.REPORTER, org.ent_a)  # sees health data, does not track
    with pytest.raises(PermissionDenied) as refused:
        services.item_request_close(actor=reporter, item=item, reason="正常")
    assert refused.value.status == 403
    tracker = org.user(Role.TRACKER, org.ent_a)
    services.item_request_close(actor=tracker, item=item, reason="连续3天正常")
    with pytest.raises(PermissionDenied):  # a tracker may ask, not approve
        services.item_approve_close(actor=tracker, item=item)
    item.refresh_from_db()
    assert item.state == "closing" and item.is_open


def test_close_out_needs_a_reason(org):
    tracker = org.user(Role.TRACKER, org.ent_a)
    item, _ = open_card(org)
    with pytest.raises(InvalidInput) as invalid:
        services.item_request_close(actor=tracker, item=item, reason=" ")
    assert "reason" in invalid.value.detail


def test_close_out_with_approval(org):
    tracker = org.user(Role.TRACKER, org.ent_a)
    admin = org.user(Role.UNIT_ADMIN, org.ent_a)
    item, _ = open_card(org, tracker)
    item = services.item_request_close(actor=tracker, item=item, reason="连续3天正常")
    assert item.state == "closing"
    with pytest.raises(Conflict):
        services.item_request_close(actor=tracker, item=item, reason="again")
    item = services.item_approve_close(actor=admin, item=item, note="同意销号")
    assert (item.state, item.is_open, item.close_reason) == ("closed", False, "连续3天正常")
    assert item.closed_at is not None
    assert not ItemClock.objects.filter(item=item, met_at__isnull=True).exists()
    assert item.next_due_at is None
    kinds_seen = list(item.entries.values_list("kind", flat=True))
    assert kinds_seen == ["system", "close_request", "approval"]
    assert AuditLog.objects.filter(action="close", object_id=str(item.pk)).count() == 1
    with pytest.raises(Conflict):
        services.item_follow_up(actor=tracker, item=item, text="late")
    # The key is free again: a new case opens a new item.
    new, created = open_card(org)
    assert created and new.pk != item.pk


def test_rejected_close_out_returns_to_the_previous_state(org):
    tracker = org.user(Role.TRACKER, org.ent_a)
    admin = org.user(Role.UNIT_ADMIN, org.ent_a)
    item, _ = open_card(org)
    services.item_transition(actor=tracker, item=item, target="following")
    services.item_request_close(actor=tracker, item=item, reason="正常")
    with pytest.raises(InvalidInput):
        services.item_reject_close(actor=admin, item=item, reason="")
    item = services.item_reject_close(actor=admin, item=item, reason="还需观察")
    assert (item.state, item.is_open, item.close_reason) == ("following", True, "")


def test_close_out_without_approval_closes_at_once(org):
    tracker = org.user(Role.TRACKER, org.ent_a)
    item, _ = services.item_open(
        actor=tracker, kind="quick", subject=org.shop_a, unit=org.shop_a, title="整改"
    )
    item = services.item_request_close(actor=tracker, item=item, reason="已整改")
    assert (item.state, item.is_open) == ("closed", False)


def test_reopening(org):
    tracker = org.user(Role.TRACKER, org.ent_a)
    admin = org.user(Role.UNIT_ADMIN, org.ent_a)
    item, _ = open_card(org, tracker)
    services.item_request_close(actor=tracker, item=item, reason="正常")
    item = services.item_approve_close(actor=admin, item=item)
    with pytest.raises(PermissionDenied):
        services.item_reopen(actor=tracker, item=item, reason="复发")
    with pytest.raises(InvalidInput):
        services.item_reopen(actor=admin, item=item, reason="")
    before = timezone.now()
    item = services.item_reopen(actor=admin, item=item, reason="再次发热")
    assert (item.state, item.is_open, item.closed_at) == ("open", True, None)
    pending = item.clocks.filter(met_at__isnull=True)
    assert pending.count() == 3
    assert all(clock.due_at > before for clock in pending)
    assert item.next_due_at is not None
    assert item.entries.filter(kind=Entry.Kind.REOPEN).exists()
    with pytest.raises(Conflict):
        services.item_reopen(actor=admin, item=item, reason="again")


def test_reopening_is_refused_while_another_item_covers_the_key(org):
    tracker = org.user(Role.TRACKER, org.ent_a)
    admin = org.user(Role.UNIT_ADMIN, org.ent_a)
    item, _ = open_card(org, tracker)
    services.item_request_close(actor=tracker, item=item, reason="正常")
    services.item_approve_close(actor=admin, item=item)
    open_card(org, tracker)
    with pytest.raises(Conflict):
        services.item_reopen(actor=admin, item=item, reason="复发")


def test_escalation_tells_the_parent_units_admins(org):
    from fangkong.notify.models import Notification

    tracker = org.user(Role.TRACKER, org.ent_a)
    item, _ = open_card(org, tracker)
    item = services.item_escalate(actor=tracker, item=item, reason="14天未转阴")
    assert item.state == "escalated"
    note = Notification.objects.get(event="item_escalated")
    assert note.unit == org.plant_a  # the workshop's parent


def test_assignment_and_cadence(org):
    tracker = org.user(Role.TRACKER, org.ent_a)
    other = org.user(Role.TRACKER, org.plant_a)
    item, _ = open_card(org, tracker, owners=[tracker], opened_at=local(2025, 9, 30, 9, 0))
    services.item_assign(actor=tracker, item=item, owners=[other])
    assert list(item.owners.all()) == [other]
    services.item_set_cadence(actor=tracker, item=item, every_hours=12)
    assert item.clocks.get(key="follow_up").due_at == local(2025, 9, 30, 21, 0)
    with pytest.raises(InvalidInput):
        services.item_set_cadence(actor=tracker, item=item, every_hours=0)
    services.item_set_cadence(actor=tracker, item=item, every_hours=None)
    assert not item.clocks.filter(key="follow_up").exists()


def test_items_follow_their_person_and_their_units(org):
    from fangkong.orgs.services import unit_move

    item, _ = open_card(org)
    person_update(actor=None, person=org.person_a, unit=org.plant_b)
    item.refresh_from_db()
    assert (item.unit_id, item.unit_path) == (org.plant_b.pk, org.plant_b.path)
    unit_move(actor=None, unit=org.plant_b, new_parent=org.ent_a)
    item.refresh_from_db()
    org.plant_b.refresh_from_db()
    assert item.unit_path == org.plant_b.path
