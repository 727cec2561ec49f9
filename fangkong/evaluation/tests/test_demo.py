"""The demo's service centre: windows, staff with badges, 30 services, a month of ratings
and a bad review at every stage, built quickly; the demo accounts find their work."""

import time

import pytest

from fangkong.accounts.models import User
from fangkong.evaluation.demo import demo_follow_up_path, seed_evaluation
from fangkong.evaluation.ledger_kind import (
    APPEALED,
    AWAITING_REVIEW,
    CALLBACK_PENDING,
    CLOSED,
    HANDLING,
    RECTIFYING,
)
from fangkong.evaluation.models import Badge, BadReview, Rating, Service, Staff, Window
from fangkong.orgs.demo import seed
from fangkong.testing import travel

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _wednesday_afternoon():
    """The month of ratings and the bad reviews' ages are counted back from 16:00 on
    Wednesday 18 November 2026."""
    with travel("2026-11-18", "16:00"):
        yield


def test_the_demo_centre_has_a_month_of_ratings_and_bad_reviews_at_every_stage(client):
    seed("small")
    started = time.monotonic()
    made = seed_evaluation()
    took = time.monotonic() - started
    assert Service.objects.count() == 30
    assert Window.objects.count() == 6 + 11 * 2
    assert Staff.objects.count() == Window.objects.count()
    assert Badge.objects.filter(channel="account").count() == 12
    assert made["ratings"] == Rating.objects.count() > 300
    states = set(BadReview.objects.values_list("item__state", flat=True))
    assert {CALLBACK_PENDING, HANDLING, RECTIFYING, APPEALED, AWAITING_REVIEW, CLOSED} <= states
    assert BadReview.objects.filter(problem__isnull=False).exists()
    assert BadReview.objects.filter(follow_up_at__isnull=False, item__state=CLOSED).exists()
    assert Rating.objects.filter(excluded=True).count() == 1
    assert demo_follow_up_path().startswith("/e/")
    assert took < 20, took
    # The accounts of the walk-through find their pages.
    client.force_login(User.objects.get(username="service_head"))
    assert client.get("/evaluation/reviews/").context["page_obj"].paginator.count == 10
    client.force_login(User.objects.get(username="window_staff"))
    assert client.get("/evaluation/reviews/mine/").status_code == 200
    mine = Staff.objects.get(user__username="window_staff")
    assert mine.window.unit.code == "ZBSC"
    assert User.objects.get(username="window_staff").display_name == f"{mine.name}（{mine.window}）"
    # The centre's figures by unit list its stations (and the centre itself), no empty
    # window units beside them: windows are the evaluation's own, grouped by "window".
    client.force_login(User.objects.get(username="service_head"))
    figures = client.get("/evaluation/figures/?group=unit").content.decode()
    assert "综合窗口1" not in figures and "便民服务站" in figures
