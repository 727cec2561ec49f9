"""Deterministic demo travel data: a risk-area list, return rules and a few returnees.

The story: Wuhan is high risk and Shenzhen medium; Shijiazhuang is low — the demo raises
it to high on the risk-area page and sees the returnee who passed through it flagged
(``exposures_found``) and decided again. 山东铝业 has its own rule for high-risk areas
and 中铝山西新材料 for medium ones (一企一策), so the decisions name different rules.
"""

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone

from fangkong.core.models import Division
from fangkong.core.paths import subtree_q
from fangkong.orgs.models import OrgUnit, Person

from .models import ReturneeCard, RiskAreaBatch
from .services import AreaChange, card_file, risk_areas_apply, rule_save

# (code, level, days since the level took effect)
DEMO_AREAS = [
    ("420100", "high", 30),  # 湖北省 武汉市
    ("440300", "medium", 20),  # 广东省 深圳市
    ("130100", "low", 20),  # 河北省 石家庄市: the one to raise in the demo
    ("370300", "low", 30),  # 山东省 淄博市
]
RAISE_IN_DEMO = "130100"
GROUP_RULES = {
    "high": {"quarantine_days": "14", "mode": "centralised", "tests": "2", "monitoring_days": "14"},
    "medium": {"quarantine_days": "7", "mode": "home", "tests": "1", "monitoring_days": "14"},
    "low": {"quarantine_days": "0", "mode": "home", "tests": "0", "monitoring_days": "0"},
}
# 一企一策: (unit code, level, measures)
OVERRIDES = [
    ("SDLY", "high", {"quarantine_days": "21", "mode": "centralised", "tests": "3"}),
    ("SXXCL", "medium", {"quarantine_days": "0", "mode": "home", "monitoring_days": "14"}),
]


def _trip(code: str, first: int, last: int, today: dt.date, **extra: Any) -> dict[str, Any]:
    return {
        "division": code,
        "from_day": today - dt.timedelta(days=first),
        "to_day": today - dt.timedelta(days=last),
        **extra,
    }


def _returnees(today: dt.date) -> list[tuple[str, int, dict[str, Any]]]:
    """(unit code, n-th person of the subtree, card) for the demo returnees."""
    healthy = {"fever": False, "symptoms": False, "contact": "none"}
    back = {"planned_return": today + dt.timedelta(days=2)}
    return [
        # Wuhan (high): must quarantine under 山东铝业's own rule for high-risk areas.
        (
            "SDLY",
            2,
            {
                **back,
                **healthy,
                "coming_from": "420106",
                "itineraries": [
                    _trip("420106", 12, 6, today, transport="train", transport_number="G1722")
                ],
            },
        ),
        # Shijiazhuang (low today): may return — until the demo raises it to high.
        (
            "SDLY",
            3,
            {
                **back,
                **healthy,
                "coming_from": "130109",
                "itineraries": [
                    _trip("130109", 9, 4, today, transport="car"),
                    _trip("370303", 3, 0, today, transport="bus"),
                ],
            },
        ),
        # Stayed at home: may return, no rule applies.
        ("SDLY", 4, {**back, **healthy, "no_travel": True}),
        # Health questions not answered yet: waiting.
        ("SDLY", 5, {**back, "itineraries": [_trip("370303", 5, 1, today)]}),
        # Shenzhen (medium): may return under 中铝山西新材料's own rule (monitoring only).
        (
            "SXXCL",
            1,
            {
                **back,
                **healthy,
                "itineraries": [
                    _trip("440305", 8, 5, today, transport="flight", transport_number="CZ3155")
                ],
            },
        ),
        # Shenzhen (medium) in another enterprise: the group rule, home quarantine.
        (
            "SXLY",
            1,
            {
                **back,
                **healthy,
                "itineraries": [
                    _trip("440304", 4, 2, today, transport="flight", transport_number="ZH9917")
                ],
            },
        ),
    ]


def _nth_person(unit_code: str, n: int) -> Person | None:
    unit = OrgUnit.objects.filter(code=unit_code).first()
    if unit is None:
        return None
    people = Person.objects.filter(subtree_q("unit_path", unit.path), is_active=True)
    return people.order_by("pk")[n : n + 1].first()


@transaction.atomic
def seed_travel(*, today: dt.date | None = None) -> dict[str, int]:
    """Load the risk-area list, the rules and the demo returnees; return what was made."""
    today = today or timezone.localdate()
    if RiskAreaBatch.objects.exists():
        return {"areas": 0, "cards": 0}
    divisions = Division.objects.in_bulk([code for code, _level, _days in DEMO_AREAS])
    risk_areas_apply(
        actor=None,
        changes=[
            AreaChange(divisions[code], level, today - dt.timedelta(days=days))
            for code, level, days in DEMO_AREAS
        ],
        notice="演示：疫情风险等级通告",
        today=today,
    )
    for level, raw in GROUP_RULES.items():
        rule_save(actor=None, unit=None, level=level, raw=raw)
    for code, level, raw in OVERRIDES:
        unit = OrgUnit.objects.filter(code=code).first()
        if unit is not None:
            rule_save(actor=None, unit=unit, level=level, raw=raw)
    cards = 0
    for unit_code, n, raw in _returnees(today):
        person = _nth_person(unit_code, n)
        if person is None:
            continue
        card_file(actor=None, person=person, raw=raw)
        cards += 1
    return {"areas": len(DEMO_AREAS), "cards": cards}


def demo_summary() -> list[str]:
    """Lines for the seed command: who returns and what to raise."""
    lines = []
    for card in ReturneeCard.objects.select_related("person", "person__unit").order_by("pk"):
        lines.append(f"{card.person.name} ({card.person.unit.name}): {card.get_outcome_display()}")
    return lines
