"""The declaration API: 201 then 200 on retry, 422 in Chinese, batch all or nothing."""

import pytest

from fangkong.health.models import Declaration

from .factories import raw_declaration

pytestmark = pytest.mark.django_db


def post(client, url, payload):
    return client.post(f"/api/v1{url}", payload, content_type="application/json")


def test_single_declaration_then_its_retry(client, org, login_as):
    login_as("reporter")
    payload = raw_declaration(org.person_a, temperature="38.2")
    first = post(client, "/declarations", payload)
    again = post(client, "/declarations", payload)
    assert first.status_code == 201 and first.json()["status"] == "yellow"
    assert again.status_code == 200 and again.json()["duplicate"] is True
    assert Declaration.objects.count() == 1


def test_out_of_range_temperature_answers_422_in_chinese(client, org, login_as):
    login_as("reporter")
    response = post(client, "/declarations", raw_declaration(org.person_a, temperature="34.9"))
    body = response.json()
    assert response.status_code == 422
    assert "体温必须在" in body["message"] and "temperature" in body["detail"]
    assert Declaration.objects.count() == 0


def test_a_retried_batch_makes_no_duplicates(client, org, login_as):
    login_as("reporter")
    items = [raw_declaration(org.person_a, day=None) for _ in range(3)]
    for item in items:
        item.pop("day")
    first = post(client, "/declarations/batch", {"items": items}).json()
    again = post(client, "/declarations/batch", {"items": items}).json()
    assert (first["created"], first["duplicates"]) == (3, 0)
    assert (again["created"], again["duplicates"]) == (0, 3)
    assert Declaration.objects.count() == 3
    assert Declaration.objects.filter(is_current=True).count() == 1


def test_a_batch_with_a_bad_row_answers_422_and_stores_nothing(client, org, login_as):
    login_as("reporter")
    items = [raw_declaration(org.person_a), raw_declaration(org.person_a, temperature="abc")]
    response = post(client, "/declarations/batch", {"items": items})
    assert response.status_code == 422
    assert response.json()["detail"]["items"]["1"]["temperature"]
    assert Declaration.objects.count() == 0


def test_an_oversized_batch_is_refused(client, org, login_as):
    login_as("reporter")
    items = [raw_declaration(org.person_a) for _ in range(1001)]
    assert post(client, "/declarations/batch", {"items": items}).status_code == 422


def test_person_health_shows_status_and_reasons(client, org, login_as):
    login_as("tracker")
    reporter = org.user("reporter", org.ent_a)
    client.force_login(reporter)
    post(client, "/declarations", raw_declaration(org.person_a, contact="confirmed"))
    body = client.get(f"/api/v1/people/{org.person_a.pk}/health").json()
    assert body["status"] == "red" and body["reason_labels"] == ["与确诊病例接触"]


def test_division_search_by_pinyin_initials(client, org, login_as):
    login_as("viewer")
    names = [d["full_name"] for d in client.get("/api/v1/divisions?q=zd").json()]
    assert "山东省 淄博市 张店区" in names


def test_ping_answers_for_a_token(client, org):
    from fangkong.accounts.services import api_token_create

    user = org.user("reporter", org.ent_a)
    _token, secret = api_token_create(actor=user, user=user, name="phone")
    response = client.post("/api/v1/ping", HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert response.json() == {"ok": True}
