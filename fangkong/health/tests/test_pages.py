"""The health pages: personal link, proxy screen, status page, declarations list and export."""

import csv
import datetime as dt
import io
import json
import re
import uuid

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from fangkong.core.models import AuditLog
from fangkong.health import services
from fangkong.health.models import Declaration, PersonLink, Symptom
from fangkong.health.selectors import link_token
from fangkong.orgs.services import person_create
from fangkong.testing import valid_resident_id

from .factories import ZIBO_ZHANGDIAN, raw_declaration

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_throttle():
    """The limiter counts in the cache, which outlives a test; start each test at zero."""
    cache.clear()
    yield
    cache.clear()


def link_url(org, person=None):
    worker = org.user("grid_worker", org.group)
    link = services.link_issue(actor=worker, person=person or org.person_a)
    return reverse("health:link", args=[link_token(link)])


def plain(url: str) -> str:
    """The page rendered on the server, where the shell sends a browser without JavaScript."""
    return url + "?plain=1"


def form(**overrides):
    data = {
        "uuid": str(uuid.uuid4()),
        "temperature": "36.6",
        "division": ZIBO_ZHANGDIAN,
        "whereabouts": "at_post",
        "contact": "none",
        "test_result": "none",
    }
    data.update(overrides)
    return data


def declare_yesterday(org, person, **overrides):
    yesterday = (timezone.localdate() - dt.timedelta(days=1)).isoformat()
    actor = org.user("grid_worker", org.group)
    services.declarations_submit(
        actor=actor, items=[raw_declaration(person, day=yesterday, **overrides)]
    )


# ------------------------------------------------------------------ personal link


def test_the_link_opens_the_shared_shell_with_the_persons_state_in_one_read(client, org):
    declare_yesterday(org, org.person_a)
    declare_yesterday(org, org.person_b)
    url_a, url_b = link_url(org), link_url(org, org.person_b)
    with CaptureQueriesContext(connection) as queries:
        page_a, page_b = client.get(url_a), client.get(url_b)
    assert page_a.status_code == page_b.status_code == 200
    assert len(queries.captured_queries) == 2  # one read each: the link, person and state
    state_a = json.loads(_inline_state(page_a))
    assert state_a == client.get(url_a + "state").json()  # the state its URL answers
    assert state_a["name"] == "张*" and json.loads(_inline_state(page_b))["name"] == "李*"
    assert state_a["link"] == url_a  # the page whose state it is (static/js/declare.js)
    # Beside the state the bytes are the shared shell's, which names no one.
    shared = client.get(reverse("health:link_shell"))
    assert _without_state(page_a) == _without_state(page_b) == shared.content
    shell = shared.content.decode()
    assert "张伟" not in shell and "张*" not in shell and "cough" not in shell
    assert url_a.split("/")[3] not in shell and 'id="link-state"' not in shell
    assert 'id="declare-form"' in shell and 'data-state="state"' in shell
    # Without JavaScript the browser goes on to the plain page of the same link.
    assert '<noscript><meta http-equiv="refresh" content="0; url=?plain=1"></noscript>' in shell
    # The personal URL stays out of every cache; the shell's own URL may be kept a day.
    assert page_a["Cache-Control"] == "private, no-store"
    assert page_a["Referrer-Policy"] == "no-referrer"
    assert shared["Cache-Control"] == "public, max-age=86400"
    again = client.get(reverse("health:link_shell"), HTTP_IF_NONE_MATCH=shared["ETag"])
    assert again.status_code == 304


def test_the_state_in_the_page_cannot_close_its_script(client, org):
    org.person_a.name = "</script><script>alert(1)</script>"
    org.person_a.save(update_fields=["name"])
    page = client.get(link_url(org)).content.decode()
    assert "<script>alert(1)" not in page and page.count("</script>") == (
        client.get(reverse("health:link_shell")).content.decode().count("</script>") + 1
    )
    assert json.loads(_inline_state(client.get(link_url(org))))["name"].startswith("<")


_STATE_SCRIPT = re.compile(rb'<script id="link-state" type="application/json">(.*?)</script>')


def _inline_state(response) -> bytes:
    found = _STATE_SCRIPT.search(response.content)
    assert found is not None, "the page carries no state"
    return found.group(1)


def _without_state(response) -> bytes:
    return _STATE_SCRIPT.sub(b"", response.content, count=1)


