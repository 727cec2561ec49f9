"""The daily-report board names who attested each report (操作人), the demo's reports too."""

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from fangkong.reports import services
from fangkong.reports.demo import seed_reports
from fangkong.reports.models import UnitReport
from fangkong.reports.plans import local_moment

pytestmark = pytest.mark.django_db


def board_row(page: str, code: str) -> str:
    start = page.index(f'<span class="muted">{code}</span>')
    return page[start : page.index("</tr>", start)]


def test_the_board_names_the_user_who_attested(client, org, login_as):
    reporter = org.user("reporter", org.plant_a)
    reporter.display_name = "电解铝厂填报员"
    reporter.save()
    today = timezone.localdate()
    services.report_attest(
        actor=reporter, unit=org.plant_a, day=today, now=local_moment(today, dt.time(9))
    )
    login_as("group_admin", org.group)
    page = client.get(f"/reports/?day={today}").content.decode()
    assert "电解铝厂填报员" in board_row(page, org.plant_a.code)


def test_demo_reports_are_attested_by_the_nearest_attester(client, org, login_as):
    reporter = org.user("reporter", org.plant_a)
    reporter.display_name = "电解铝厂填报员"
    reporter.save()
    org.user("unit_admin", org.ent_b).display_name = "B防控办"
    org.user("unit_admin", org.ent_b).save()
    # Late in the evening every unit of the story has attested today's report.
    today = timezone.localdate()
    with time_machine.travel(local_moment(today, dt.time(23, 30)), tick=False):
        seed_reports(days=1, sweep=False)
    reports = {r.unit.code: r for r in UnitReport.objects.filter(day=today)}
    assert reports[org.plant_a.code].attested_by == reporter
    assert reports[org.ent_b.code].attested_by.display_name == "B防控办"
    login_as("group_admin", org.group)
    page = client.get(f"/reports/?day={today}").content.decode()
    assert "电解铝厂填报员" in board_row(page, org.plant_a.code)
    assert "B防控办" in board_row(page, org.ent_b.code)
