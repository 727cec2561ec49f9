"""Every input that once answered 500 or broke a page for good: now a clear 4xx, nothing stored.

Each case comes from an attack on the running system (issue 9). The answers carry the
standard body {code, message, detail} in Chinese; nothing is half-written.
"""

import datetime as dt

import pytest
from django.core.cache import cache
from django.urls import reverse

from fangkong.core.models import Division
from fangkong.health import services as health
from fangkong.health.models import Declaration
from fangkong.health.selectors import link_token
from fangkong.health.tests.factories import raw_declaration
from fangkong.ledger.keys import person_key
from fangkong.ledger.models import Entry
from fangkong.ledger.testing import register_test_kinds, unregister_test_kinds
from fangkong.orgs.models import Person
from fangkong.quarantine.models import Placement

pytestmark = pytest.mark.django_db

BEYOND_BIGINT = 2**63


@pytest.fixture(autouse=True)
def _fresh_throttle():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _test_kinds():
    register_test_kinds()
    yield
    unregister_test_kinds()


def card(org, owners):
    from fangkong.ledger import services as ledger

    item, _ = ledger.item_open(
        actor=None,
        kind="testcase",
        subject=org.person_a,
        person=org.person_a,
        unit=org.person_a.unit,
        title="发热",
        open_key=person_key(org.person_a.pk),
        owners=owners,
    )
    return item


def api_post(client, url, body, **extra):
    if not isinstance(body, str):
        import json

        body = json.dumps(body)
    return client.post(f"/api/v1{url}", body, content_type="application/json", **extra)


def assert_error(response, status, code=None):
    assert response.status_code == status, response.content[:300]
    body = response.json()
    assert set(body) == {"code", "message", "detail"}
    assert code is None or body["code"] == code
    assert any("\u4e00" <= ch <= "\u9fff" for ch in body["message"]), body["message"]
    return body


# ---------------------------------------------------------------- numbers


@pytest.mark.parametrize("temperature", ["NaN", "nan", "Infinity", "-inf", "1e400"])
def test_a_temperature_that_is_not_a_finite_number_is_refused(client, org, login_as, temperature):
    login_as("reporter")
    response = api_post(
        client, "/declarations", raw_declaration(org.person_a, temperature=temperature)
    )
    assert_error(response, 422)
    assert not Declaration.objects.exists()


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_json_nan_and_infinity_literals_are_refused(client, org, login_as, literal):
    login_as("reporter")
    body = raw_declaration(org.person_a)
    uuid, person = body["uuid"], org.person_a.pk
    text = (
        f'{{"uuid": "{uuid}", "person": {person}, "division": "370303", "temperature": {literal}}}'
    )

    assert_error(api_post(client, "/declarations", text), 400, "bad_request")
    assert not Declaration.objects.exists()


def test_nan_on_the_personal_link_is_a_message_at_the_field(client, org):
    worker = org.user("grid_worker", org.group)
    url = reverse(
        "health:link", args=[link_token(health.link_issue(actor=worker, person=org.person_a))]
    )
    data = {
        "uuid": raw_declaration(org.person_a)["uuid"],
        "temperature": "nan",
        "division": "370303",
    }
    page = client.post(url, data)
    assert page.status_code == 422 and "体温" in page.content.decode()
    assert not Declaration.objects.exists()


@pytest.mark.parametrize("value", ["123456789012", "1e400", "NaN"])
def test_a_follow_up_value_too_large_or_not_finite_is_refused_and_the_page_still_opens(
    client, org, login_as, value
):
    tracker = login_as("tracker", org.ent_a)
    item = card(org, owners=[tracker])
    body = f'{{"text": "体温", "value": {value}}}'
    response = api_post(client, f"/ledger/items/{item.pk}/follow-ups", body)
    assert response.status_code in (400, 422)
    assert_error(response, response.status_code)
    page = client.post(f"/ledger/item/{item.pk}/follow_up/", {"text": "体温", "value": value})
    assert page.status_code in (200, 302, 422)
    assert not Entry.objects.filter(item=item, value__isnull=False).exists()
    assert client.get(f"/ledger/item/{item.pk}/").status_code == 200


def test_the_service_refuses_a_measurement_its_column_cannot_hold(org):
    from decimal import Decimal

    from fangkong.core.errors import InvalidInput
    from fangkong.ledger import services as ledger

    tracker = org.user("tracker", org.ent_a)
    item = card(org, owners=[tracker])
    with pytest.raises(InvalidInput):
        ledger.item_follow_up(actor=tracker, item=item, text="x", value=Decimal("123456789012"))
    assert not Entry.objects.filter(item=item, value__isnull=False).exists()


def test_a_page_number_of_2_to_the_63_is_refused_or_the_last_page(client, org, login_as):
    login_as("unit_admin")
    assert_error(client.get(f"/api/v1/people?page={BEYOND_BIGINT}"), 422)
    assert client.get(f"/people/?page={BEYOND_BIGINT}").status_code == 200


