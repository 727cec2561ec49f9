"""The phone form in a real browser at a phone's size: declare, see the status, go offline.

Drives Debian's Chromium through Playwright against pytest-django's live server, at a
390×844 viewport (a common phone). The offline test cuts the network in the browser,
submits, expects the declaration to be kept on the phone, restores the network and
expects exactly one declaration to arrive.
"""

import datetime as dt
import json
from pathlib import Path

import pytest
import time_machine
from django.utils import timezone, translation
from django.utils.translation import gettext
from playwright.sync_api import expect

from fangkong.health import services
from fangkong.health.models import Declaration
from fangkong.health.selectors import link_token
from fangkong.orgs.services import person_create
from fangkong.testing import CHROMIUM, PASSWORD, at, build_org, until_true, valid_resident_id

from .factories import ZIBO_ZHANGDIAN, raw_declaration

# The page's outbox (static/js/declare.js), read in the page once the page has opened it.
OUTBOX = """() => new Promise((resolve, reject) => {
  const opening = indexedDB.open("fangkong-outbox");
  opening.onerror = () => reject(opening.error);
  opening.onsuccess = () => {
    const all = opening.result.transaction("outbox").objectStore("outbox").getAll();
    all.onsuccess = () => resolve(all.result);
    all.onerror = () => reject(all.error);
  };
})"""

pytestmark = [
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Chromium is not installed"),
]


def personal_link(org, person) -> str:
    worker = org.user("grid_worker", org.group)
    return f"/health/d/{link_token(services.link_issue(actor=worker, person=person))}/"


def test_declaring_a_fever_on_the_phone_shows_yellow(live_server, reference_data, phone):
    org = build_org()
    phone.goto(live_server.url + personal_link(org, org.person_a))
    # The page is the shell every person gets; the name (masked) and the unit come after.
    expect(phone.locator(".who")).to_contain_text("张*")
    expect(phone.locator(".who")).to_contain_text("一车间")
    assert "张伟" not in phone.content()

    # Find the place by pinyin initials through the public division search.
    phone.fill("#division-q", "zdq")
    phone.wait_for_selector(f"#division option[value='{ZIBO_ZHANGDIAN}']", state="attached")
    phone.select_option("#division", ZIBO_ZHANGDIAN)
    phone.fill("#temperature", "38.2")
    phone.check("input[name=symptoms][value=cough]")
    phone.click("#declare-submit")

    status = phone.wait_for_selector("#today-status[data-status=yellow]")
    assert status is not None
    text = status.inner_text()
    assert "黄" in text and "发热" in text and "有症状" in text
    phone.wait_for_selector("#outbox-notice[data-state=sent]")
    row = Declaration.objects.get()
    assert (str(row.temperature), row.status, row.division_id) == ("38.2", "yellow", ZIBO_ZHANGDIAN)
    assert sorted(row.reasons) == ["fever", "symptom"]
    assert phone.evaluate(OUTBOX) == []


def test_a_submission_without_network_is_kept_and_sent_once_back_online(
    live_server, reference_data, phone
):
    org = build_org()
    yesterday = (timezone.localdate() - dt.timedelta(days=1)).isoformat()
    worker = org.user("grid_worker", org.group)
    services.declarations_submit(
        actor=worker, items=[raw_declaration(org.person_a, day=yesterday, temperature="36.6")]
    )
    phone.goto(live_server.url + personal_link(org, org.person_a))

    phone.context.set_offline(True)
    phone.click("#one-tap")
    phone.wait_for_selector("#outbox-notice[data-state=queued]")
    kept = phone.evaluate(OUTBOX)
    assert len(kept) == 1 and json.loads(kept[0]["body"])["temperature"] == "36.6"
    assert not Declaration.objects.filter(day=timezone.localdate()).exists()

    phone.context.set_offline(False)
    phone.wait_for_selector("#outbox-notice[data-state=sent]", timeout=30_000)
    status = phone.wait_for_selector("#today-status[data-status=green]")
    assert status is not None
    today = Declaration.objects.filter(person=org.person_a, day=timezone.localdate())
    assert today.count() == 1 and str(today.get().temperature) == "36.6"
    assert str(today.get().uuid) == kept[0]["id"]
    assert phone.evaluate(OUTBOX) == []


