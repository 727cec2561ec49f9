"""The roll-up's 30-day chart starts at the first day with data; the API keeps every day."""

import datetime as dt
import json

import pytest

from .conftest import declare

pytestmark = pytest.mark.django_db


def chart_days(client, unit) -> list[str]:
    page = client.get(f"/reports/rollup/?unit={unit.pk}").content.decode()
    start = page.index('id="trend-data"')
    data = page[page.index(">", start) + 1 : page.index("</script>", start)]
    return [row["day"] for row in json.loads(data)]


def test_the_chart_starts_at_the_first_day_with_a_declaration(client, org, login_as, today):
    declare(org.person_a, day=today - dt.timedelta(days=3))
    declare(org.person_b, day=today)
    login_as("viewer", org.group)
    days = chart_days(client, org.group)
    assert days[0] == (today - dt.timedelta(days=3)).isoformat()
    assert days[-1] == today.isoformat() and len(days) == 4
    api = client.get(f"/api/v1/rollup/trend?unit={org.group.pk}&days=30").json()
    assert len(api) == 30


def test_a_chart_without_any_data_shows_today_alone(client, org, login_as, today):
    login_as("viewer", org.group)
    assert chart_days(client, org.group) == [today.isoformat()]