def test_the_link_installs_as_an_app_that_opens_the_persons_own_link(client, org):
    url_a, url_b = link_url(org), link_url(org, org.person_b)
    with CaptureQueriesContext(connection) as queries:
        manifest_a = client.get(url_a + "manifest.webmanifest")
        manifest_b = client.get(url_b + "manifest.webmanifest")
    assert not queries.captured_queries and manifest_a.content == manifest_b.content
    assert manifest_a["Content-Type"] == "application/manifest+json"
    assert manifest_a["Cache-Control"] == "private, no-store"
    manifest = manifest_a.json()
    # "." is the link the manifest was read under: an installed page opens that link.
    assert manifest["start_url"] == manifest["scope"] == "."
    assert manifest["display"] == "standalone"
    assert {icon["sizes"] for icon in manifest["icons"]} == {"192x192", "512x512"}
    for icon in manifest["icons"]:
        assert finders.find(icon["src"].removeprefix(settings.STATIC_URL))
    assert 'rel="manifest" href="manifest.webmanifest"' in client.get(url_a).content.decode()


def test_the_service_worker_keeps_the_shell_under_its_own_address(client, org):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("health:link_sw"))
    assert response.status_code == 200 and not queries.captured_queries
    assert response["Content-Type"].startswith("text/javascript")
    assert response["Cache-Control"] == "no-cache"
    script = response.content.decode()
    # Its cache is named after what it keeps; the shell is kept under the token-free URL.
    assert 'var CACHE = "fangkong-declare-' in script
    assert f'var SHELL = "{reverse("health:link_shell")}";' in script
    assert "/static/js/declare.js" in script and "/static/css/app.css" in script
    assert link_url(org).split("/")[3] not in script
    assert client.get(reverse("health:link_sw")).content == response.content


def test_the_state_names_the_person_masked_with_the_last_answers(client, org):
    declare_yesterday(org, org.person_a, temperature="36.8", symptoms=["cough"])
    url = link_url(org)
    response = client.get(url + "state")
    state = response.json()
    assert response["Cache-Control"] == "private, no-store"
    assert state["name"] == "张*" and state["unit"].endswith("一车间")
    assert state["status"] is None and state["one_tap"] is True
    last = state["last"]
    assert (last["temperature"], last["symptoms"], last["division"]) == (
        "36.8",
        ["cough"],
        ZIBO_ZHANGDIAN,
    )
    assert "咳嗽" in last["summary"] and "张店区" in last["summary"]
    assert state["pass_url"] == reverse("passes:phone", args=[url.split("/")[3]])


def test_the_state_offers_the_configured_symptoms(client, org):
    Symptom.objects.create(code="chills", name="寒战", name_en="Chills")
    Symptom.objects.filter(code="runny_nose").update(is_active=False)
    codes = dict(client.get(link_url(org) + "state").json()["symptoms"])
    assert codes["chills"] == "寒战" and "runny_nose" not in codes
    english = client.get(link_url(org) + "state", HTTP_ACCEPT_LANGUAGE="en").json()
    assert dict(english["symptoms"])["chills"] == "Chills"


def test_the_json_submit_refuses_bad_input_in_chinese_and_stores_nothing(client, org):
    url = link_url(org) + "declare"
    hot = client.post(url, form(temperature="43"), content_type="application/json")
    assert hot.status_code == 422 and "体温" in hot.json()["detail"]["temperature"][0]
    listless = client.post(url, form(symptoms="cough"), content_type="application/json")
    assert listless.status_code == 422 and "symptoms" in listless.json()["detail"]
    for body in ("[1, 2]", "{not json", '{"temperature": NaN}'):
        refused = client.post(url, body, content_type="application/json")
        assert refused.status_code == 400 and refused.json()["code"] == "bad_request"
    sneaky = client.post(url, "{oops", content_type="text/plain")
    assert sneaky.status_code == 400 and "JSON" in sneaky.json()["message"]
    assert client.get(url).status_code == 405
    assert Declaration.objects.count() == 0


def test_the_plain_page_shows_the_masked_person_and_an_empty_status(client, org):
    response = client.get(plain(link_url(org)))
    page = response.content.decode()
    assert response.status_code == 200
    assert "张*" in page and "张伟" not in page
    assert 'id="declare-form"' in page and 'name="uuid"' in page
    assert 'value="cough"' in page  # the configured symptom list
    assert "<noscript>" not in page
    assert response["Cache-Control"] == "private, no-store"
    assert response["Referrer-Policy"] == "no-referrer"


