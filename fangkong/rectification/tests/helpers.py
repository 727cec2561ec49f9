"""Problems at fixed instants (Asia/Shanghai), so the colours do not depend on today."""

import datetime as dt
from decimal import Decimal

from fangkong.core.calendar import LOCAL_TZ
from fangkong.rectification import services
from fangkong.rectification.models import Problem, Source


def at(day: str, hhmm: str = "09:00") -> dt.datetime:
    """An aware instant in Asia/Shanghai: ``at("2026-11-13", "12:00")``."""
    return dt.datetime.fromisoformat(f"{day}T{hhmm}:00").replace(tzinfo=LOCAL_TZ)


def register(
    org,
    *,
    opened: str = "2026-11-02",
    due: str = "2026-11-20",
    target: int | None = None,
    title: str = "路灯修复",
    unit=None,
    actor=None,
) -> Problem:
    """A problem of plant A assigned by enterprise A, registered at 09:00 on ``opened``."""
    targets = [("修复路灯", "盏", Decimal(target))] if target else []
    return services.problem_register(
        actor=actor or org.user("supervisor", org.ent_a),
        new=services.NewProblem(
            title=title,
            unit=unit or org.plant_a,
            assigning_unit=org.ent_a,
            source=Source.AUDIT,
            source_ref="审计报告〔2026〕3号",
            due_on=dt.date.fromisoformat(due),
            targets=targets,
        ),
        now=at(opened),
    )


def assign(org, problem: Problem, owner=None) -> None:
    owner = owner or org.user("unit_admin", org.plant_a)
    services.problem_assign(
        actor=org.user("supervisor", org.ent_a), problem=problem, owners=[owner]
    )
