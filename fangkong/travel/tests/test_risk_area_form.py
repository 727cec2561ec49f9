"""The risk-area form as a prevention office uses it: defaults, region fields, no empty versions."""

import re

import pytest
from django.core.cache import cache
from django.urls import reverse

from fangkong.accounts.models import User
from fangkong.orgs.demo import seed
from fangkong.travel.demo import seed_travel
from fangkong.travel.models import ReturneeCard, RiskArea, RiskAreaBatch

from .factories import JIANGAN, WUHAN, days_ago, set_level, trip

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_throttle():
    cache.clear()
    yield
    cache.clear()


def form_defaults(html: str) -> dict[str, str]:
    """The values the set-a-level form offers before anything is typed."""
    form = html[html.index('id="set-level"') :]
    values = {}
    for name in ("effective_from", "stays_since", "notice"):
        found = re.search(rf'name="{name}"[^>]*value="([^"]*)"', form)
        values[name] = found.group(1) if found else ""
    level = re.search(r'name="level">.*?<option value="(\w+)" selected', form, re.S)
    values["level"] = level.group(1) if level else ""
    return values


def test_the_readme_raise_with_the_forms_defaults_flags_the_demo_returnee(client):
    """README: as group_admin, raise 石家庄 (130100) to high on 风险地区."""
    seed("small")
    seed_travel()
    client.force_login(User.objects.get(username="group_admin"))
    page = client.get(reverse("travel:risk_areas")).content.decode()
    assert 'data-region-suggest="/health/divisions"' in page
    values = form_defaults(page)
    assert values["effective_from"] == days_ago(0).isoformat()
    assert values["stays_since"] == days_ago(15).isoformat()  # the profile's look-back
    # What the suggestions offer for the typed text; the office picks the city.
    offered = client.get(reverse("health:divisions"), {"q": "石家庄"}).json()["results"]
    city = next(place for place in offered if place["code"] == "130100")
    response = client.post(
        reverse("travel:risk_area_set"), {**values, "region": city["name"], "level": "high"}
    )
    assert response.status_code == 302
    batch = RiskAreaBatch.objects.order_by("-pk").first()
    assert batch is not None and batch.raised == 1 and batch.exposures == 1
    flagged = ReturneeCard.objects.get(coming_from_id="130109")
    assert flagged.outcome == "must_quarantine"


def test_suggestions_answer_names_initials_and_codes(client):
    for typed in ("武汉", "wh", "4201"):
        found = client.get(reverse("health:divisions"), {"q": typed}).json()["results"]
        assert "420100" in [place["code"] for place in found], typed


def test_an_unknown_region_gets_a_sentence_at_the_field_and_the_form_keeps_what_was_typed(
    client, org, login_as
):
    login_as("group_admin", org.group)
    response = client.post(
        reverse("travel:risk_area_set"),
        {
            "region": "火星",
            "level": "medium",
            "effective_from": days_ago(0).isoformat(),
            "stays_since": days_ago(3).isoformat(),
            "notice": "第 5 号通告",
        },
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert "No region matches “火星”." in html
    assert "{'region'" not in html and "[&#x27;" not in html
    assert 'value="火星"' in html and 'value="第 5 号通告"' in html
    assert f'value="{days_ago(3).isoformat()}"' in html
    assert '<option value="medium" selected' in html
    assert not RiskAreaBatch.objects.exists()


def test_stays_since_after_the_effective_date_is_refused_at_its_field(client, org, login_as):
    login_as("group_admin", org.group)
    response = client.post(
        reverse("travel:risk_area_set"),
        {
            "region": "420100",
            "level": "high",
            "effective_from": days_ago(5).isoformat(),
            "stays_since": days_ago(1).isoformat(),
        },
    )
    assert response.status_code == 422
    form = response.content.decode().split('id="stays_since"')[1]
    assert "Stays must count from the effective date or earlier" in form.split("</div>")[0]
    assert not RiskArea.objects.exists()


def test_an_earlier_stays_since_on_the_page_reaches_back(client, org, login_as):
    trip(org.person_a, JIANGAN, 12, 10)
    login_as("group_admin", org.group)
    client.post(
        reverse("travel:risk_area_set"),
        {
            "region": "420100",
            "level": "high",
            "effective_from": days_ago(0).isoformat(),
            "stays_since": days_ago(9).isoformat(),
        },
    )
    assert RiskAreaBatch.objects.get().exposures == 0  # the stay ended before day −9
    area = RiskArea.objects.get()
    assert (area.effective_from, area.stays_since) == (days_ago(0), days_ago(9))


def test_saving_the_same_level_again_on_the_page_makes_no_version(client, org, login_as):
    set_level(WUHAN, "high", since=2)
    login_as("group_admin", org.group)
    response = client.post(
        reverse("travel:risk_area_set"),
        {"region": "420100", "level": "high", "effective_from": days_ago(0).isoformat()},
        follow=True,
    )
    messages = [str(m) for m in response.context["messages"]]
    assert messages == ["Nothing changed: the list already has these levels. No version was saved."]
    assert RiskAreaBatch.objects.count() == 1


def test_the_api_takes_stays_since_and_answers_200_without_a_version_when_nothing_changed(
    client, org, login_as
):
    trip(org.person_a, JIANGAN, 10, 8)
    login_as("group_admin", org.group)
    url = "/api/v1/risk-areas"
    body = {"division": WUHAN, "level": "high", "effective_from": days_ago(0).isoformat()}
    created = client.post(url, body, content_type="application/json")
    assert created.status_code == 201 and created.json()["exposures"] == 1
    listed = client.get(url).json()["items"][0]
    assert listed["stays_since"] == days_ago(15).isoformat()
    again = client.post(url, body, content_type="application/json")
    assert again.status_code == 200 and again.json()["version"] is None
    late = {**body, "level": "medium", "stays_since": days_ago(-1).isoformat()}
    refused = client.post(url, late, content_type="application/json")
    assert refused.status_code == 422 and "stays_since" in refused.json()["detail"]


def test_the_api_answers_an_unknown_region_with_a_sentence(client, org, login_as):
    login_as("group_admin", org.group)
    body = {"division": "999999", "level": "high", "effective_from": days_ago(0).isoformat()}
    response = client.post("/api/v1/risk-areas", body, content_type="application/json")
    assert response.status_code == 422
    assert response.json()["detail"] == {"division": ["No region has the code “999999”."]}