def test_the_plain_form_offers_the_configured_symptoms(client, org):
    Symptom.objects.create(code="chills", name="寒战", name_en="Chills")
    Symptom.objects.filter(code="runny_nose").update(is_active=False)
    page = client.get(plain(link_url(org))).content.decode()
    assert 'value="chills"' in page and "寒战" in page and 'value="runny_nose"' not in page


def test_posting_the_form_declares_and_shows_the_status(client, org):
    url = link_url(org)
    data = form(temperature="38.2", symptoms=["cough"])
    response = client.post(url, data)
    # Without JavaScript the answer opens at the status (the button was at the bottom).
    assert response.status_code == 302
    assert response["Location"].endswith("?sent=1#today-status")
    row = Declaration.objects.get()
    assert (row.person, row.status, row.filed_by) == (org.person_a, "yellow", "self")
    assert row.symptoms == ["cough"] and str(row.uuid) == data["uuid"]
    page = client.get(response["Location"]).content.decode()
    assert 'data-status="yellow"' in page and "发热" in page
    assert 'id="today-status"' in page
    assert timezone.localtime(row.created_at).strftime("%H:%M") in page  # with its time


def test_reposting_the_same_form_never_duplicates(client, org):
    url = link_url(org)
    data = form()
    client.post(url, data)
    client.post(url, data)
    assert Declaration.objects.count() == 1


def test_json_post_answers_the_status_in_words(client, org):
    url = link_url(org)
    response = client.post(url, form(temperature="38.2"), HTTP_ACCEPT="application/json")
    body = response.json()
    assert response.status_code == 201
    assert body["status"] == "yellow" and body["reasons"] == ["发热"]
    again = client.post(
        url, form(uuid=body["uuid"], temperature="38.2"), HTTP_ACCEPT="application/json"
    )
    assert again.status_code == 200 and again.json()["duplicate"] is True


def test_a_bad_temperature_is_shown_in_chinese_and_stores_nothing(client, org):
    url = link_url(org)
    response = client.post(url, form(temperature="43"))
    page = response.content.decode()
    assert response.status_code == 422 and "体温" in page
    # The message stands under the field, which takes the focus and keeps what was typed.
    field = page[
        page.index('id="temperature"') : page.index("</div>", page.index('id="temperature"'))
    ]
    assert 'value="43"' in field and "autofocus" in field and '<p class="errors">' in field
    json_response = client.post(url, form(temperature="43"), HTTP_ACCEPT="application/json")
    assert json_response.status_code == 422 and "temperature" in json_response.json()["detail"]
    assert Declaration.objects.count() == 0


def test_the_form_is_prefilled_from_yesterday_and_one_tap_repeats_it(client, org):
    declare_yesterday(org, org.person_a, temperature="36.8", symptoms=["cough"])
    url = link_url(org)
    page = client.get(plain(url)).content.decode()
    assert 'id="one-tap"' in page and 'value="36.8"' in page
    assert 'value="cough" checked' in page
    # The one-tap form carries yesterday's answers in hidden fields: post exactly those.
    one_tap = page.split('class="declare-form one-tap')[1].split("</form>")[0]
    fields: dict[str, list[str]] = {}
    for part in one_tap.split("<input")[1:]:
        name, value = part.split('name="')[1].split('"')[0], part.split('value="')[1].split('"')[0]
        fields.setdefault(name, []).append(value)
    response = client.post(url, fields)
    assert response.status_code == 302
    today = Declaration.objects.get(day=timezone.localdate())
    assert str(today.temperature) == "36.8" and today.symptoms == ["cough"]
    assert 'id="one-tap"' not in client.get(plain(url)).content.decode()


def test_a_place_typed_without_javascript_is_resolved_or_offered(client, org):
    url = link_url(org)
    data = form(division="", division_q="张店区")
    assert client.post(url, data).status_code == 302
    assert Declaration.objects.get().division_id == ZIBO_ZHANGDIAN
    ambiguous = client.post(url, form(division="", division_q="朝阳"))
    page = ambiguous.content.decode()
    assert ambiguous.status_code == 422 and page.count("朝阳区") >= 2


