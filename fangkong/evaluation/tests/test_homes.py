"""The homes of window staff, the service-centre head and the supervisor: each count is the
row count of the list it links to. The pages are read at 00:10 on 1 December, when "today"
and "this month" are ten minutes old and a review three days back belongs to November."""

import datetime as dt
import re

import pytest

from fangkong.evaluation import services
from fangkong.evaluation.models import BadReview, Level, Offering
from fangkong.ledger.services.sweep import overdue_sweep

from .helpers import at, build_centre, travel

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _first_of_the_month():
    with travel("2026-12-01", "00:10"):
        yield


def rate_at(c, level, when):
    case = services.case_register(actor=c.clerk, service=c.social, now=when)
    return services.rate(case=case, new=services.NewRating(level=level), now=when)


def counts(client, section: str) -> list[tuple[str, int]]:
    html = client.get("/").content.decode()
    block = html.split(f'id="home-{section}"', 1)[1].split("</section>", 1)[0]
    found = re.findall(r'class="count[^"]*" href="([^"]+)" data-count="(\d+)"', block)
    return [(url.replace("&amp;", "&"), int(n)) for url, n in found]


def list_rows(client, url: str) -> int:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.context["page_obj"].paginator.count


def seed_reviews(c):
    """Two ratings ten minutes ago (one very bad), and a bad review of 28 November, called
    back and appealed."""
    now = at("2026-12-01", "00:00")
    rate_at(c, Level.VERY_DISSATISFIED, now)
    rate_at(c, Level.VERY_SATISFIED, now)
    late = rate_at(c, Level.DISSATISFIED, now - dt.timedelta(days=3))
    bad = BadReview.objects.get(rating=late)
    services.callback_record(actor=c.head, bad_review=bad, how="phone", reached=True, said="好")
    services.outcome_set(actor=c.head, bad_review=bad, outcome="appeal", text="误评")
    overdue_sweep()


def test_the_heads_counts_are_the_rows_of_their_lists(client, org):
    c = build_centre(org)
    Offering.objects.create(service=c.housing, unit=c.centre, unit_path=c.centre.path)
    seed_reviews(c)
    client.force_login(c.head)
    found = counts(client, "service_head")
    assert len(found) == 4
    for url, n in found:
        assert list_rows(client, url) == n, url
    # Today's bad review, the one waiting for its callback, none rectifying, and the three
    # offerings not rated this month (only the social service at the station was).
    assert [n for _url, n in found] == [1, 1, 0, 3]
    assert found[0][0] == "/evaluation/reviews/?from=2026-12-01"
    html = client.get("/").content.decode()
    assert "/evaluation/reviews/" in html and "社保参保登记" in html


def test_the_supervisors_counts_are_the_rows_of_their_lists(client, org):
    c = build_centre(org)
    seed_reviews(c)
    client.force_login(c.supervisor)
    found = counts(client, "supervisor")
    assert len(found) == 2
    for url, n in found:
        assert list_rows(client, url) == n, url
    # Nothing overdue (November's callback came late but came), and the appeal.
    assert [n for _url, n in found] == [0, 1]


def test_window_staff_see_their_month_and_open_bad_reviews(client, org):
    c = build_centre(org)
    seed_reviews(c)
    client.force_login(c.clerk)
    found = counts(client, "window")
    assert len(found) == 2
    for url, n in found:
        assert list_rows(client, url) == n, url
    # This month: the two ratings of today, not November's; open: today's bad review and
    # November's appealed one.
    assert [n for _url, n in found] == [2, 2]
