"""The homes of window staff, the service-centre head and the supervisor: each count is the
row count of the list it links to, whatever the hour (the suite also runs at 23:50 on the
last day of a month and 00:10 on the first)."""

import datetime as dt
import re

import pytest
from django.utils import timezone

from fangkong.evaluation import services
from fangkong.evaluation.models import BadReview, Level, Offering
from fangkong.ledger.services.sweep import overdue_sweep

from .helpers import build_centre

pytestmark = pytest.mark.django_db


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
    now = timezone.now()
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
    assert found[0][1] == 1  # today's bad review
    assert found[1][1] == 1  # waiting for its callback
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
    assert found[1][1] == 1  # the appeal


def test_window_staff_see_their_month_and_open_bad_reviews(client, org):
    c = build_centre(org)
    seed_reviews(c)
    client.force_login(c.clerk)
    found = counts(client, "window")
    assert len(found) == 2
    for url, n in found:
        assert list_rows(client, url) == n, url
    assert found[1][1] == 2  # the new bad review and the appealed one are open
