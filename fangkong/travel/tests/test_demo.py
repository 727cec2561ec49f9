"""The demo story: decisions naming different rules; raising Shijiazhuang flags a returnee."""

import datetime as dt

import pytest
from django.utils import timezone

from fangkong.core.models import Division
from fangkong.orgs.demo import seed
from fangkong.travel.demo import RAISE_IN_DEMO, seed_travel
from fangkong.travel.models import Decision, ReturneeCard
from fangkong.travel.services import risk_area_set

from .factories import captured_exposures

pytestmark = pytest.mark.django_db


def test_the_demo_decides_by_rule_and_the_raise_flags_the_returnee():
    seed("small")
    made = seed_travel()
    assert made["cards"] == 6
    outcomes = sorted(ReturneeCard.objects.values_list("outcome", flat=True))
    assert outcomes == sorted(
        ["must_quarantine", "may_return", "may_return", "waiting", "may_return", "must_quarantine"]
    )
    labels = set(Decision.objects.values_list("rule_label", flat=True))
    assert any("山东铝业" in label for label in labels)
    assert any("中铝山西新材料" in label for label in labels)
    with captured_exposures() as sent:
        change = risk_area_set(
            actor=None,
            division=Division.objects.get(code=RAISE_IN_DEMO),
            level="high",
            effective_from=timezone.localdate() - dt.timedelta(days=10),
        )
    assert len(sent) == 1 and change.redecided == 1
    assert ReturneeCard.objects.filter(outcome="must_quarantine").count() == 3
    assert seed_travel() == {"areas": 0, "cards": 0}  # idempotent
