"""The published page (信息公开) and the monthly report: the figures without personal
data, cached under a flood, and the PDF made once on the 1st for the month before."""

import datetime as dt
import io

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from pypdf import PdfReader

from fangkong.evaluation import report, services
from fangkong.evaluation.figures import month_period
from fangkong.evaluation.models import BadReview, Level, MonthlyReport
from fangkong.orgs.models import Person

from .helpers import at, build_centre, rated, travel

pytestmark = pytest.mark.django_db

NAME, PHONE, ID_NUMBER = "李建国", "13912345678", "370302199001011234"


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()


@pytest.fixture
def in_october():
    """The public page is read at 10:00 on 12 October 2026, about September (the org is
    made then too: request this before ``org``)."""
    with travel("2026-10-12", "10:00"):
        yield


@pytest.fixture
def in_september():
    """The August report is looked at on 2 September; the job's instants are given."""
    with travel("2026-09-02", "09:00"):
        yield


LAST_MONTH_DAY = "2026-09-03"


def _rich(c, day):
    """Cases with a person's name and phone, a comment holding a phone and an ID number,
    a callback naming the person, a public reply."""
    for level in (5, 4, 4):
        rated(c, level, when=day)
    case = services.case_register(
        actor=c.clerk, service=c.social, person_name=NAME, person_phone=PHONE, now=at(day)
    )
    rating = services.rate(
        case=case,
        new=services.NewRating(
            level=Level.VERY_DISSATISFIED,
            tags=["态度不好"],
            text=f"我是{NAME}，电话{PHONE}，身份证{ID_NUMBER}",
        ),
        now=at(day),
    )
    bad = BadReview.objects.get(rating=rating)
    services.callback_record(
        actor=c.head,
        bad_review=bad,
        how="phone",
        reached=True,
        said=f"{NAME}说等太久",
        at=at(day, "11:00"),
    )
    services.outcome_set(
        actor=c.head,
        bad_review=bad,
        outcome="fixed",
        text="加开窗口",
        reply="已增设综合窗口，缩短等候时间",
        now=at(day, "12:00"),
    )
    return bad


def _page(client, c, month):
    return client.get(f"/e/p/{c.centre.code}/?month={month}")


def test_the_public_page_shows_the_figures_and_no_personal_data(in_october, client, org):
    c = build_centre(org)
    day = LAST_MONTH_DAY
    _rich(c, day)
    response = _page(client, c, day[:7])
    assert response.status_code == 200
    html = response.content.decode()
    assert c.centre.name in html and "已增设综合窗口，缩短等候时间" in html
    assert 'id="ratings">4<' in html and 'id="good-rate">75.0%<' in html
    assert "王*红" in html  # the staff member, masked
    forbidden = [NAME, PHONE, ID_NUMBER, c.staff.name, "等太久"]
    forbidden += list(Person.objects.values_list("id_number", flat=True))
    forbidden += [p for p in Person.objects.values_list("phone", flat=True) if p]
    forbidden += list(Person.objects.values_list("name", flat=True))
    assert [text for text in forbidden if text and text in html] == []
    # the station's page has its own figures
    assert client.get(f"/e/p/{c.station.code}/?month={day[:7]}").status_code == 200


def test_an_unknown_unit_or_a_bad_month_is_a_clear_error(client, org):
    c = build_centre(org)
    assert client.get("/e/p/NOPE/").status_code == 404
    assert client.get(f"/e/p/{org.ent_a.code}/").status_code == 404  # not a service unit
    bad = client.get(f"/e/p/{c.centre.code}/?month=2026-13")
    assert bad.status_code == 422 and "2026-09" in bad.content.decode()


def test_two_requests_do_one_computation(in_october, client, org):
    c = build_centre(org)
    day = LAST_MONTH_DAY
    rated(c, Level.VERY_SATISFIED, when=day)
    with CaptureQueriesContext(connection) as first:
        assert 'id="ratings">1<' in _page(client, c, day[:7]).content.decode()
    rated(c, Level.VERY_SATISFIED, when=day)  # arrives while the page is cached
    with CaptureQueriesContext(connection) as second:
        assert 'id="ratings">1<' in _page(client, c, day[:7]).content.decode()
    assert len(second) < len(first) and len(second) <= 4  # the unit, the cache, the reports
    cache.clear()  # the short time-to-live ends
    assert 'id="ratings">2<' in _page(client, c, day[:7]).content.decode()


def test_the_monthly_report_is_made_on_the_first_once_and_published(in_september, client, org):
    c = build_centre(org)
    _rich(c, "2026-08-03")
    rated(c, Level.SATISFIED, when="2026-08-31", hhmm="23:00")
    assert report.monthly_reports(now=at("2026-09-02")) == 0  # not the 1st
    assert report.monthly_reports(now=at("2026-09-01", "00:30")) == 2  # centre and station
    assert report.monthly_reports(now=at("2026-09-01", "06:00")) == 0  # made already
    made = MonthlyReport.objects.get(unit=c.centre, month=dt.date(2026, 8, 1))
    assert made.figures["ratings"] == 5
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(bytes(made.pdf))).pages)
    assert c.centre.name in text and "2026-08-01" in text and "2026-08-31" in text
    # the month's counts: 5 ratings, 1 bad review called back and fixed, its public reply
    assert made.figures["bad"] == 1 and made.figures["fixed"] == 1
    compact = "".join(text.split())  # a table cell wraps its lines
    assert " 5 " in text and "已增设综合窗口，缩短等候时间" in compact and "王*红" in compact
    assert NAME not in compact and PHONE not in compact and ID_NUMBER not in compact
    listed = client.get(f"/e/p/{c.centre.code}/?month=2026-08").content.decode()
    assert "/e/p/ZB/report/2026-08.pdf" in listed
    pdf = client.get("/e/p/ZB/report/2026-08.pdf")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert client.get("/e/p/ZB/report/2026-07.pdf").status_code == 404
    assert month_period(dt.date(2026, 8, 15)).end == dt.date(2026, 8, 31)
