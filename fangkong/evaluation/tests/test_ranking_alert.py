"""The ranking alert: a window at the bottom two months running is told to the centre's
head and supervisors on the 1st, once; one bottom month is not enough."""

import pytest

from fangkong.evaluation import ranking, services, tasks
from fangkong.evaluation.models import Level, RankingAlert
from fangkong.notify.models import Event, InboxItem

from .helpers import at, build_centre, travel

pytestmark = pytest.mark.django_db


def _rate(c, window, level, day):
    case = services.case_register(actor=c.head, service=c.social, window=window, now=at(day))
    services.rate(case=case, new=services.NewRating(level=level), now=at(day))


def _alerts():
    return InboxItem.objects.filter(notification__event=Event.RANKING_ALERT)


def test_two_bottom_months_alert_the_head_and_supervisors_once(org):
    c = build_centre(org)
    good = services.window_create(actor=c.head, unit=c.station, number="4", name="社保窗口")
    for day in ("2026-07-10", "2026-08-10"):
        _rate(c, good, Level.VERY_SATISFIED, day)
        _rate(c, c.window, Level.DISSATISFIED, day)  # window 3 last, July and August
    assert ranking.monthly_ranking_alerts(now=at("2026-09-02")) == 0  # only on the 1st
    assert ranking.monthly_ranking_alerts(now=at("2026-09-01", "00:20")) == 1
    assert ranking.monthly_ranking_alerts(now=at("2026-09-01", "08:00")) == 0  # recorded
    alert = RankingAlert.objects.get()
    assert alert.window == c.window and alert.month.isoformat() == "2026-08-01"
    assert {row.user for row in _alerts()} == {c.head, c.supervisor}
    notification = _alerts().first().notification
    assert "3 综合窗口" in notification.subject and "2026-08" in notification.body
    assert "/evaluation/figures/" in notification.link and "group=window" in notification.link


def test_one_bottom_month_is_not_enough(org):
    c = build_centre(org)
    other = services.window_create(actor=c.head, unit=c.station, number="4", name="社保窗口")
    _rate(c, other, Level.DISSATISFIED, "2026-07-10")  # July: the other window last
    _rate(c, c.window, Level.VERY_SATISFIED, "2026-07-10")
    _rate(c, other, Level.VERY_SATISFIED, "2026-08-10")  # August: window 3 last
    _rate(c, c.window, Level.DISSATISFIED, "2026-08-10")
    assert ranking.monthly_ranking_alerts(now=at("2026-09-01", "00:20")) == 0
    assert not _alerts().exists()


def test_the_daily_job_does_reports_and_alerts_on_the_first_only(org):
    build_centre(org)
    with travel("2026-08-31", "23:50"):
        assert tasks.monthly_publication() == {"reports": 0, "alerts": 0}
    with travel("2026-09-01", "00:20"):  # still 31 August in UTC
        assert tasks.monthly_publication() == {"reports": 2, "alerts": 0}  # centre, station
    with travel("2026-09-01", "08:00"):
        assert tasks.monthly_publication() == {"reports": 0, "alerts": 0}  # made already
