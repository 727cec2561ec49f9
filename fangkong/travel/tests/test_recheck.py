"""Raising a region re-checks the itineraries of the look-back window, set-based."""

import pytest

from fangkong.core.errors import InvalidInput, PermissionDenied
from fangkong.health.models import OutbreakProfile
from fangkong.orgs.services import person_create
from fangkong.testing import valid_resident_id
from fangkong.travel.models import RiskArea, RiskAreaBatch
from fangkong.travel.signals import Exposure

from .factories import (
    HUBEI,
    JIANGAN,
    WUHAN,
    ZHANGDIAN,
    captured_exposures,
    days_ago,
    set_level,
    trip,
)

pytestmark = pytest.mark.django_db


def test_raising_a_city_reports_past_itineraries_in_its_districts_inside_the_window(org):
    inside = trip(org.person_a, JIANGAN, 10, 8)
    outside_window = trip(org.person_b, JIANGAN, 30, 20)  # ended before the 15-day window
    elsewhere = trip(org.person_b, ZHANGDIAN, 5, 3)
    with captured_exposures() as sent:
        change = set_level(WUHAN, "high", since=25)
    assert sent == [
        Exposure(
            person_id=org.person_a.pk,
            unit_id=org.shop_a.pk,
            itinerary_id=inside.pk,
            division_code=WUHAN,
            level="high",
            last_day=days_ago(8),
        )
    ]
    assert outside_window.pk not in {e.itinerary_id for e in sent}
    assert elsewhere.pk not in {e.itinerary_id for e in sent}
    assert change.batch.raised == 1 and change.batch.exposures == 1


def test_the_window_follows_the_outbreak_profile(org):
    trip(org.person_a, JIANGAN, 20, 18)
    profile = OutbreakProfile.current()
    profile.lookback_days = 21
    profile.save()
    with captured_exposures() as sent:
        set_level(WUHAN, "high", since=30)
    assert [e.person_id for e in sent] == [org.person_a.pk]


def test_a_stay_before_the_stays_since_day_is_not_an_exposure(org):
    trip(org.person_a, JIANGAN, 10, 8)
    with captured_exposures() as sent:
        set_level(WUHAN, "high", since=5, stays_since=5)
    assert sent == []


def test_raising_today_flags_the_stays_of_the_look_back_window_by_default(org):
    """A raise is about who was there before it: stays since today minus the look-back."""
    recent = trip(org.person_a, JIANGAN, 10, 8)
    trip(org.person_b, JIANGAN, 20, 16)  # ended before the 15-day window
    with captured_exposures() as sent:
        change = set_level(WUHAN, "high", since=0)
    assert [(e.itinerary_id, e.last_day) for e in sent] == [(recent.pk, days_ago(8))]
    assert change.changed[0].stays_since == days_ago(15)
    assert RiskArea.objects.get(effective_to__isnull=True).stays_since == days_ago(15)


def test_stays_since_may_not_come_after_the_effective_date(org):
    with pytest.raises(InvalidInput) as caught:
        set_level(WUHAN, "high", since=5, stays_since=2)
    assert "420100" in caught.value.detail
    assert not RiskArea.objects.exists()


def test_saving_the_same_level_again_makes_no_empty_version(org):
    first = set_level(WUHAN, "high", since=3)
    again = set_level(WUHAN, "high", since=0)
    assert first.batch is not None and again.batch is None and again.changed == []
    assert RiskAreaBatch.objects.count() == 1 and RiskArea.objects.count() == 1


def test_the_last_day_is_cut_at_the_end_of_the_window_and_stays_up_to_today_count(org):
    trip(org.person_a, JIANGAN, 3, -2)  # still there, leaving in two days
    with captured_exposures() as sent:
        set_level(HUBEI, "medium", since=10)
    assert [(e.level, e.division_code, e.last_day) for e in sent] == [
        ("medium", HUBEI, days_ago(0))
    ]


def test_only_a_raise_to_medium_or_high_sends_and_history_is_kept(org):
    trip(org.person_a, JIANGAN, 6, 4)
    with captured_exposures() as sent:
        set_level(WUHAN, "low", since=10)
        assert sent == []
        set_level(WUHAN, "medium", since=9)
        assert [e.level for e in sent] == ["medium"]
        set_level(WUHAN, "medium", since=8)  # unchanged: no new row, nothing sent
        set_level(WUHAN, "low", since=7)  # lowered: nothing sent
        assert len(sent) == 1
        set_level(WUHAN, "high", since=6)
        assert [e.level for e in sent] == ["medium", "high"]
    rows = list(RiskArea.objects.filter(division_id=WUHAN).order_by("effective_from"))
    assert [r.level for r in rows] == ["low", "medium", "low", "high"]
    assert [r.effective_to for r in rows] == [days_ago(9), days_ago(7), days_ago(6), None]


def test_an_itinerary_in_two_raised_areas_is_reported_once_at_the_highest_level(org):
    from fangkong.core.models import Division
    from fangkong.travel.services import AreaChange, risk_areas_apply

    trip(org.person_a, JIANGAN, 6, 4)
    with captured_exposures() as sent:
        risk_areas_apply(
            actor=None,
            changes=[
                AreaChange(Division.objects.get(code=HUBEI), "medium", days_ago(10)),
                AreaChange(Division.objects.get(code=JIANGAN), "high", days_ago(10)),
            ],
        )
    assert [(e.division_code, e.level) for e in sent] == [(JIANGAN, "high")]


def test_inactive_people_are_not_reported(org):
    gone = person_create(actor=None, unit=org.shop_a, name="王五", id_number=valid_resident_id(77))
    trip(gone, JIANGAN, 6, 4)
    gone.is_active = False
    gone.save()
    with captured_exposures() as sent:
        set_level(WUHAN, "high", since=10)
    assert sent == []


def test_a_future_effective_date_is_refused(org):
    with pytest.raises(InvalidInput):
        set_level(WUHAN, "high", since=-1)


def test_only_outbreak_admins_change_the_list(org):
    with pytest.raises(PermissionDenied):
        set_level(WUHAN, "high", actor=org.user("unit_admin", org.ent_a))
    set_level(WUHAN, "high", actor=org.user("group_admin", org.group))
    assert RiskArea.objects.filter(division_id=WUHAN, level="high").exists()
