"""Pages and API of the reports: the query count does not grow with the units shown."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from fangkong.core.paths import RANGES_PER_STATEMENT
from fangkong.orgs.services import person_create, unit_create
from fangkong.reports import services
from fangkong.testing import valid_resident_id

from .conftest import declare

pytestmark = pytest.mark.django_db

URLS = [
    "/reports/?day={today}",
    "/reports/export/?day={today}&format=csv",
    "/reports/today/?day={today}",
    "/reports/today/?unit={plant}&day={today}",
    "/reports/rollup/?unit={ent}&day={today}",
    "/api/v1/reports?day={today}",
    "/api/v1/rollup?unit={ent}&day={today}",
    "/api/v1/rollup/trend?unit={ent}",
]


def _count_queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(queries.captured_queries)


def _add_reported_plants(org, today, at, codes: range) -> None:
    admin = org.user("group_admin", org.group)
    for i in codes:
        unit = unit_create(
            actor=admin, code=f"AX{i}", name=f"厂{i}", kind="plant", parent=org.ent_a
        )
        services.report_attest(actor=admin, unit=unit, day=today, now=at("09:00"))


@pytest.mark.parametrize("url", URLS)
def test_the_query_count_does_not_grow_with_the_units(client, org, login_as, today, at, url):
    # Past the roll-up's per-child range counts (RANGES_PER_STATEMENT) every page is flat.
    url = url.format(today=today, plant=org.plant_a.pk, ent=org.ent_a.pk)
    _add_reported_plants(org, today, at, range(RANGES_PER_STATEMENT))
    login_as("unit_admin", org.group)
    few = _count_queries(client, url)
    _add_reported_plants(org, today, at, range(RANGES_PER_STATEMENT, RANGES_PER_STATEMENT + 3))
    assert _count_queries(client, url) == few


def _page_queries(client, urls: dict[str, str]) -> dict[str, int]:
    counts = {}
    for name, url in urls.items():
        client.get(url)  # the per-process memos (plans, catalogue) load once
        counts[name] = _count_queries(client, url)
    return counts


def test_the_benchmarked_pages_cost_the_same_queries_with_more_units_people_and_reports(
    client, org, login_as, today, at
):
    """The pages of benchmarks/pages.py: the group's roll-up, an enterprise's, the tree, a
    unit page of an enterprise and of a workshop, the group's children. With fourteen more
    enterprises (past the per-child range limit), their people, declarations, cards and
    reports, each costs the queries it cost before."""
    admin = login_as("group_admin", org.group)
    declare(org.person_a, temperature="38.2")
    services.report_attest(actor=admin, unit=org.plant_a, day=today, now=at("09:00"))
    urls = {
        "rollup, group": f"/reports/rollup/?unit={org.group.pk}&day={today}",
        "rollup, enterprise": f"/reports/rollup/?unit={org.ent_a.pk}&day={today}",
        "tree": "/units/",
        "unit, enterprise": f"/units/{org.ent_a.pk}/",
        "unit, workshop": f"/units/{org.shop_a.pk}/",
        "children of the group": f"/units/{org.group.pk}/children/",
    }
    before = _page_queries(client, urls)
    for n in range(RANGES_PER_STATEMENT + 2):
        enterprise = unit_create(
            actor=admin, code=f"E{n}", name=f"企业{n}", kind="enterprise", parent=org.group
        )
        plant = unit_create(actor=admin, code=f"E{n}P", name="厂", kind="plant", parent=enterprise)
        team = unit_create(actor=admin, code=f"E{n}T", name="班", kind="team", parent=plant)
        for i in range(3):
            person = person_create(
                actor=admin,
                unit=team,
                name=f"工人{n}-{i}",
                id_number=valid_resident_id(500 + 3 * n + i),
            )
            declare(person, temperature="38.5" if i == 0 else "36.5")
        services.report_attest(actor=admin, unit=plant, day=today, now=at("09:00"))
    after = _page_queries(client, urls)
    assert after == before
    # Pinned: a page that needs another query says so here and in BENCHMARKS.md.
    assert before == {
        "rollup, group": 20,
        "rollup, enterprise": 20,
        "tree": 6,
        "unit, enterprise": 9,
        "unit, workshop": 8,
        "children of the group": 6,
    }
