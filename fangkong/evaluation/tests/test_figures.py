"""The figures: equal to a recount over a mixed month (an excluded rating, a late callback,
an on-time fix), grouped by unit, window, staff and service, the coverage grid and the
rankings."""

import datetime as dt

import pytest

from fangkong.evaluation import services
from fangkong.evaluation.figures import (
    Period,
    Scope,
    bottom,
    coverage,
    figures_by,
    figures_of,
    ranked,
    rows_by,
)
from fangkong.evaluation.models import BadReview, Case, Level, Offering, Rating, Service

from .helpers import at, build_centre, rated, travel

pytestmark = pytest.mark.django_db

JUNE = Period(dt.date(2026, 6, 1), dt.date(2026, 6, 30))


def _month(c):
    """June 2026 at the station's window: 5, 5, 4, 3 and three bad reviews — one called
    back in time and fixed at once (then rated 5 again), one called back late and
    explained, one appealed and upheld (it leaves the figures) — plus a case not rated and
    a rating at the centre's own desk; one rating in May and one in July stay outside."""
    for level, day in [(5, "01"), (5, "02"), (4, "03"), (3, "04")]:
        rated(c, level, when=f"2026-06-{day}")
    fixed = BadReview.objects.get(rating=rated(c, Level.VERY_DISSATISFIED, when="2026-06-10"))
    with travel("2026-06-10", "15:30"):  # a callback is written down after it, never before
        services.callback_record(
            actor=c.head,
            bad_review=fixed,
            how="phone",
            reached=True,
            said="等太久",
            at=at("2026-06-10", "15:00"),
        )
    services.outcome_set(
        actor=c.head,
        bad_review=fixed,
        outcome="fixed",
        text="加开窗口",
        reply="已加开窗口",
        now=at("2026-06-11"),
    )
    services.follow_up_review(bad_review=fixed, level=Level.VERY_SATISFIED, now=at("2026-06-12"))
    late = BadReview.objects.get(rating=rated(c, Level.DISSATISFIED, when="2026-06-15"))
    with travel("2026-06-17", "09:30"):
        services.callback_record(
            actor=c.head,
            bad_review=late,
            how="visit",
            reached=True,
            said="材料没说清",
            at=at("2026-06-17"),
        )
    services.outcome_set(
        actor=c.head, bad_review=late, outcome="explained", text="按规定办理", now=at("2026-06-17")
    )
    appealed = BadReview.objects.get(rating=rated(c, Level.VERY_DISSATISFIED, when="2026-06-20"))
    with travel("2026-06-20", "11:30"):
        services.callback_record(
            actor=c.head,
            bad_review=appealed,
            how="phone",
            reached=True,
            said="点错了",
            at=at("2026-06-20", "11:00"),
        )
    services.outcome_set(
        actor=c.head, bad_review=appealed, outcome="appeal", text="误评", now=at("2026-06-20")
    )
    services.appeal_decide(
        actor=c.supervisor,
        bad_review=appealed,
        upheld=True,
        note="核实为误评",
        now=at("2026-06-21"),
    )
    services.case_register(actor=c.clerk, service=c.social, now=at("2026-06-22"))
    desk = services.case_register(
        actor=c.head, service=c.social, unit=c.centre, now=at("2026-06-23")
    )
    services.rate(case=desk, new=services.NewRating(level=4), now=at("2026-06-23"))
    rated(c, Level.VERY_DISSATISFIED, when="2026-05-31", hhmm="23:59")
    rated(c, Level.VERY_SATISFIED, when="2026-07-01", hhmm="00:00")
    return fixed, late, appealed


def _recount(path: str) -> dict:
    """The figures counted the slow way, one row at a time."""
    since, until = JUNE.since, JUNE.until
    ratings = [
        r
        for r in Rating.objects.all()
        if r.unit_path.startswith(path) and since <= r.rated_at < until
    ]
    counted = [r for r in ratings if not r.excluded]
    cases = [
        case
        for case in Case.objects.all()
        if case.unit_path.startswith(path)
        and since <= case.created_at < until
        and not (hasattr(case, "rating") and case.rating.excluded)
    ]
    bad = [b for b in BadReview.objects.all() if b.rating in counted]
    return {
        "ratings": len(counted),
        "levels": {level: sum(r.level == level for r in counted) for level in (5, 4, 3, 2, 1)},
        "cases": len(cases),
        "bad": len(bad),
        "called": sum(b.callbacks.exists() for b in bad),
        "called_on_time": sum(b.callbacks.filter(at__lte=b.callback_due_at).exists() for b in bad),
        "needing_fix": sum(b.outcome in ("fixed", "rectify") for b in bad),
        "fixed_on_time": sum(
            b.outcome in ("fixed", "rectify")
            and b.rectified_at is not None
            and b.rectified_at <= b.rectify_due_at
            for b in bad
        ),
        "follow_ups": sum(b.follow_up_level is not None for b in bad),
        "appeals_upheld": sum(r.excluded for r in ratings),
    }