def test_a_grid_worker_declares_for_a_household_in_one_submit(live_server, reference_data, phone):
    org = build_org()
    admin = org.user("group_admin", org.group)
    members = [
        person_create(actor=admin, unit=org.household, name=name, id_number=valid_resident_id(n))
        for name, n in (("王芳", 41), ("刘洋", 42))
    ]
    worker = org.user("grid_worker", org.community)
    phone.goto(live_server.url + "/accounts/login/")
    phone.fill("#id_username", worker.username)
    phone.fill("#id_password", PASSWORD)
    with phone.expect_navigation():
        phone.click(".login button[type=submit]")

    phone.goto(live_server.url + f"/health/unit/{org.household.pk}/declare/")
    phone.fill("#division-q", "370303")
    phone.wait_for_selector(f"#division option[value='{ZIBO_ZHANGDIAN}']", state="attached")
    phone.fill(f"input[name=p{members[0].pk}-temperature]", "38.4")
    with phone.expect_navigation():
        phone.click("#proxy-submit")
    phone.wait_for_selector("[data-declared]")
    assert phone.locator("[data-declared]").count() == 2
    rows = Declaration.objects.filter(day=timezone.localdate()).order_by("person__name")
    assert [(r.person.name, r.status, r.proxy_id) for r in rows] == [
        ("刘洋", "green", worker.pk),
        ("王芳", "yellow", worker.pk),
    ]


def in_view(page, selector: str) -> bool:
    """Whether the element lies wholly inside the phone's 390×844 viewport now.

    Within a pixel: scrolling to an element whose top falls between two pixels leaves it
    a fraction above the edge (-0.4 px), which nobody sees.
    """
    box = page.locator(selector).bounding_box()
    return box is not None and box["y"] > -1 and box["y"] + box["height"] < 845


def test_the_answer_to_a_declaration_is_in_view_after_submitting(
    live_server, reference_data, phone
):
    org = build_org()
    phone.goto(live_server.url + personal_link(org, org.person_a))
    phone.fill("#division-q", "370303")
    phone.wait_for_selector(f"#division option[value='{ZIBO_ZHANGDIAN}']", state="attached")
    phone.fill("#temperature", "38.2")
    phone.click("#declare-submit")  # at the bottom of a long form: the top is out of view

    phone.wait_for_selector("#today-status[data-status=yellow]")
    phone.wait_for_function("document.activeElement.id === 'today-status'")
    assert in_view(phone, "#today-status")
    status = phone.locator("#today-status").inner_text()
    row = Declaration.objects.get()
    assert "黄" in status and "发热" in status
    assert timezone.localtime(row.created_at).strftime("%H:%M") in status


def test_a_bad_temperature_is_shown_at_the_field_in_view(live_server, reference_data, phone):
    org = build_org()
    phone.goto(live_server.url + personal_link(org, org.person_a))
    phone.fill("#division-q", "370303")
    phone.wait_for_selector(f"#division option[value='{ZIBO_ZHANGDIAN}']", state="attached")
    phone.fill("#temperature", "45")
    phone.click("#declare-submit")

    # The page checks the field itself: the message stands under it, focused and in view.
    message = "#temperature ~ .errors[data-client-error]"
    phone.wait_for_selector(message)
    assert phone.evaluate("document.activeElement.id") == "temperature"
    assert in_view(phone, message) and in_view(phone, "#temperature")

    # What the server refuses (a page without the browser's limits) lands there too.
    phone.evaluate("document.getElementById('temperature').removeAttribute('max')")
    phone.click("#declare-submit")
    phone.wait_for_selector("#outbox-notice[data-state=rejected]")
    refused = phone.wait_for_selector(f"{message}:has-text('45')")
    assert refused is not None and "体温" in refused.inner_text()
    assert phone.evaluate("document.activeElement.id") == "temperature"
    assert in_view(phone, message)
    assert not Declaration.objects.exists()


def test_a_refused_row_of_the_proxy_form_is_shown_in_view(live_server, reference_data, phone):
    org = build_org()
    admin = org.user("group_admin", org.group)
    members = [
        person_create(actor=admin, unit=org.household, name=name, id_number=valid_resident_id(n))
        for name, n in (("王芳", 51), ("刘洋", 52), ("赵磊", 53), ("孙丽", 54), ("周杰", 55))
    ]
    worker = org.user("grid_worker", org.community)
    phone.goto(live_server.url + "/accounts/login/")
    phone.fill("#id_username", worker.username)
    phone.fill("#id_password", PASSWORD)
    with phone.expect_navigation():
        phone.click(".login button[type=submit]")

    phone.goto(live_server.url + f"/health/unit/{org.household.pk}/declare/")
    phone.fill("#division-q", "370303")
    phone.wait_for_selector(f"#division option[value='{ZIBO_ZHANGDIAN}']", state="attached")
    field = f"input[name=p{members[0].pk}-temperature]"
    phone.evaluate(f"document.querySelector('{field}').removeAttribute('max')")
    phone.fill(field, "45")
    phone.click("#proxy-submit")

    errors = f"#row-{members[0].pk} [data-row-errors] [data-client-error]"
    phone.wait_for_selector(errors)
    assert "体温" in phone.locator(errors).inner_text()
    assert phone.evaluate("document.activeElement.name") == f"p{members[0].pk}-temperature"
    assert in_view(phone, errors)
    assert phone.locator(field).input_value() == "45"
    assert not Declaration.objects.exists()


