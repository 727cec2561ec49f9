"""Pages and API of the reports: the query count does not grow with the units shown."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from fangkong.core.paths import RANGES_PER_STATEMENT
from fangkong.orgs.services import unit_create
from fangkong.reports import services

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
