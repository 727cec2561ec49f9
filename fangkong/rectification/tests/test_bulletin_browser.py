"""In Chromium, on a phone and a desktop: the office opens Monday's draft, writes its
paragraph, signs it off and sends it, confirming each step; the result shows on the page
and nothing overflows the screen."""

from pathlib import Path

import pytest
import time_machine
from playwright.sync_api import sync_playwright

from fangkong.rectification import bulletin
from fangkong.rectification.models import Bulletin
from fangkong.testing import CHROMIUM, CHROMIUM_ARGS, PASSWORD, PHONE, build_org

from .bulletin_helpers import MONDAY_MORNING, week_of_problems

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Chromium is not installed"),
]
DESKTOP = {"width": 1280, "height": 800}


@pytest.fixture(autouse=True)
def _allow_orm_beside_playwright(monkeypatch):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_the_office_signs_off_and_sends_mondays_bulletin(
    live_server, reference_data, tmp_path, viewport
):
    with time_machine.travel(MONDAY_MORNING, tick=True):
        org = build_org()
        week_of_problems(org)
        [draft_id, *_others] = bulletin.weekly_drafts()
        draft = Bulletin.objects.get(unit=org.ent_a)
        office = org.user("supervisor", org.ent_a)
        base = live_server.url
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                context = browser.new_context(
                    viewport=viewport, locale="zh-CN", is_mobile=viewport == PHONE
                )
                context.set_default_timeout(15_000)
                page = context.new_page()
                page.on("dialog", lambda dialog: dialog.accept())
                page.goto(f"{base}/accounts/login/")
                page.fill("#id_username", office.username)
                page.fill("#id_password", PASSWORD)
                with page.expect_navigation():
                    page.click(".login button[type=submit]")

                page.goto(f"{base}/rectification/bulletins/")
                assert "v1" in page.locator("#bulletins").inner_text()
                page.screenshot(path=tmp_path / "archive.png", full_page=True)
                page.goto(f"{base}/rectification/bulletins/{draft.pk}/")
                assert "消防通道堵塞" in page.locator("#red").inner_text()
                page.screenshot(path=tmp_path / "draft.png", full_page=True)
                # The overdue figure of the plant opens the problems it counts.
                page.locator("#figures tr", has_text="电解铝厂").locator("a").nth(4).click()
                page.wait_for_load_state()
                assert "车间照明不足" in page.locator("#counted").inner_text()
                page.screenshot(path=tmp_path / "counted.png", full_page=True)
                page.go_back()

                preface = "本周各单位整改总体平稳，请红色清单单位抓紧整改。"
                page.fill("#preface-form textarea", preface)
                with page.expect_navigation():
                    page.click("#preface-form button[type=submit]")
                with page.expect_navigation():
                    page.click("#sign")
                assert page.locator("#send").is_visible()
                with page.expect_navigation():
                    page.click("#send")
                status = page.locator("#status").inner_text()
                page.screenshot(path=tmp_path / "sent.png", full_page=True)
                width = page.evaluate("document.documentElement.scrollWidth")
                assert width <= viewport["width"] + 1, width
            finally:
                browser.close()
        draft.refresh_from_db()
        assert draft.status == Bulletin.Status.SENT and draft_id
        assert status == str(Bulletin.Status.SENT.label)
        assert draft.preface.startswith("本周各单位整改总体平稳")
