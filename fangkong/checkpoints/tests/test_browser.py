"""On a phone (390×844): a guard types an ID number and a fever at the gate; the refusal
and its reason show at once, in the log too, and nothing overflows the phone's width.

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
from fangkong.testing import CHROMIUM, CHROMIUM_ARGS, PASSWORD, PHONE, build_org

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
            page.fill("#e-id", org.person_a.id_number)
            page.fill("#e-temp", "37.6")
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
