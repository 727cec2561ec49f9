"""On a phone (390×844): a tracker records a check on a placement; the site shows occupancy."""

from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from fangkong.ledger.models import Entry
from fangkong.testing import CHROMIUM, CHROMIUM_ARGS, PASSWORD, PHONE, build_org

from .. import services
from ..models import Mode
from .factories import make_site

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Chromium is not installed")


@pytest.fixture(autouse=True)
def _allow_orm_beside_playwright(monkeypatch):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def test_tracker_records_a_check_on_a_phone(live_server, transactional_db):
    org = build_org()
    _site, rooms = make_site(org.ent_a)
    placement = services.placement_start(
        actor=None,
        person=org.person_a,
        mode=Mode.CENTRALISED,
        level="high",
        site=rooms["101"].site,
        room=rooms["101"],
    )
    tracker = org.user("tracker", org.ent_a)
    base = live_server.url
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport=PHONE, locale="zh-CN", is_mobile=True)
            context.set_default_timeout(10_000)
            page = context.new_page()
            page.goto(f"{base}/accounts/login/")
            page.fill("#id_username", tracker.username)
            page.fill("#id_password", PASSWORD)
            with page.expect_navigation():
                page.click(".login button[type=submit]")

            page.goto(f"{base}/quarantine/sites/")
            assert "铝城宾馆集中隔离观察点" in page.locator("#occupancy").inner_text()
            page.goto(f"{base}/quarantine/?q=张伟")
            with page.expect_navigation():
                page.get_by_role("link", name="张伟").click()
            page.fill("#c-temp", "36.8")
            with page.expect_navigation():
                page.click("#checks form[action$='/check/'] button[type=submit]")
            assert "36.8 °C" in page.content()
            # Nothing overflows the phone's width.
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 390 + 1, width
        finally:
            browser.close()
    assert Entry.objects.filter(item__object_id=placement.pk, value__isnull=False).count() == 1
