"""A declaration's UUID is an idempotency key: a retry answers the stored row, nothing else.

Posting your own declaration with a UUID already used for someone else's must neither
reveal that declaration (its person may be out of your scope) nor drop yours silently.
"""

import json

import pytest
from django.core.cache import cache
from django.urls import reverse

from fangkong.health import services
from fangkong.health.models import Declaration
from fangkong.health.selectors import link_token

from .factories import raw_declaration

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_throttle():
    cache.clear()
    yield
    cache.clear()


def api(client, url, payload):
    return client.post(f"/api/v1{url}", payload, content_type="application/json")


@pytest.fixture
def someone_elses(org):
    """A red declaration of person B (enterprise B), filed by B's grid worker."""
    worker = org.user("grid_worker", org.ent_b)
    payload = raw_declaration(org.person_b, contact="confirmed", temperature="38.9")
    [stored] = services.declarations_submit(actor=worker, items=[payload])
    return stored.declaration


def assert_refused_without_revealing(response, other):
    body = response.json()
    assert response.status_code == 409 and body["code"] == "key_reused"
    assert set(body) == {"code", "message", "detail"} and set(body["detail"]) == {"uuid"}
    text = json.dumps(body, ensure_ascii=False)
    for leaked in ("red", "38.9", "密切接触", "确诊", other.person.name, "person"):
        assert leaked not in text
    assert "已被用于其他数据" in body["message"]


def test_the_api_refuses_another_persons_uuid_and_reveals_nothing(
    client, org, login_as, someone_elses
):
    login_as("reporter")  # enterprise A: person B is out of scope
    payload = raw_declaration(org.person_a, uuid=str(someone_elses.uuid))
    response = api(client, "/declarations", payload)
    assert_refused_without_revealing(response, someone_elses)
    assert not Declaration.objects.filter(person=org.person_a).exists()


def test_the_personal_link_refuses_another_persons_uuid(client, org, someone_elses):
    worker = org.user("grid_worker", org.group)
    url = reverse(
        "health:link", args=[link_token(services.link_issue(actor=worker, person=org.person_a))]
    )
    data = {"uuid": str(someone_elses.uuid), "temperature": "36.5", "division": "370303"}
    response = client.post(url, data, HTTP_ACCEPT="application/json")
    assert_refused_without_revealing(response, someone_elses)
    page = client.post(url, data)
    assert page.status_code == 409 and "已被用于其他数据" in page.content.decode()
    assert not Declaration.objects.filter(person=org.person_a).exists()


def test_the_same_uuid_with_other_content_for_the_same_person_is_refused(client, org, login_as):
    login_as("reporter")
    payload = raw_declaration(org.person_a, temperature="36.6")
    assert api(client, "/declarations", payload).status_code == 201
    changed = api(client, "/declarations", {**payload, "temperature": "39.0"})
    assert changed.status_code == 409 and changed.json()["code"] == "key_reused"
    assert [str(row.temperature) for row in Declaration.objects.all()] == ["36.6"]


def test_a_true_retry_still_answers_the_stored_declaration(client, org, login_as):
    login_as("reporter")
    payload = raw_declaration(org.person_a, temperature="38.2")
    payload.pop("day", None)  # the phone form leaves the day out: a retry after midnight too
    first = api(client, "/declarations", payload)
    again = api(client, "/declarations", payload)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["duplicate"] is True and again.json()["status"] == "yellow"


def test_one_uuid_three_times_in_a_batch_creates_one(client, org, login_as):
    login_as("reporter")
    item = raw_declaration(org.person_a)
    body = api(client, "/declarations/batch", {"items": [item, item, item]}).json()
    assert (body["created"], body["duplicates"]) == (1, 2)
    assert Declaration.objects.count() == 1


def test_one_uuid_twice_in_a_batch_with_other_content_stores_nothing(client, org, login_as):
    login_as("reporter")
    item = raw_declaration(org.person_a)
    other = {**item, "temperature": "38.0"}
    response = api(
        client, "/declarations/batch", {"items": [raw_declaration(org.person_a), item, other]}
    )
    assert response.status_code == 409 and response.json()["code"] == "key_reused"
    assert Declaration.objects.count() == 0