def test_ids_of_2_to_the_63_or_more_find_nothing(client, org, login_as):
    login_as("unit_admin")
    for url in (
        f"/people/{BEYOND_BIGINT}",
        f"/units/{BEYOND_BIGINT}",
        f"/inbox/{BEYOND_BIGINT}/read",
    ):
        method = client.post if url.endswith("read") else client.get
        assert method(f"/api/v1{url}").status_code in (404, 422)
    assert client.get(f"/people/{BEYOND_BIGINT}/").status_code == 404
    assert client.get(f"/ledger/item/{BEYOND_BIGINT * 10}/").status_code == 404
    response = api_post(
        client, "/declarations", {**raw_declaration(org.person_a), "person": BEYOND_BIGINT}
    )
    assert_error(response, 422)
    assert not Declaration.objects.exists()


def test_a_placement_starting_in_the_year_9999_is_refused(client, org, login_as):
    login_as("unit_admin")
    body = {
        "person_id": org.person_a.pk,
        "mode": "home",
        "level": "high",
        "address": "家中",
        "start": "9999-12-30",
    }
    assert_error(api_post(client, "/quarantine/placements", body), 422)
    assert not Placement.objects.exists()


# ---------------------------------------------------------------- text


@pytest.mark.parametrize("bad", ["\x00", "\x1b[31m", "\x7f", "\x85"])
def test_control_characters_in_a_json_text_field_are_refused(client, org, login_as, bad):
    login_as("unit_admin")
    body = {"unit_id": org.shop_a.pk, "name": f"王{bad}五", "id_number": "", "phone": ""}
    response = api_post(client, "/people", body)
    detail = assert_error(response, 400, "bad_request")["detail"]
    assert "name" in detail
    assert not Person.objects.filter(name__startswith="王").exists()


def test_a_form_sent_where_the_api_reads_json_is_refused_and_nothing_stored(client, org, login_as):
    login_as("unit_admin")
    form = {"unit_id": org.shop_a.pk, "name": "王五", "id_number": "", "phone": ""}
    response = client.post("/api/v1/people", form)  # multipart, as an HTML form posts
    assert_error(response, 400, "bad_request")
    assert not Person.objects.filter(name="王五").exists()


def test_a_lone_surrogate_is_refused(client, org, login_as):
    login_as("unit_admin")
    text = f'{{"unit_id": {org.shop_a.pk}, "name": "\\ud800"}}'
    assert_error(api_post(client, "/people", text), 400, "bad_request")


def test_tab_and_newline_stay_allowed_in_free_text(client, org, login_as):
    tracker = login_as("tracker", org.ent_a)
    item = card(org, owners=[tracker])
    response = api_post(client, f"/ledger/items/{item.pk}/follow-ups", {"text": "早\t晚\n正常"})
    assert response.status_code == 201


def test_nul_in_a_search_box_or_query_parameter_is_refused_even_without_login(
    client, org, login_as
):
    response = client.get("/health/divisions", {"q": "淄\x00博"}, HTTP_ACCEPT="application/json")
    assert_error(response, 400, "bad_request")
    login_as("unit_admin")
    page = client.get("/people/", {"q": "张\x00"})
    assert page.status_code == 400 and "控制字符" in page.content.decode()
    assert_error(client.get("/api/v1/people", {"q": "\x00"}), 400, "bad_request")


def test_nul_in_a_form_field_is_refused_and_nothing_stored(client, org, login_as):
    tracker = login_as("tracker", org.ent_a)
    item = card(org, owners=[tracker])
    page = client.post(f"/ledger/item/{item.pk}/follow_up/", {"text": "正常\x00"})
    assert page.status_code == 400 and "控制字符" in page.content.decode()
    assert not Entry.objects.filter(item=item, text__contains="正常").exists()


# ---------------------------------------------------------------- dates and size


def test_the_rollup_of_a_day_before_the_plan_starts_answers_cleanly(client, org, login_as):
    login_as("group_admin", org.group)
    response = client.get("/api/v1/rollup", {"day": "2019-12-30"})
    assert response.status_code in (200, 422)
    if response.status_code == 422:
        assert_error(response, 422)
    assert client.get("/api/v1/rollup/trend", {"days": 10**9}).status_code == 422
    page = client.get("/reports/rollup/", {"day": "2019-12-30"})
    assert page.status_code in (200, 422)
    assert client.get("/reports/rollup/", {"day": "0001-01-01"}).status_code in (200, 422)


def test_a_60_mb_body_answers_413(client, org, login_as):
    login_as("reporter")
    big = b"{" + b" " * (60 * 1024 * 1024) + b"}"
    response = client.generic(
        "POST", "/api/v1/declarations/batch", big, content_type="application/json"
    )
    body = assert_error(response, 413, "too_large")
    assert "50" in body["message"]
    assert not Declaration.objects.exists()


def test_divisions_still_answer_ordinary_searches(client):
    assert Division.objects.filter(code="370303").exists()
    response = client.get("/health/divisions", {"q": "张店"}, HTTP_ACCEPT="application/json")
    assert response.status_code == 200


def test_a_real_day_window_is_kept(org):
    # guards against a date bound so tight it refuses a real request: a week back is fine
    worker = org.user("grid_worker", org.group)
    day = (dt.date.today() - dt.timedelta(days=3)).isoformat()
    [stored] = health.declarations_submit(
        actor=worker, items=[raw_declaration(org.person_a, day=day)]
    )
    assert stored.created