def test_a_revoked_link_says_so_instead_of_offering_the_form(live_server, reference_data, phone):
    org = build_org()
    url = personal_link(org, org.person_a)
    services.link_revoke(actor=org.user("grid_worker", org.group), person=org.person_a)
    phone.goto(live_server.url + url)
    expect(phone.locator("#link-missing")).to_be_visible()
    assert "网格员" in phone.locator("main").inner_text()
    assert not phone.locator("#declare-form").is_visible()


def test_without_javascript_the_link_opens_the_plain_page_and_one_tap_works(
    live_server, reference_data, phone
):
    org = build_org()
    yesterday = (timezone.localdate() - dt.timedelta(days=1)).isoformat()
    worker = org.user("grid_worker", org.group)
    services.declarations_submit(
        actor=worker, items=[raw_declaration(org.person_a, day=yesterday, temperature="36.7")]
    )
    context = phone.context.browser.new_context(
        viewport=phone.viewport_size, locale="zh-CN", java_script_enabled=False
    )
    plain = context.new_page()
    plain.goto(live_server.url + personal_link(org, org.person_a))
    plain.wait_for_url("**?plain=1")
    assert "张*" in plain.locator(".who").inner_text()
    with plain.expect_navigation():
        plain.click("#one-tap")
    assert plain.url.endswith("?sent=1#today-status")
    assert plain.locator("#today-status").get_attribute("data-status") == "green"
    today = Declaration.objects.get(person=org.person_a, day=timezone.localdate())
    assert str(today.temperature) == "36.7"
    context.close()


def _zh(msgid: str) -> str:
    """What the page says, as the Chinese catalogue words it."""
    with translation.override("zh-hans"):
        return gettext(msgid)


# This link's state as the phone keeps it (a promise: see testing.until_true).
STATE_COPY = (
    "caches.open('fangkong-declare-states').then(c => c.match(location.pathname + 'state'))"
)


# The text of the shell the service worker keeps for every link.
KEPT_SHELL = """caches.keys()
  .then(names => names.find(name => /^fangkong-declare-/.test(name) && !/-states$/.test(name)))
  .then(name => caches.open(name))
  .then(cache => cache.match("/health/d/"))
  .then(hit => hit.text())"""


def test_the_link_opens_offline_and_an_answer_made_there_arrives_once(
    live_server, reference_data, phone
):
    org = build_org()
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    worker = org.user("grid_worker", org.group)
    services.declarations_submit(
        actor=worker,
        items=[raw_declaration(org.person_a, day=yesterday.isoformat(), temperature="36.6")],
    )
    link = personal_link(org, org.person_a)
    # One visit with the network: the service worker keeps the shell and this link's state.
    phone.goto(live_server.url + link)
    expect(phone.locator(".who")).to_contain_text("张*")
    assert phone.evaluate("navigator.serviceWorker.ready.then(() => true)")
    until_true(phone, f"{STATE_COPY}.then(Boolean)")
    manifest = phone.evaluate("fetch('manifest.webmanifest').then(r => r.json())")
    assert manifest["start_url"] == "." and manifest["display"] == "standalone"
    # Opened again through the worker: what stands in for every link offline is still the
    # shared shell, never this person's page.
    phone.reload()
    expect(phone.locator(".who")).to_contain_text("张*")
    kept_shell = phone.evaluate(KEPT_SHELL)
    assert 'id="link-shell"' in kept_shell
    assert "link-state" not in kept_shell and "张*" not in kept_shell

    # No network: the link opens again, with the person's masked name and yesterday's answers.
    phone.context.set_offline(True)
    phone.reload()
    expect(phone.locator(".who")).to_contain_text("张*")
    assert "张伟" not in phone.content()
    expect(phone.locator("#one-tap")).to_be_visible()
    phone.click("#one-tap")
    notice = phone.locator("#outbox-notice[data-state=queued]")
    expect(notice).to_have_text(_zh("Saved. It is submitted by itself when the network is back."))
    mine = Declaration.objects.filter(person=org.person_a)
    assert not mine.filter(day__gt=yesterday).exists()

    # The network returns: the answer arrives once, and the page confirms it as usual.
    phone.context.set_offline(False)
    phone.wait_for_selector("#outbox-notice[data-state=sent]", timeout=30_000)
    expect(phone.locator("#today-status[data-status=green]")).to_be_visible()
    today = mine.filter(day__gt=yesterday, is_current=True)
    assert today.count() == 1 and str(today.get().temperature) == "36.6"

    # The phone's copy of the state took the answer in (nothing was read again): offline,
    # the link shows today's status and offers no second one tap.
    phone.context.set_offline(True)
    phone.reload()
    expect(phone.locator("#today-status[data-status=green]")).to_be_visible()
    assert not phone.locator("#one-tap").is_visible()
    phone.context.set_offline(False)

    # A reload and another "online" event send nothing more.
    phone.reload()
    expect(phone.locator("#today-status[data-status=green]")).to_be_visible()
    phone.evaluate("window.dispatchEvent(new Event('online'))")
    phone.wait_for_timeout(500)
    assert phone.evaluate(OUTBOX) == []
    assert mine.filter(day__gt=yesterday).count() == 1