def test_forged_and_revoked_links_answer_a_friendly_404(client, org):
    url = link_url(org)
    forged = client.get(url[:-3] + "xx/")
    assert forged.status_code == 404 and 'id="link-missing"' in forged.content.decode()
    assert client.get(url[:-3] + "xx/state").json()["code"] == "not_found"
    services.link_revoke(actor=org.user("grid_worker", org.group), person=org.person_a)
    # A revoked link's signature is still good, but it opens nothing: the page says so,
    # and so does its state (asked for by a shell the phone kept).
    revoked = client.get(url)
    assert revoked.status_code == 404 and 'id="link-missing"' in revoked.content.decode()
    state = client.get(url + "state")
    assert state.status_code == 404 and state.json()["code"] == "not_found"
    assert "网格员" in state.json()["message"]
    assert client.get(plain(url)).status_code == 404
    assert client.post(url, form()).status_code == 404
    refused = client.post(url, form(), HTTP_ACCEPT="application/json")
    assert refused.status_code == 404 and refused.json()["code"] == "not_found"
    json_refused = client.post(url + "declare", form(), content_type="application/json")
    assert json_refused.status_code == 404 and json_refused.json()["code"] == "not_found"
    assert Declaration.objects.count() == 0


def test_a_link_stores_at_most_twenty_declarations_a_day_then_answers_429(client, org):
    url = link_url(org)
    limit = services.LINK_DECLARATIONS_A_DAY
    codes = [
        client.post(url, form(), HTTP_ACCEPT="application/json").status_code for _ in range(limit)
    ]
    assert codes == [201] * limit
    refused = client.post(url, form(temperature="38.5"), HTTP_ACCEPT="application/json")
    assert refused.status_code == 429 and int(refused["Retry-After"]) >= 60
    assert "明天" in refused.json()["message"] and refused.json()["code"] == "throttled"
    # Nothing of the refused one is stored; the day's current declaration is the last accepted.
    assert Declaration.objects.count() == limit
    assert Declaration.objects.get(is_current=True).temperature < 37
    # The page still opens (showing today's status), and a retry of an accepted one is answered.
    assert client.get(url).status_code == 200
    page = client.post(url, form(temperature="38.5"))
    assert page.status_code == 429 and "明天" in page.content.decode()


def test_opening_a_valid_link_is_not_counted(client, org, settings):
    # A whole plant behind one NAT opens its links; a page view stores nothing.
    settings.THROTTLE_LIMITS = {"link_token": (3, 60), "link_ip": (3, 60)}
    url = link_url(org)
    assert {client.get(url).status_code for _ in range(10)} == {200}
    assert {client.get(url + "state").status_code for _ in range(10)} == {200}
    assert {client.get(plain(url)).status_code for _ in range(10)} == {200}


def test_forged_tokens_are_throttled_per_address(client, settings):
    settings.THROTTLE_LIMITS = {"link_ip": (3, 60)}
    codes = [client.get(f"/health/d/forged-{n}:x/").status_code for n in range(2)]
    state = client.get("/health/d/forged-2:x/state")
    assert codes == [404, 404] and state.status_code == 404
    refused = client.post("/health/d/forged-3:x/declare", form(), content_type="application/json")
    assert refused.status_code == 429 and refused.json()["code"] == "throttled"
    assert int(refused["Retry-After"]) >= 1


def test_division_search_is_public_and_cacheable(client, db):
    response = client.get(reverse("health:divisions"), {"q": "zdq"})
    names = [row["name"] for row in response.json()["results"]]
    assert response.status_code == 200 and "public" in response["Cache-Control"]
    assert any("张店区" in name for name in names)


# ------------------------------------------------------------------ proxy screen


def household_with_members(org):
    admin = org.user("group_admin", org.group)
    members = [
        person_create(actor=admin, unit=org.household, name=name, id_number=valid_resident_id(seed))
        for name, seed in (("王芳", 31), ("刘洋", 32))
    ]
    # A member employed elsewhere belongs to the household through Person.household.
    org.person_b.household = org.household
    org.person_b.save(update_fields=["household"])
    return members


def test_proxy_screen_lists_the_household_all_normal_by_default(client, org, login_as):
    household_with_members(org)
    login_as("grid_worker", org.community)
    page = client.get(reverse("health:proxy", args=[org.household.pk])).content.decode()
    for name in ("王芳", "刘洋", "李娜"):
        assert name in page
    assert page.count('-include" value="1" checked') == 3
    assert page.count('value="36.5"') == 3


