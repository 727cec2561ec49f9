"""The travel API: file a card and read its decision; raise a region and see the re-check."""

import pytest

from .factories import JIANGAN, days_ago, trip

pytestmark = pytest.mark.django_db


def test_filing_a_card_answers_with_the_decision_and_the_itinerary(client, org, login_as):
    login_as("group_admin", org.group)
    raised = client.post(
        "/api/v1/risk-areas",
        {"division": "420100", "level": "high", "effective_from": days_ago(20).isoformat()},
        content_type="application/json",
    )
    assert raised.status_code == 201 and raised.json()["raised"] == 1
    payload = {
        "planned_return": days_ago(-1).isoformat(),
        "fever": False,
        "symptoms": False,
        "contact": "none",
        "itineraries": [
            {"division": JIANGAN, "from_day": days_ago(5).isoformat(), "transport": "flight"}
        ],
    }
    url = f"/api/v1/people/{org.person_a.pk}/returnee-card"
    response = client.post(url, payload, content_type="application/json")
    assert response.status_code == 201
    body = response.json()
    assert body["decision"]["outcome"] == "must_quarantine"
    assert body["decision"]["areas"][0]["code"] == "420100"
    assert body["itineraries"][0]["division"] == JIANGAN
    again = client.post(url, {**payload, "contact": "bad"}, content_type="application/json")
    assert again.status_code == 422 and "contact" in again.json()["detail"]
    listed = client.get("/api/v1/returnee-cards?outcome=must_quarantine").json()
    assert [c["person"] for c in listed["items"]] == [org.person_a.pk]


def test_raising_reports_the_exposures_found(client, org, login_as):
    trip(org.person_a, JIANGAN, 4, 2)
    trip(org.person_b, JIANGAN, 40, 30)
    login_as("group_admin", org.group)
    response = client.post(
        "/api/v1/risk-areas",
        {"division": "420000", "level": "medium", "effective_from": days_ago(60).isoformat()},
        content_type="application/json",
    )
    assert response.json()["exposures"] == 1
    areas = client.get("/api/v1/risk-areas").json()["items"]
    assert [(a["division"], a["level"]) for a in areas] == [("420000", "medium")]