def test_a_revoked_link_drops_the_phones_copy_of_its_state(live_server, reference_data, phone):
    org = build_org()
    link = personal_link(org, org.person_a)
    phone.goto(live_server.url + link)
    expect(phone.locator(".who")).to_contain_text("张*")
    assert phone.evaluate("navigator.serviceWorker.ready.then(() => true)")
    until_true(phone, f"{STATE_COPY}.then(Boolean)")
    services.link_revoke(actor=org.user("grid_worker", org.group), person=org.person_a)
    phone.reload()
    expect(phone.locator("#link-missing")).to_be_visible()
    until_true(phone, f"{STATE_COPY}.then(hit => !hit)")


def test_a_page_carrying_another_links_state_shows_this_links_own(
    live_server, reference_data, phone
):
    # What an older service worker may have kept as the shell of every link: person A's
    # page. Opened at person B's link, the page reads B's state instead of showing A's.
    org = build_org()
    link_a, link_b = personal_link(org, org.person_a), personal_link(org, org.person_b)
    page_a = phone.request.get(live_server.url + link_a).text()
    phone.route(
        live_server.url + link_b,
        lambda route: route.fulfill(body=page_a, content_type="text/html; charset=utf-8"),
    )
    phone.goto(live_server.url + link_b)
    expect(phone.locator(".who")).to_contain_text("李*")
    assert "张*" not in phone.locator(".who").inner_text()


def test_a_one_tap_made_before_midnight_and_sent_after_it_moves_the_copy_to_the_new_day(
    live_server, reference_data, phone
):
    # The tap is made offline at 23:59 and reaches the server at 00:01: the server files it
    # for the new day, and the phone's copy must follow, so that the new day's status shows
    # and the one tap is not offered again (static/js/declare.js, stateAnswered).
    org = build_org()
    worker = org.user("grid_worker", org.group)
    services.declarations_submit(
        actor=worker, items=[raw_declaration(org.person_a, day="2026-11-26", temperature="36.6")]
    )
    link = personal_link(org, org.person_a)
    before, after = at("2026-11-27", "23:59"), at("2026-11-28", "00:01")
    with time_machine.travel(before, tick=True):
        phone.clock.set_fixed_time(before)
        phone.goto(live_server.url + link)
        expect(phone.locator("#one-tap")).to_be_visible()
        assert phone.evaluate("navigator.serviceWorker.ready.then(() => true)")
        until_true(phone, f"{STATE_COPY}.then(Boolean)")
        phone.context.set_offline(True)
        phone.click("#one-tap")
        expect(phone.locator("#outbox-notice[data-state=queued]")).to_be_visible()
    with time_machine.travel(after, tick=True):
        phone.clock.set_fixed_time(after)
        phone.context.set_offline(False)
        phone.wait_for_selector("#outbox-notice[data-state=sent]", timeout=30_000)
        stored = Declaration.objects.get(person=org.person_a, is_current=True, day__gt="2026-11-26")
        assert stored.day == dt.date(2026, 11, 28)
        copy = phone.evaluate(f"{STATE_COPY}.then(hit => hit.json())")
        assert copy["today"] == "2026-11-28" and copy["status"]["day"] == "2026-11-28"
        assert copy["one_tap"] is False
        # Offline on the new day, the link shows that day's status and no second one tap.
        phone.context.set_offline(True)
        phone.reload()
        expect(phone.locator("#today-status[data-status=green]")).to_be_visible()
        assert not phone.locator("#one-tap").is_visible()
        phone.context.set_offline(False)
