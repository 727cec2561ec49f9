"""Problems dated back from today. The tests that use them pin the clock
(``fangkong.testing.travel``), so "today" is a known day and what is overdue, due soon or
on time is exact. The permission matrix's problems (``matrix_problem``) are built at
whatever the clock says and assert nothing of dates."""

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from fangkong.core import calendar
from fangkong.rectification import services
from fangkong.rectification.models import Problem, Source


def days_ago(n: int, hhmm: str = "09:00") -> dt.datetime:
    """An aware instant ``n`` days before today, at ``hhmm`` local time."""
    day = timezone.localdate() - dt.timedelta(days=n)
    return dt.datetime.fromisoformat(f"{day}T{hhmm}:00").replace(tzinfo=calendar.LOCAL_TZ)


def problem(
    org,
    *,
    opened_ago: int = 2,
    due_in: int = 20,
    target: int | None = None,
    title: str = "路灯修复",
    unit=None,
    assigning=None,
    source: str = Source.AUDIT,
    ref: str = "审计报告〔2026〕3号",
    effect_check_days: int | None = None,
) -> Problem:
    """A problem of plant A (unless ``unit``) assigned by enterprise A, registered
    ``opened_ago`` days ago and due ``due_in`` days from today (negative: overdue)."""
    opened = days_ago(opened_ago)
    due = timezone.localdate() + dt.timedelta(days=due_in)
    return services.problem_register(
        actor=org.user("supervisor", assigning or org.ent_a),
        new=services.NewProblem(
            title=title,
            unit=unit or org.plant_a,
            assigning_unit=assigning or org.ent_a,
            source=source,
            source_ref=ref,
            due_on=max(due, opened.date()),
            targets=[("修复路灯", "盏", Decimal(target))] if target else [],
            effect_check_days=effect_check_days,
        ),
        now=opened,
    )


def overdue(org, **kwargs) -> Problem:
    """Registered 20 days ago, due 2 days ago: red."""
    made = problem(org, opened_ago=20, due_in=-2, **kwargs)
    services.recolour(made)
    return made


def owner_of(org, unit=None):
    return org.user("unit_admin", unit or org.plant_a)


def assign(org, made: Problem, owner=None, assigning=None) -> None:
    services.problem_assign(
        actor=org.user("supervisor", assigning or org.ent_a),
        problem=made,
        owners=[owner or owner_of(org)],
    )


def closed(org, made: Problem, *, ago: int = 1, on_time: bool = True) -> Problem:
    """Work ``made`` to close-out: submitted, accepted, checked, closed ``ago`` days ago."""
    owner = owner_of(org, made.item.unit if made.item else None)
    assign(org, made, owner)
    supervisor = org.user("supervisor", org.ent_a)
    when = days_ago(ago + 1, "08:00")
    services.problem_submit(actor=owner, problem=made, measures="更换灯具", now=when)
    if not on_time:
        made.due_on = (when - dt.timedelta(days=3)).date()
        made.save(update_fields=["due_on"])
    services.problem_accept(actor=supervisor, problem=made, now=days_ago(ago + 1, "09:00"))
    made.effect_check_days = 0
    made.save(update_fields=["effect_check_days"])
    services.problem_check_effect(
        actor=supervisor, problem=made, effective=True, now=days_ago(ago + 1, "10:00")
    )
    services.problem_close_out(actor=supervisor, problem=made, reason="整改到位")
    item = made.item
    assert item is not None
    item.refresh_from_db()
    item.closed_at = days_ago(ago, "11:00")
    item.save(update_fields=["closed_at"])
    return made


# ------------------------------------------------------------------ the permission matrix

MATRIX_STATES = ("registered", "assigned", "submitted", "accepted", "checked", "closed")


def matrix_owner(unit):
    """A user holding the rectification role on ``unit`` (not one of the matrix's roles)."""
    from fangkong.accounts.models import RoleAssignment, User

    user, _ = User.objects.get_or_create(username=f"rect-owner-{unit.code}".lower())
    RoleAssignment.objects.get_or_create(user=user, role="reporter", unit=unit)
    return user


def matrix_problem(side, state: str = "registered") -> Problem:
    """A problem of the side's unit, assigned by its enterprise, worked by the system to
    ``state`` (inside the case's rolled-back savepoint); accepted 40 days ago, so its
    effectiveness check is due."""
    made = services.problem_register(
        actor=None,
        new=services.NewProblem(
            title="矩阵问题",
            unit=side.unit,
            assigning_unit=side.enterprise,
            source=Source.AUDIT,
            due_on=timezone.localdate() + dt.timedelta(days=30),
            targets=[("路灯", "盏", Decimal(10))],
        ),
        now=days_ago(45),
    )
    steps = MATRIX_STATES[1 : MATRIX_STATES.index(state) + 1]
    if "assigned" in steps:
        services.problem_assign(actor=None, problem=made, owners=[matrix_owner(side.unit)])
    if "submitted" in steps:
        services.problem_submit(actor=None, problem=made, measures="整改", now=days_ago(41))
    if "accepted" in steps:
        services.problem_accept(actor=None, problem=made, now=days_ago(40))
    if "checked" in steps:
        services.problem_check_effect(actor=None, problem=made, effective=True)
    if "closed" in steps:
        services.problem_close_out(actor=None, problem=made, reason="销号")
    return made
