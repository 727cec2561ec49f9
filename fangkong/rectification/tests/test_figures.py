"""Figures by unit and period: each number is the row count of the list it links to."""

import datetime as dt
import re

import pytest

from fangkong.orgs.models import UnitKind
from fangkong.orgs.services import unit_create
from fangkong.rectification import services
from fangkong.rectification.models import ColourCount

from . import factories as f
from .helpers import travel

pytestmark = pytest.mark.django_db

FIGURES = "/rectification/figures/"
PERIOD = {"start": "2026-10-19", "end": "2026-11-18"}  # the 30 days up to today


@pytest.fixture(autouse=True)
def _wednesday_morning():
    """The problems are dated back from 10:00 on Wednesday 18 November 2026."""
    with travel("2026-11-18", "10:00"):
        yield


def _ledger(org):
    """Plant A and plant A2 below enterprise A; a problem on enterprise A itself."""
    plant_2 = unit_create(
        actor=None, code="A2", name="氧化铝厂", kind=UnitKind.PLANT, parent=org.ent_a
    )
    f.problem(org, title="新问题", opened_ago=3)
    f.problem(org, title="车间问题", unit=org.shop_a, opened_ago=5, target=698)
    f.problem(org, title="早就发现的", opened_ago=45, due_in=40)  # before the period
    f.overdue(org, title="逾期的", unit=plant_2)
    f.closed(org, f.problem(org, title="按时销号", opened_ago=10), ago=2)
    f.closed(org, f.problem(org, title="逾期销号", opened_ago=12, unit=plant_2), on_time=False)
    saving = f.problem(org, title="公车改革", unit=org.ent_a, opened_ago=6)
    services.saving_record(
        actor=org.user("supervisor", org.ent_a),
        problem=saving,
        label="公车运行费用",
        baseline=100000,
        current=60000,
    )
    return plant_2


def _list_count(client, url: str) -> int:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.context["page_obj"].paginator.count


def test_each_figure_is_the_row_count_of_the_list_it_links_to(client, org, login_as):
    plant_2 = _ledger(org)
    login_as("supervisor", org.ent_a)
    response = client.get(FIGURES, {"unit": "A", **PERIOD})
    assert response.status_code == 200
    total = response.context["total"]
    assert (total.found, total.closed, total.on_time, total.overdue) == (6, 2, 1, 1)
    assert (total.target_done, total.target_total) == (0, 698)
    assert total.saved_percent == 40
    rows = {row.unit.code: (row, links) for row, links in response.context["rows"]}
    assert set(rows) == {"A1", "A2", "A"}  # the children, and enterprise A's own problem
    plant_a = rows["A1"][0]
    assert (plant_a.found, plant_a.closed, plant_a.on_time, plant_a.overdue) == (3, 1, 1, 0)
    second = rows["A2"][0]
    assert (second.found, second.closed, second.on_time, second.overdue) == (2, 1, 0, 1)
    assert rows["A"][0].own and rows["A"][1] == {}  # no list splits the unit's own rows
    for row, links in [rows["A1"], rows["A2"], (total, response.context["total_links"])]:
        for figure in ("found", "closed", "on_time", "overdue"):
            assert _list_count(client, links[figure]) == getattr(row, figure), (row.unit, figure)
    assert _list_count(client, response.context["total_links"]["targets"]) == 1
    assert _list_count(client, response.context["total_links"]["savings"]) == 1
    body = response.content.decode()
    assert re.search(r'data-figure="overdue">1<', body)
    assert plant_2.name in body


def test_the_figures_cost_the_same_queries_however_many_children(
    client, org, login_as, django_assert_max_num_queries
):
    login_as("supervisor", org.ent_a)
    f.problem(org)
    with django_assert_max_num_queries(20) as small:
        assert client.get(FIGURES, {"unit": "A", **PERIOD}).status_code == 200
    for n in range(14):  # more than the ranges of one statement
        child = unit_create(
            actor=None, code=f"AX{n}", name=f"分厂{n}", kind=UnitKind.PLANT, parent=org.ent_a
        )
        f.problem(org, unit=child, target=5)
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = client.get(FIGURES, {"unit": "A", **PERIOD})
    assert response.context["total"].found == 15


def test_the_chart_sums_the_nightly_colour_counts_over_the_subtree(client, org, login_as):
    today = dt.date(2026, 11, 18)
    yesterday = dt.date(2026, 11, 17)
    for day, path, colour, n in [
        (yesterday, org.plant_a.path, "red", 2),
        (yesterday, org.shop_a.path, "red", 1),
        (yesterday, org.shop_a.path, "yellow", 3),
        (today, org.plant_a.path, "blue", 4),
        (today, org.plant_b.path, "red", 9),  # another enterprise: not summed
    ]:
        ColourCount.objects.create(day=day, unit_path=path, colour=colour, n=n)
    login_as("supervisor", org.ent_a)
    response = client.get(
        FIGURES, {"unit": "A", "start": yesterday.isoformat(), "end": today.isoformat()}
    )
    bars = response.context["chart"]["bars"]
    assert [(b["day"].red, b["day"].yellow, b["day"].blue) for b in bars] == [(3, 3, 0), (0, 0, 4)]
    body = response.content.decode()
    assert 'id="colour-chart"' in body and body.count("<rect") == 3


def test_the_default_period_and_bad_input(client, org, login_as):
    with travel("2026-12-01", "00:10"):  # still 30 November in UTC
        login_as("viewer", org.ent_a)
        response = client.get(FIGURES)
    assert response.status_code == 200
    assert response.context["unit"] == org.ent_a
    assert response.context["start"] == dt.date(2026, 12, 1)
    response = client.get(FIGURES, {"start": "2026-05-10", "end": "2026-05-01"})
    assert response.status_code == 200 and response.context["form"].errors["end"]
    assert client.get(FIGURES, {"start": "3000-01-01"}).status_code == 200
    outside = client.get(FIGURES, {"unit": "B"})  # refused at the field, the page kept
    assert outside.status_code == 200 and "您管辖的单位中没有这个代码。" in outside.content.decode()
    login_as("guard", org.ent_a)
    assert client.get(FIGURES).status_code == 403
