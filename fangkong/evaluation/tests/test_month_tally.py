"""The month tallies stay exact through every write, so the figures of whole months (read
from them) equal a recount of the rows."""

import pytest

from fangkong.evaluation import services, tally
from fangkong.evaluation.figures import Period, Scope, figures_of
from fangkong.evaluation.models import BadReview, Case, Level, MonthTally, Outcome, Rating

from .helpers import build_centre, rated, travel

pytestmark = pytest.mark.django_db

FIELDS = ("cases", "cases_excluded", "ratings", "upheld", "l1", "l2", "l3", "l4", "l5")


def _tallies() -> dict:
    return {
        (t.month, t.unit_path, t.window_id, t.staff_id, t.service_id): tuple(
            getattr(t, f) for f in FIELDS
        )
        for t in MonthTally.objects.all()
    }


def _bad_review_facts() -> list:
    """What each bad review copies from its rating and callbacks, in order."""
    fields = ("rated_at", "unit_path", "window_id", "staff_id", "service_id", "counted")
    return list(BadReview.objects.order_by("pk").values_list(*fields, "first_callback_at"))


def test_the_tallies_equal_a_recount_and_the_figures_of_whole_months_match_the_rows(org):
    import datetime as dt

    c = build_centre(org)
    for day, level in (
        ("2026-04-30", Level.VERY_SATISFIED),  # the last day of April, Shanghai time
        ("2026-05-01", Level.SATISFIED),
        ("2026-05-15", Level.DISSATISFIED),
        ("2026-06-02", Level.VERY_DISSATISFIED),
        ("2026-06-20", Level.BASICALLY),
    ):
        rated(c, level, when=day, hhmm="23:30")
    with travel("2026-06-21"):
        services.case_register(actor=c.clerk, service=c.social)  # a case never rated
    appealed = BadReview.objects.get(rating__rated_at__date="2026-05-15")
    with travel("2026-05-16"):
        services.callback_record(
            actor=c.head, bad_review=appealed, how="phone", reached=True, said="点错了"
        )
        services.outcome_set(
            actor=c.head, bad_review=appealed, outcome=Outcome.APPEAL, text="误操作"
        )
        services.appeal_decide(actor=c.supervisor, bad_review=appealed, upheld=True, note="误评")

    kept = _tallies()
    facts = _bad_review_facts()
    tally.rebuild()
    assert _tallies() == kept  # what the writes kept is what a recount finds
    assert _bad_review_facts() == facts  # and the copies on the bad reviews

    # April 30 to June 30: April 30 from the rows, May and June from the tallies.
    figures = figures_of(Scope(c.centre.path), Period(dt.date(2026, 4, 30), dt.date(2026, 6, 30)))
    counted = Rating.objects.filter(excluded=False)
    assert figures.ratings == counted.count() == 4
    assert figures.appeals_upheld == 1
    assert figures.levels == {v: counted.filter(level=v).count() for v in (5, 4, 3, 2, 1)}
    assert figures.cases == Case.objects.count() - 1 == 5  # less the excluded rating's case
    # Bad reviews: the appealed one is out; the other is counted, not yet called back.
    assert figures.bad == BadReview.objects.filter(rating__excluded=False).count() == 1
    assert figures.called == 0
    # May alone (a whole month) and a stretch inside June (rows only) agree with the rows.
    may = figures_of(Scope(c.centre.path), Period(dt.date(2026, 5, 1), dt.date(2026, 5, 31)))
    assert may.ratings == 1 and may.appeals_upheld == 1 and may.levels[4] == 1
    june = figures_of(Scope(c.centre.path), Period(dt.date(2026, 6, 2), dt.date(2026, 6, 21)))
    assert june.ratings == 2 and june.cases == 3