def test_proxy_screen_submits_one_batch_and_shows_who_declared(client, org, login_as):
    wang, liu = household_with_members(org)
    declare_yesterday(org, liu, temperature="36.9")
    worker = login_as("grid_worker", org.community)
    url = reverse("health:proxy", args=[org.household.pk])
    data = {"division": ZIBO_ZHANGDIAN}
    for person in (wang, liu, org.person_b):
        data.update(
            {
                f"p{person.pk}-include": "1",
                f"p{person.pk}-uuid": str(uuid.uuid4()),
                f"p{person.pk}-temperature": "36.5",
                f"p{person.pk}-division": "top",
            }
        )
    data[f"p{wang.pk}-temperature"] = "38.5"  # the exception
    data[f"p{liu.pk}-division"] = "110105"  # kept from the last declaration
    response = client.post(url, data)
    assert response.status_code == 302
    today = Declaration.objects.filter(day=timezone.localdate())
    assert today.count() == 3 and set(today.values_list("proxy", flat=True)) == {worker.pk}
    assert today.get(person=wang).status == "yellow"
    assert today.get(person=liu).division_id == "110105"
    assert today.get(person=org.person_b).division_id == ZIBO_ZHANGDIAN
    # The retried batch (same UUIDs) stores nothing twice.
    client.post(url, data, HTTP_ACCEPT="application/json")
    assert Declaration.objects.filter(day=timezone.localdate()).count() == 3
    page = client.get(url).content.decode()
    assert page.count("data-declared") == 3 and "checked> <strong>" not in page


def test_proxy_row_errors_are_shown_next_to_the_person(client, org, login_as):
    wang, liu = household_with_members(org)
    login_as("grid_worker", org.community)
    url = reverse("health:proxy", args=[org.household.pk])
    data = {"division": ZIBO_ZHANGDIAN}
    for person, temperature in ((wang, "45"), (liu, "37.1")):
        data.update(
            {
                f"p{person.pk}-include": "1",
                f"p{person.pk}-uuid": str(uuid.uuid4()),
                f"p{person.pk}-temperature": temperature,
                f"p{person.pk}-division": "top",
            }
        )
    response = client.post(url, data)
    page = response.content.decode()
    assert response.status_code == 422
    # Each row keeps what was typed; the refused one has the focus and its message under it.
    row = page[
        page.index(f'id="row-{wang.pk}"') : page.index(
            "<details", page.index(f'id="row-{wang.pk}"')
        )
    ]
    assert 'value="45"' in row and "autofocus" in row
    assert "体温" in row[row.index("data-row-errors") :]
    assert 'value="37.1"' in page
    data.pop(f"p{liu.pk}-include")
    json_response = client.post(url, data, HTTP_ACCEPT="application/json")
    assert json_response.status_code == 422
    assert Declaration.objects.count() == 0


def test_proxy_screen_is_404_outside_the_scope_and_403_without_the_role(client, org, login_as):
    login_as("grid_worker", org.ent_a)
    assert client.get(reverse("health:proxy", args=[org.household.pk])).status_code == 404
    login_as("viewer", org.group)
    assert client.get(reverse("health:proxy", args=[org.household.pk])).status_code == 404
    assert client.get(reverse("health:proxy_units")).status_code == 403


def test_proxy_units_lists_the_scope_and_searches(client, org, login_as):
    login_as("grid_worker", org.community)
    assert "翠溪北区" in client.get(reverse("health:proxy_units")).content.decode()
    page = client.get(reverse("health:proxy_units"), {"q": "101"}).content.decode()
    assert "1单元101室" in page


def test_qr_sheet_issues_missing_links_and_prints_codes(client, org, login_as):
    household_with_members(org)
    login_as("grid_worker", org.community)
    url = reverse("health:qr_sheet", args=[org.household.pk])
    assert client.get(url).content.decode().count("data:image/svg+xml") == 0
    client.post(url)
    assert PersonLink.objects.filter(revoked_at__isnull=True).count() == 3
    assert client.get(url).content.decode().count("data:image/svg+xml") == 3


# ------------------------------------------------------------------ status pages


