"""A week of problems at fixed instants for the weekly bulletin's tests (and the
permission matrix): the week of Monday 9 November 2026, generated on Monday the 16th."""

import datetime as dt
from typing import Any

import time_machine

from fangkong.rectification import bulletin, services
from fangkong.rectification.models import Bulletin, Problem, Source

from .helpers import at

WEEK = dt.date(2026, 11, 9)
MONDAY_MORNING = at("2026-11-16", "07:00")


def problem(
    org: Any,
    *,
    title: str,
    unit: Any,
    opened: str,
    due: str,
    assigning: Any = None,
    responsible: str = "王工",
) -> Problem:
    assigning = assigning or org.ent_a
    return services.problem_register(
        actor=org.user("supervisor", assigning),
        new=services.NewProblem(
            title=title,
            unit=unit,
            assigning_unit=assigning,
            source=Source.AUDIT,
            due_on=dt.date.fromisoformat(due),
            responsible_name=responsible,
            effect_check_days=1,
        ),
        now=at(opened),
    )


def accepted(org: Any, item: Problem, *, submitted: str, accepted_on: str) -> None:
    owner = org.user("unit_admin", org.plant_a)
    supervisor = org.user("supervisor", org.ent_a)
    with time_machine.travel(at(submitted, "08:00"), tick=False):  # assigned that morning
        services.problem_assign(actor=supervisor, problem=item, owners=[owner])
    services.problem_submit(actor=owner, problem=item, measures="已整改", now=at(submitted))
    services.problem_accept(actor=supervisor, problem=item, now=at(accepted_on))


def week_of_problems(org: Any) -> dict[str, Problem]:
    """Two overdue (red) problems, one accepted on time and closed out, one accepted late,
    one new at the enterprise itself, and one in enterprise B that A's bulletin leaves out.
    """
    made = {
        "old_red": problem(
            org, title="消防通道堵塞", unit=org.plant_a, opened="2026-11-02", due="2026-11-06"
        ),
        "new_red": problem(
            org,
            title="车间照明不足",
            unit=org.shop_a,
            opened="2026-11-10",
            due="2026-11-12",
            responsible="李班长",
        ),
        "on_time": problem(
            org, title="路灯修复", unit=org.plant_a, opened="2026-11-10", due="2026-11-20"
        ),
        "late": problem(
            org, title="卫生间整修", unit=org.plant_a, opened="2026-11-02", due="2026-11-10"
        ),
        "own": problem(
            org, title="制度修订", unit=org.ent_a, opened="2026-11-11", due="2026-11-30"
        ),
        "other": problem(
            org,
            title="氧化铝厂围墙",
            unit=org.plant_b,
            assigning=org.ent_b,
            opened="2026-11-02",
            due="2026-11-05",
        ),
    }
    supervisor = org.user("supervisor", org.ent_a)
    accepted(org, made["on_time"], submitted="2026-11-11", accepted_on="2026-11-11")
    services.problem_check_effect(
        actor=supervisor, problem=made["on_time"], effective=True, now=at("2026-11-12")
    )
    with time_machine.travel(at("2026-11-12", "10:00"), tick=False):  # closed_at is "now"
        services.problem_close_out(actor=supervisor, problem=made["on_time"], reason="销号")
    accepted(org, made["late"], submitted="2026-11-12", accepted_on="2026-11-13")
    return made


def signed_bulletin(org: Any, unit: Any = None) -> Bulletin:
    made = bulletin.bulletin_generate(
        actor=None, unit=unit or org.ent_a, week_start=WEEK, now=MONDAY_MORNING
    )
    return bulletin.bulletin_sign_off(actor=None, bulletin=made, now=MONDAY_MORNING)
