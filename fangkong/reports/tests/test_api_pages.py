"""The reports API and pages: same figures as the selectors, scope, idempotent attesting."""

import datetime as dt
import uuid

import openpyxl
import pytest
from django.utils import timezone

from fangkong.reports import selectors
from fangkong.reports.models import UnitReport

from .conftest import declare

pytestmark = pytest.mark.django_db


def test_rollup_api_returns_the_selector_figures(client, org, login_as, today):
    declare(org.person_a, temperature="38.0")
    declare(org.person_b)
    user = login_as("viewer", org.group)
    body = client.get(f"/api/v1/rollup?unit={org.group.pk}&day={today}").json()
    expected = selectors.rollup(user=user, unit=org.group, day=today)
    assert body["unit"]["declared"] == 2 and body["unit"]["fever"] == 1
    assert body["unit"]["expected"] == expected.total.figures.expected
    assert body["unit"]["reports"] == expected.total.reports.as_dict()
    assert [c["code"] for c in body["children"]] == ["A", "B"]
    assert body["children"][0]["abnormal"] == 1 and body["children"][0]["completeness"] == 100.0
    trend = client.get(f"/api/v1/rollup/trend?unit={org.group.pk}&days=7").json()
    assert len(trend) == 7 and trend[-1]["declared"] == 2


def test_rollup_api_outside_the_scope_is_404(client, org, login_as):
    login_as("viewer", org.ent_a)
    response = client.get(f"/api/v1/rollup?unit={org.ent_b.pk}")
    assert response.status_code == 404 and response.json()["code"] == "not_found"
    assert client.get("/api/v1/rollup").json()["unit"]["code"] == "A"  # defaults to the scope


def test_attesting_through_the_api_is_idempotent_on_the_uuid(client, org, login_as, today):
    login_as("reporter", org.ent_a)
    key = str(uuid.uuid4())
    payload = {"unit_id": org.plant_a.pk, "zero": True, "uuid": key}
    first = client.post("/api/v1/reports", payload, content_type="application/json")
    again = client.post("/api/v1/reports", payload, content_type="application/json")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"] and first.json()["is_zero"]
    assert UnitReport.objects.count() == 1
    board = client.get(f"/api/v1/reports?unit={org.ent_a.pk}&day={today}").json()["items"]
    states = {row["code"]: (row["report"] or {}).get("is_zero") for row in board}
    assert states == {"A": None, "A1": True}


def test_a_refused_zero_report_answers_422_with_the_reason(client, org, login_as):
    declare(org.person_a, symptoms=["cough"])
    login_as("reporter", org.ent_a)
    response = client.post(
        "/api/v1/reports",
        {"unit_id": org.plant_a.pk, "zero": True},
        content_type="application/json",
    )
    assert response.status_code == 422 and "zero" in response.json()["detail"]
    assert not UnitReport.objects.exists()


def test_the_reporter_page_offers_the_zero_report_and_records_it(client, org, login_as, today):
    login_as("reporter", org.plant_a)  # one reporting unit: the page opens on it
    page = client.get("/reports/today/", follow=True)
    assert (
        "Zero report (nothing abnormal)" in page.content.decode()
        or "零报告" in page.content.decode()
    )
    form = page.context["client_uuid"]
    response = client.post(
        "/reports/attest/",
        {"unit": org.plant_a.pk, "day": today.isoformat(), "zero": "1", "client_uuid": form},
        follow=True,
    )
    assert response.status_code == 200
    report = UnitReport.objects.get()
    assert report.is_zero and report.attested_by.username == "reporter-a1"


def test_with_abnormal_cases_the_page_offers_attest_only(client, org, login_as, today):
    declare(org.person_a, temperature="37.8")
    login_as("reporter", org.plant_a)
    page = client.get(f"/reports/today/?unit={org.plant_a.pk}")
    assert page.status_code == 200
    assert b'name="zero" value="1"' not in page.content
    assert b'name="zero" value="0"' in page.content


