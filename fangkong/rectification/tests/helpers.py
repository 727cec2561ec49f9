"""Problems at fixed instants (Asia/Shanghai), so the colours do not depend on today."""

import datetime as dt
from decimal import Decimal

from fangkong.rectification import services
from fangkong.rectification.models import Problem, Source
from fangkong.testing import at, travel  # noqa: F401  (the tests import them from here)


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
    with travel(opened):
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
        )


def assign(org, problem: Problem, owner=None, *, day: str = "2026-11-02") -> None:
    """The enterprise's supervisor assigns the problem at 10:00 on ``day``."""
    owner = owner or org.user("unit_admin", org.plant_a)
    with travel(day, "10:00"):
        services.problem_assign(
            actor=org.user("supervisor", org.ent_a), problem=problem, owners=[owner]
        )