def test_the_centres_figures_equal_a_recount(org):
    c = build_centre(org)
    _month(c)
    f = figures_of(Scope(c.centre.path), JUNE)
    expected = _recount(c.centre.path)
    assert {key: getattr(f, key) for key in expected} == expected
    # What the page shows: 8 ratings (the appealed one left), 3 + 2 good.
    assert f.ratings == 7 and f.levels == {5: 2, 4: 2, 3: 1, 2: 1, 1: 1}
    assert f.good_rate == round(100 * 4 / 7, 1) and f.bad_rate == round(100 * 2 / 7, 1)
    assert f.cases == 8 and f.rated_rate == round(100 * 7 / 8, 1)
    assert (f.bad, f.called, f.called_on_time) == (2, 2, 1)  # the explained one was late
    assert (f.needing_fix, f.fixed, f.fixed_on_time) == (1, 1, 1)
    assert f.follow_ups == 1 and f.follow_up_rate == 100.0
    assert f.appeals_upheld == 1


def test_grouped_figures_add_up_and_match_each_ones_recount(org):
    c = build_centre(org)
    _month(c)
    by_unit = figures_by(Scope(c.centre.path), JUNE, "unit")
    assert set(by_unit) == {c.centre.path, c.station.path}
    assert by_unit[c.centre.path].ratings == 1 and by_unit[c.station.path].ratings == 6
    station = _recount(c.station.path)
    assert by_unit[c.station.path].cases == station["cases"]
    assert by_unit[c.station.path].levels == station["levels"]
    by_staff = figures_by(Scope(c.centre.path), JUNE, "staff")
    assert by_staff[c.staff.pk].ratings == 6 and by_staff[None].ratings == 1
    by_service = figures_by(Scope(c.centre.path), JUNE, "service")
    assert by_service[c.social.pk].ratings == 7
    one = figures_of(Scope(c.centre.path, staff_id=c.staff.pk), JUNE)
    assert one.ratings == 6 and one.bad == 2


def test_an_upheld_appeal_leaves_every_figure_and_stays_in_history(org):
    c = build_centre(org)
    _fixed, _late, appealed = _month(c)
    assert Rating.objects.filter(pk=appealed.rating_id, excluded=True).exists()
    rows = rows_by(Scope(c.centre.path), JUNE, "window")
    assert [row.figures.ratings for row in rows if row.key == c.window.pk] == [6]
    assert coverage(c.centre, JUNE).rated == {
        (c.social.pk, c.centre.pk),
        (c.social.pk, c.station.pk),
    }


def test_the_coverage_grid_offers_the_centres_services_at_every_station(org):
    c = build_centre(org)
    tax = Service.objects.create(code="SW01", name="税务登记", category="税务")
    Offering.objects.create(service=tax, unit=c.station, unit_path=c.station.path)
    rated(c, Level.SATISFIED, when="2026-06-05")
    cover = coverage(c.centre, JUNE)
    assert [u.name for u in cover.units] == [c.centre.name, c.station.name]
    # social at the centre (and so at the station); housing and tax at the station only
    assert cover.offered_count == 4 and cover.covered_count == 1 and cover.rate == 25.0
    grid = {service.name: cells for service, cells in cover.grid()}
    assert grid["社保参保登记"] == ["gap", "covered"]
    assert grid["不动产登记"] == ["", "gap"] and grid["税务登记"] == ["", "gap"]
    station = coverage(c.station, JUNE)
    assert station.offered_count == 3 and station.covered_count == 1


def test_rankings_put_the_higher_good_rate_first_then_fewer_bad(org):
    c = build_centre(org)
    second = services.window_create(actor=c.head, unit=c.station, number="4", name="社保窗口")
    third = services.window_create(actor=c.head, unit=c.centre, number="1", name="咨询")

    def at_window(window, level, day):
        case = services.case_register(actor=c.head, service=c.social, window=window, now=at(day))
        services.rate(case=case, new=services.NewRating(level=level), now=at(day))

    for level in (5, 5, 3):  # 66.7 %, no bad
        at_window(second, level, "2026-06-03")
    for level in (5, 5, 1):  # 66.7 %, one bad
        at_window(c.window, level, "2026-06-04")
    for level in (5, 2):  # 50 %
        at_window(third, level, "2026-06-05")
    order = ranked(rows_by(Scope(c.centre.path), JUNE, "window"))
    assert [row.key for row in order] == [second.pk, c.window.pk, third.pk]
    assert [row.rank for row in order] == [1, 2, 3]
    assert [row.key for row in bottom(order)] == [third.pk]