def test_board_filters_and_exports(client, org, login_as, today):
    login_as("unit_admin", org.group)
    client.post(
        "/api/v1/reports",
        {"unit_id": org.plant_a.pk, "zero": True},
        content_type="application/json",
    )
    page = client.get(f"/reports/?day={today}&state=zero")
    assert [row["unit"].code for row in page.context["rows"]] == ["A1"]
    missing = client.get(f"/reports/?day={today}&state=missing")
    assert {row["unit"].code for row in missing.context["rows"]} == {"A", "B", "B1", "C"}
    export = client.get(f"/reports/export/?day={today}&format=xlsx")
    sheet = openpyxl.load_workbook(__import__("io").BytesIO(export.content)).active
    assert sheet.max_row == 6  # header + five reporting units


def test_rollup_page_shows_breadcrumbs_children_chart_and_exports(client, org, login_as):
    declare(org.person_a, temperature="38.6")
    login_as("viewer", org.group)
    page = client.get(f"/reports/rollup/?unit={org.ent_a.pk}")
    html = page.content.decode()
    assert page.status_code == 200
    assert "vendor/echarts.min.js" in html and 'id="trend-data"' in html
    assert [c.code for c in page.context["breadcrumbs"]] == ["G", "A"]
    assert page.context["data"].total.figures.fever == 1
    export = client.get(f"/reports/rollup/?unit={org.ent_a.pk}&format=csv")
    assert export["Content-Type"].startswith("text/csv")
    assert "A1" in export.content.decode("utf-8-sig")


def test_rollup_page_counts_the_open_abnormal_cards_today_only(client, org, login_as, today):
    declare(org.person_a, temperature="38.6")
    login_as("viewer", org.group)
    page = client.get(f"/reports/rollup/?unit={org.group.pk}")
    assert page.context["cards"]["total"]["open"] == 1
    assert 'id="total-cards"' in page.content.decode()
    [ent_a] = [row for row in page.context["data"].children if row.unit.code == "A"]
    assert ent_a.unit.cards["open"] == 1
    yesterday = today - dt.timedelta(days=1)
    assert (
        client.get(f"/reports/rollup/?unit={org.group.pk}&day={yesterday}").context["cards"] is None
    )


def test_rollup_page_outside_the_scope_is_404(client, org, login_as):
    login_as("viewer", org.ent_a)
    assert client.get(f"/reports/rollup/?unit={org.ent_b.pk}").status_code == 404
    assert client.get("/reports/rollup/").context["unit"] == org.ent_a


def test_guards_see_no_roll_up(client, org, login_as):
    login_as("guard", org.ent_a)
    assert client.get("/reports/rollup/").status_code in (403, 404)
    assert client.get("/reports/").status_code == 403


def test_the_deadline_sweep_is_a_periodic_job(db):
    from fangkong.core.schedules import PERIODIC_JOBS

    assert ("fangkong.reports.tasks.deadline_sweep", 5) in PERIODIC_JOBS
    assert timezone.now()  # the task passes the real clock; tests pass their own


def test_a_unit_with_nobody_expected_shows_no_rate(client, org, login_as):
    """0 declared of 0 expected is no percentage: the page shows "—", never "0.0%"."""
    from fangkong.orgs.services import unit_create

    empty = unit_create(
        actor=None, code="EMPTY", name="空车间", kind="workshop", parent=org.plant_a
    )
    login_as("group_admin", org.group)
    page = client.get(f"/reports/rollup/?unit={empty.pk}").content.decode()
    totals = page.split('id="totals"')[1].split("</section>")[0]
    assert "—" in totals and "0.0%" not in totals


@pytest.mark.parametrize("day", ["0", "3.5954422946565456e-151", "20261129", "2026-1-5"])
def test_a_day_that_is_not_yyyy_mm_dd_is_refused_not_read_as_a_unix_time(
    client, org, login_as, day
):
    # pydantic reads a number as a Unix time: "0" would have been 1970-01-01.
    login_as("viewer", org.group)
    response = client.get(f"/api/v1/reports?day={day}")
    assert response.status_code == 422
    assert "YYYY-MM-DD" in response.content.decode()
    assert client.get(f"/api/v1/reports?day={timezone.localdate()}").status_code == 200
