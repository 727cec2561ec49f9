"""Close-out rules: consecutive normal days and the end of a contact's observation."""

import datetime as dt

import pytest

from fangkong.health.demo import declaration
from fangkong.health.models import Declaration, OutbreakProfile
from fangkong.tracking.rules import abnormal_readiness, contact_readiness, normal_streak

pytestmark = pytest.mark.django_db
TODAY = dt.date(2020, 3, 16)


def declare(person, days_ago: int, temperature: str = "36.5") -> None:
    day = TODAY - dt.timedelta(days=days_ago)
    Declaration.objects.create(
        **{
            f.name: getattr(declaration(person, day, temperature=temperature), f.name)
            for f in Declaration._meta.concrete_fields
            if f.name not in ("id", "uuid", "created_at")
        }
    )


def test_the_streak_counts_back_from_today_and_stops_at_a_fever(org):
    for days_ago, temperature in [(5, "38.0"), (4, "36.5"), (3, "37.5"), (2, "36.4"), (1, "36.6")]:
        declare(org.person_a, days_ago, temperature)
    assert normal_streak(org.person_a.pk, today=TODAY) == 2  # today not declared yet
    declare(org.person_a, 0)
    assert normal_streak(org.person_a.pk, today=TODAY) == 3


def test_a_missing_day_breaks_the_streak(org):
    for days_ago in (4, 3, 1, 0):
        declare(org.person_a, days_ago)
    assert normal_streak(org.person_a.pk, today=TODAY) == 2


def test_the_profile_decides_how_many_days(org):
    for days_ago in (2, 1, 0):
        declare(org.person_a, days_ago)
    assert abnormal_readiness(org.person_a.pk, today=TODAY).ready
    OutbreakProfile.objects.filter(pk=OutbreakProfile.current().pk).update(normal_days_to_close=4)
    result = abnormal_readiness(org.person_a.pk, today=TODAY)
    assert (result.ready, result.normal_days, result.needed) == (False, 3, 4)


def test_a_contact_waits_for_the_end_of_the_observation_period(org):
    for days_ago in (2, 1, 0):
        declare(org.person_a, days_ago)
    assert not contact_readiness(org.person_a.pk, TODAY, today=TODAY).ready
    assert contact_readiness(org.person_a.pk, TODAY - dt.timedelta(days=1), today=TODAY).ready
