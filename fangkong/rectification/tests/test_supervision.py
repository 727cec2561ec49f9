"""Supervision orders (督办单) on any ledger item, colour notices, and the nightly colours."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import transaction

from fangkong.accounts.roles import Role
from fangkong.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from fangkong.ledger import services as ledger
from fangkong.ledger.models import Entry
from fangkong.notify.models import Event, InboxItem, Notification
from fangkong.rectification import nightly, services, supervision
from fangkong.rectification.models import (
    Colour,
    ColourCount,
    Problem,
    SupervisionLevel,
    SupervisionOrder,
    Target,
)

from .helpers import assign, at, register, travel

pytestmark = pytest.mark.django_db


def colour_notices(user=None):
    notices = Notification.objects.filter(event=Event.COLOUR_CHANGED)
    return notices.filter(inbox_items__user=user) if user else notices


def issue(org, item, *, actor=None, unit=None, due="2026-11-27", now="2026-11-03"):
    return supervision.order_issue(
        actor=actor or org.user(Role.SUPERVISOR, org.ent_a),
        item=item,
        supervising_unit=unit or org.ent_a,
        level=SupervisionLevel.KEY,
        due_on=dt.date.fromisoformat(due),
        note="每周报告进展",
        now=at(now),
    )


# ------------------------------------------------------------------ notices at a change


def test_a_colour_change_notifies_the_owner_and_the_assigning_unit_after_commit(
    org, django_capture_on_commit_callbacks
):
    # 1–18 September, the report made on the 11th (its time may not lie ahead of the clock).
    problem = register(org, opened="2026-09-01", due="2026-09-18", target=698)
    owner = org.user(Role.UNIT_ADMIN, org.plant_a)
    assign(org, problem, owner, day="2026-09-01")
    acceptor = org.user(Role.SUPERVISOR, org.ent_a)
    with travel("2026-09-11"), django_capture_on_commit_callbacks(execute=True) as sent:
        # By 11 September 10 of 18 days are gone; 300 of 698 lamps is behind: yellow.
        services.problem_progress(
            actor=owner, problem=problem, done={problem.targets.get().pk: 300}, now=at("2026-09-11")
        )
    assert sent, "the notice waits for the commit"
    problem.refresh_from_db()
    assert problem.colour == Colour.YELLOW
    [notice] = colour_notices(owner)
    assert "路灯修复" in notice.subject and "电解铝厂" in notice.subject
    assert "2026-09-18" in notice.body
    assert notice.link == f"/ledger/item/{problem.item_id}/"
    assert colour_notices(acceptor).get() == notice  # the assigning unit hears it too


def test_a_rolled_back_change_tells_nobody(org, django_capture_on_commit_callbacks):
    problem = register(org, opened="2026-09-01", due="2026-09-18", target=698)
    owner = org.user(Role.UNIT_ADMIN, org.plant_a)
    assign(org, problem, owner, day="2026-09-01")
    before = colour_notices().count()
    with (
        travel("2026-09-11"),
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        services.problem_progress(
            actor=owner, problem=problem, done={problem.targets.get().pk: 1}, now=at("2026-09-11")
        )
        raise RuntimeError("rolled back")
    assert colour_notices().count() == before
    problem.refresh_from_db()
    assert problem.colour == Colour.NONE


# ------------------------------------------------------------------ orders


def test_an_order_goes_on_the_items_history_and_a_second_one_is_refused(org):
    problem = register(org)
    order = issue(org, problem.item)
    entry = problem.item.entries.get(kind=Entry.Kind.SYSTEM, data__supervision=order.pk)
    assert "山东铝业有限公司" in entry.text and "2026-11-27" in entry.text
    assert order.is_active and order.supervising_path == org.ent_a.path
    with pytest.raises(Conflict):
        issue(org, problem.item)
    assert SupervisionOrder.objects.filter(item=problem.item).count() == 1


def test_who_may_supervise(org):
    problem = register(org)
    with pytest.raises(NotFound):  # enterprise B's supervisor does not see the problem
        issue(org, problem.item, actor=org.user(Role.SUPERVISOR, org.ent_b))
    with pytest.raises(PermissionDenied):  # a reporter sees it but does not supervise
        issue(org, problem.item, actor=org.user(Role.REPORTER, org.ent_a))
    with pytest.raises(InvalidInput) as below:  # a unit below the item's cannot supervise it
        issue(org, problem.item, actor=org.user(Role.GROUP_ADMIN, org.group), unit=org.shop_a)
    assert "supervising_unit_id" in below.value.detail
    with pytest.raises(InvalidInput):
        issue(org, problem.item, due="2026-11-01")  # in the past
    assert not SupervisionOrder.objects.exists()
    # The group supervises from the top; the item's own unit may supervise itself.
    assert issue(org, problem.item, actor=org.user(Role.GROUP_ADMIN, org.group), unit=org.group)


def test_an_abnormal_person_card_is_supervised_and_the_order_ends_with_it(org):
    from fangkong.tracking.tests.helpers import open_card_for

    with travel("2026-11-03", "08:00"):  # three normal days up to today, then the card
        card = open_card_for(org.person_a, ready=True)
    # A supervisor does not see health cards; the enterprise's admin does.
    with pytest.raises(NotFound):
        issue(org, card)
    admin = org.user(Role.UNIT_ADMIN, org.ent_a)
    order = issue(org, card, actor=admin, due="2026-11-04")
    assert supervision.order_colour(order, card, at("2026-11-03")) == Colour.BLUE
    assert supervision.order_colour(order, card, at("2026-11-05")) == Colour.RED
    with travel("2026-11-04", "10:00"):
        ledger.item_request_close(actor=None, item=card, reason="体温正常")
        ledger.item_approve_close(actor=None, item=card)
    order.refresh_from_db()
    assert not order.is_active and order.ended_at == at("2026-11-04", "10:00")
    assert card.entries.filter(data__supervision=order.pk, data__ended=True).exists()


def test_an_order_ended_by_hand_needs_a_reason(org):
    problem = register(org)
    order = issue(org, problem.item)
    supervisor = org.user(Role.SUPERVISOR, org.ent_a)
    with travel("2026-11-10"):
        with pytest.raises(InvalidInput):
            supervision.order_end(actor=supervisor, order=order, reason=" ")
        with pytest.raises(PermissionDenied):
            supervision.order_end(actor=org.user(Role.REPORTER, org.ent_a), order=order, reason="x")
        supervision.order_end(actor=supervisor, order=order, reason="已纳入月度考核")
        order.refresh_from_db()
        assert not order.is_active
        with pytest.raises(Conflict):
            supervision.order_end(actor=supervisor, order=order, reason="again")
    # Ended, the item may be supervised again.
    assert issue(org, problem.item, now="2026-11-11").is_active


# ------------------------------------------------------------------ nightly


def _mixed(org):
    """Problems across a weekend and the National Day holiday, with targets and milestones."""
    owner = org.user(Role.UNIT_ADMIN, org.plant_a)
    cases = [
        ("2026-09-21", "2026-09-29", None),  # red by 30 September
        ("2026-09-21", "2026-10-09", 100),  # 3 working days across the holiday: blue
        ("2026-09-21", "2026-10-12", 100),  # the 12th is the 4th working day: not blue
        ("2026-09-21", "2026-10-30", 100),  # behind pro rata once time passes: yellow
        ("2026-09-22", "2026-10-30", None),
        ("2026-09-25", "2026-10-02", None),  # due in the holiday
        ("2026-09-28", "2026-11-20", 5),
    ]
    problems = []
    for n, (opened, due, target) in enumerate(cases):
        problem = register(org, opened=opened, due=due, target=target, title=f"问题{n}")
        assign(org, problem, owner)
        problems.append(problem)
    Target.objects.filter(problem=problems[3]).update(done=Decimal("10"))
    Target.objects.filter(problem=problems[1]).update(done=Decimal("99.5"))
    Target.objects.filter(problem=problems[6]).update(done=Decimal("5"))
    services.problem_register(
        actor=org.user(Role.SUPERVISOR, org.ent_a),
        new=services.NewProblem(
            title="长期",
            unit=org.shop_a,
            assigning_unit=org.ent_a,
            problem_class="long_term",
            due_on=dt.date(2026, 12, 31),
            milestones=[("方案", dt.date(2026, 9, 29))],
        ),
        now=at("2026-09-24"),
    )
    issue(org, problems[4].item, due="2026-10-08", now="2026-09-25")
    issue(org, problems[3].item, due="2026-10-20", now="2026-09-25")
    return problems


@pytest.mark.parametrize(
    "when",
    [
        ("2026-09-30", "01:00"),
        ("2026-09-30", "23:59"),
        ("2026-10-03", "01:00"),  # in the holiday
        ("2026-10-09", "01:00"),  # the make-up Friday before a weekend
        ("2026-10-10", "01:00"),  # Saturday
    ],
)
def test_the_set_based_colours_equal_the_rule_per_problem(org, when):
    _mixed(org)
    now = at(*when)
    nightly.colours_recompute(now)
    for problem in Problem.objects.select_related("item"):
        assert problem.colour == services.colour_now(problem, problem.item, now), problem.title
    for order in SupervisionOrder.objects.select_related("item"):
        assert order.colour == supervision.order_colour(order, order.item, now), order.pk
    colours = set(Problem.objects.values_list("colour", flat=True))
    assert len(colours) >= 2


def test_the_nightly_run_is_idempotent_and_tells_once_per_unit_and_colour(
    org, django_capture_on_commit_callbacks
):
    _mixed(org)
    now = at("2026-10-09", "01:00")
    with django_capture_on_commit_callbacks(execute=True):
        first = nightly.colours_recompute(now)
    notices = colour_notices().filter(created_at__gte=now).count()
    assert first["problems"] > 1
    # Several problems of the plant turned red: one notice per unit and colour, not per item.
    reds = colour_notices().filter(subject__contains="电解铝厂")
    assert first["notifications"] < first["problems"] + first["orders"]
    assert reds.exists()
    counts = list(ColourCount.objects.values_list("day", "unit_path", "colour", "n"))
    assert sum(n for *_k, n in counts) == Problem.objects.filter(item__is_open=True).count()
    total_before = colour_notices().count()
    with django_capture_on_commit_callbacks(execute=True):
        second = nightly.colours_recompute(now)
    assert second["problems"] == second["orders"] == second["notifications"] == 0
    assert colour_notices().count() == total_before
    assert list(ColourCount.objects.values_list("day", "unit_path", "colour", "n")) == counts
    assert notices >= 0
    owner = org.user(Role.UNIT_ADMIN, org.plant_a)
    assert InboxItem.objects.filter(user=owner, notification__event=Event.COLOUR_CHANGED).exists()


def test_the_colours_run_every_night_at_one_in_the_morning_shanghai_time():
    from django_q.models import Schedule

    from fangkong.core.calendar import LOCAL_TZ
    from fangkong.core.schedules import ensure_schedules, next_local_time

    ensure_schedules()
    schedule = Schedule.objects.get(func="fangkong.rectification.tasks.colours_recompute")
    assert schedule.schedule_type == Schedule.DAILY
    local = schedule.next_run.astimezone(LOCAL_TZ)
    assert (local.hour, local.minute) == (1, 0)
    # Before 01:00 it is tonight's; after, tomorrow's.
    assert next_local_time("01:00", at("2026-10-01", "00:10")) == at("2026-10-01", "01:00")
    assert next_local_time("01:00", at("2026-09-30", "23:50")) == at("2026-10-01", "01:00")
    assert next_local_time("01:00", at("2026-10-01", "01:00")) == at("2026-10-02", "01:00")
