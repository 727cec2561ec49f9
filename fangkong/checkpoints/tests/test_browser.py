"""On a phone (390×844): a guard types an ID number and a fever at the gate; the refusal
and its reason show at once, in the log too, and nothing overflows the phone's width. A
visitor scans the visitor link off the host's screen and shows the pass on the phone.

Set FANGKONG_SCREENSHOTS to a directory to keep screenshots of the pages at phone and
desktop sizes.
"""

import datetime as dt
import os
from pathlib import Path

import pytest
import time_machine
from django.utils import timezone
from playwright.sync_api import sync_playwright

from fangkong.accounts.roles import Role
from fangkong.health import services as health
from fangkong.health.tests.factories import raw_declaration
from fangkong.passes.tests.factories import scan as offline_scan
from fangkong.passes.verify import OK, Policy
from fangkong.testing import (
    CHROMIUM,
    CHROMIUM_ARGS,
    PASSWORD,
    PHONE,
    build_org,
    read_qr_codes,
    valid_resident_id,
)

from .. import services
from ..models import GateEvent
from .factories import make_gate

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Chromium is not installed")
DESKTOP = {"width": 1366, "height": 900}


@pytest.fixture(autouse=True)
def _allow_orm_beside_playwright(monkeypatch):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture
def nine_in_the_morning():
    today = timezone.localdate()
    nine = dt.datetime.combine(today, dt.time(9), timezone.get_current_timezone())
    with time_machine.travel(nine, tick=True):
        yield


def test_a_guard_records_a_fever_on_a_phone(
    live_server, transactional_db, reference_data, nine_in_the_morning
):
    org = build_org()
    gate = make_gate(org.plant_a)
    guard = org.user(Role.GUARD, org.plant_a)
    post = services.post_create(actor=None, checkpoint=gate, name="白班")
    services.roster_set(actor=None, post=post, assignments=dict.fromkeys(range(7), guard))
    reporter = org.user(Role.REPORTER, org.ent_a)
    health.declarations_submit(actor=reporter, items=[raw_declaration(org.person_a)])
    shots = os.environ.get("FANGKONG_SCREENSHOTS", "")
    base = live_server.url
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport=PHONE, locale="zh-CN", is_mobile=True)
            context.set_default_timeout(10_000)
            page = context.new_page()
            page.goto(f"{base}/accounts/login/")
            page.fill("#id_username", guard.username)
            page.fill("#id_password", PASSWORD)
            with page.expect_navigation():
                page.click(".login button[type=submit]")
            assert "1号门" in page.locator("#todays-post").inner_text()
            page.goto(f"{base}/checkpoints/")
            page.fill("#e-id_number", org.person_a.id_number)
            page.fill("#e-temperature", "37.6")
            with page.expect_navigation():
                page.click("#manual-entry button[type=submit]")
            text = page.content()
            assert "张伟" in text and "37.6" in text
            assert page.locator("#gate-log .badge.bad").count() == 1
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 390 + 1, width
            if shots:
                _screenshots(page, base, shots, org)
        finally:
            browser.close()
    event = GateEvent.objects.get()
    assert (event.admitted, event.verdict) == (False, "fever")


def _screenshots(page, base: str, directory: str, org) -> None:
    paths = [
        "/",
        "/checkpoints/",
        "/checkpoints/refusals/",
        "/checkpoints/visitors/",
        "/checkpoints/rosters/",
        f"/checkpoints/sites/{org.plant_a.pk}/",
    ]
    for size, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
        page.set_viewport_size(viewport)
        for path in paths:
            page.goto(base + path)
            name = path.strip("/").replace("/", "-") or "home"
            page.screenshot(path=f"{directory}/{name}-{size}.png", full_page=True)


def test_a_visitor_scans_the_link_off_the_hosts_screen_and_shows_the_pass(
    live_server, transactional_db, reference_data, nine_in_the_morning
):
    """The host's screen shows the visitor link as a QR code; on the visitor's phone the
    link opens the pass, whose code a camera reads and the gate's verifier admits."""
    org = build_org()
    make_gate(org.plant_a)
    host = org.user(Role.REPORTER, org.plant_a)
    visitor = services.visitor_register(
        actor=host,
        site=org.plant_a,
        name="王芳",
        id_number=valid_resident_id(77),
        purpose="设备检修",
        day=timezone.localdate(),
        start=dt.time(8),
        end=dt.time(18),
    )
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            desk = browser.new_context(viewport=DESKTOP, locale="zh-CN")
            desk.set_default_timeout(10_000)
            screen = desk.new_page()
            screen.goto(f"{live_server.url}/accounts/login/")
            screen.fill("#id_username", host.username)
            screen.fill("#id_password", PASSWORD)
            with screen.expect_navigation():
                screen.click(".login button[type=submit]")
            screen.goto(f"{live_server.url}/checkpoints/visitors/{visitor.pk}/")
            url = screen.input_value("#visitor-link-url")
            assert read_codes(screen.locator("#visitor-link-qr").screenshot()) == [url]

            phone = browser.new_context(viewport=PHONE, locale="zh-CN", is_mobile=True)
            phone.set_default_timeout(10_000)
            page = phone.new_page()
            page.goto(url)
            assert page.get_attribute("#pass", "data-state") == "valid"
            assert "王*" in page.inner_text("#pass-holder")
            assert page.inner_text("#pass-window") == "08:00–18:00"
            code = page.get_attribute("#pass-qr", "data-code")
            assert read_codes(page.screenshot()) == [code]
            assert page.evaluate("document.documentElement.scrollWidth") <= 390 + 1
        finally:
            browser.close()
    verdict = offline_scan(code, policy=Policy(zones=frozenset({"G1", "A1"})))
    assert verdict.reason == OK


def read_codes(png: bytes) -> list[str]:
    """What a camera reads off a screenshot."""
    return read_qr_codes(png)