def test_person_health_page_shows_status_history_and_the_link(client, org, login_as):
    declare_yesterday(org, org.person_a, temperature="36.4")
    actor = org.user("grid_worker", org.group)
    services.declarations_submit(actor=actor, items=[raw_declaration(org.person_a)])
    services.declarations_submit(
        actor=actor, items=[raw_declaration(org.person_a, temperature="37.8")]
    )
    login_as("grid_worker", org.ent_a)
    url = reverse("health:person", args=[org.person_a.pk])
    page = client.get(url).content.decode()
    assert 'data-status="yellow"' in page and "发热" in page
    assert page.count("<tr") == 4  # header + today, today superseded, yesterday
    client.post(reverse("health:person_link", args=[org.person_a.pk, "issue"]))
    page = client.get(url).content.decode()
    link = PersonLink.objects.get(revoked_at__isnull=True)
    assert link_token(link) in page and "data:image/svg+xml" in page
    client.post(reverse("health:person_link", args=[org.person_a.pk, "revoke"]))
    assert not PersonLink.objects.filter(revoked_at__isnull=True).exists()
    assert AuditLog.objects.filter(object_type="health.personlink", action="delete").exists()


def test_person_health_page_is_404_outside_the_subtree(client, org, login_as):
    login_as("grid_worker", org.ent_a)
    assert client.get(reverse("health:person", args=[org.person_b.pk])).status_code == 404
    login_as("viewer", org.group)  # sees people, not their health
    assert client.get(reverse("health:person", args=[org.person_a.pk])).status_code == 404


def test_a_tracker_sees_health_but_cannot_touch_links(client, org, login_as):
    login_as("tracker", org.ent_a)
    url = reverse("health:person", args=[org.person_a.pk])
    assert "personal-link" not in client.get(url).content.decode()
    response = client.post(reverse("health:person_link", args=[org.person_a.pk, "issue"]))
    assert response.status_code == 403 and not PersonLink.objects.exists()


def test_declarations_list_filters_searches_and_stays_in_scope(client, org, login_as):
    actor = org.user("grid_worker", org.group)
    services.declarations_submit(
        actor=actor,
        items=[
            raw_declaration(org.person_a, temperature="38.0"),
            raw_declaration(org.person_b),
        ],
    )
    login_as("reporter", org.ent_a)
    page = client.get(reverse("health:declarations")).content.decode()
    assert "张伟" in page and "李娜" not in page
    login_as("reporter", org.group)
    page = client.get(reverse("health:declarations"), {"status": "yellow"}).content.decode()
    assert "张伟" in page and "李娜" not in page
    page = client.get(reverse("health:declarations"), {"q": "ln"}).content.decode()
    assert "李娜" in page and "张伟" not in page
    page = client.get(reverse("health:declarations"), {"unit": "B"}).content.decode()
    assert "李娜" in page and "张伟" not in page
    login_as("reporter", org.ent_a)
    assert client.get(reverse("health:declarations"), {"unit": "B"}).status_code == 404
    login_as("viewer", org.group)
    assert client.get(reverse("health:declarations")).status_code == 403


def test_declarations_export_is_scoped_and_audited(client, org, login_as):
    actor = org.user("grid_worker", org.group)
    services.declarations_submit(
        actor=actor,
        items=[raw_declaration(org.person_a, temperature="38.0"), raw_declaration(org.person_b)],
    )
    user = login_as("reporter", org.ent_a)
    response = client.get(reverse("health:declarations_export"), {"format": "csv"})
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert len(rows) == 2 and rows[1][1] == "张伟" and "发热" in rows[1][11]
    entry = AuditLog.objects.get(action="export", object_type="health.declaration")
    assert entry.actor == user and entry.after["rows"] == 1
    assert entry.scope_path == org.ent_a.path
    login_as("grid_worker", org.ent_a)  # sees health data, may not export
    assert client.get(reverse("health:declarations_export")).status_code == 403


def test_navigation_shows_the_health_entries_by_role(client, org, login_as):
    login_as("grid_worker", org.ent_a)
    page = client.get(reverse("health:declarations")).content.decode()
    assert reverse("health:proxy_units") in page
    login_as("viewer", org.group)
    page = client.get(reverse("orgs:tree")).content.decode()
    assert reverse("health:declarations") not in page


def test_declarations_list_shows_today_unless_the_day_is_cleared(client, org, login_as):
    declare_yesterday(org, org.person_a)
    login_as("reporter", org.ent_a)
    assert "张伟" not in client.get(reverse("health:declarations")).content.decode()
    assert "张伟" not in client.get(reverse("health:declarations"), {"page": "1"}).content.decode()
    page = client.get(reverse("health:declarations"), {"day": ""}).content.decode()
    assert "张伟" in page
