"""On a phone (390×844) and a desktop (1280×800): the owner reports progress on a problem
and sees it; the list and the figures fit the screen, their numbers open what they count."""

from pathlib import Path

import pytest
import time_machine
from playwright.sync_api import sync_playwright

from fangkong.testing import CHROMIUM, CHROMIUM_ARGS, PASSWORD, PHONE, at, build_org

from . import factories as f

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Chromium is not installed")
DESKTOP = {"width": 1280, "height": 800}


@pytest.fixture(autouse=True)
def _allow_orm_beside_playwright(monkeypatch):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(autouse=True)
def _wednesday_morning():
    """The problems are dated back from 10:00 on Wednesday 25 November 2026, the clock
    ticking on from there."""
    with time_machine.travel(at("2026-11-25", "10:00"), tick=True):
        yield


def _login(page, base: str, username: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    with page.expect_navigation():
        page.click(".login button[type=submit]")


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_the_owner_reports_progress_and_the_numbers_open_their_rows(
    live_server, reference_data, viewport
):
    org = build_org()
    lamps = f.problem(org, title="修复厂区路灯", target=698)
    f.assign(org, lamps)
    f.overdue(org, title="规范停车位")
    base = live_server.url
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(
                viewport=viewport, locale="zh-CN", is_mobile=viewport == PHONE
            )
            context.set_default_timeout(10_000)
            page = context.new_page()
            _login(page, base, f.owner_of(org).username)
            page.goto(f"{base}/rectification/{lamps.pk}/")
            page.fill("#form-progress textarea[name=note]", "更换灯具349盏")
            page.fill("#form-progress input[name^=done_]", "349")
            with page.expect_navigation():
                page.click("#form-progress button[type=submit]")
            assert "50%" in page.locator("#targets").inner_text()
            assert "更换灯具349盏" in page.locator("#history").inner_text()
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= viewport["width"] + 1, width

            context.clear_cookies()
            _login(page, base, org.user("supervisor", org.ent_a).username)
            page.goto(f"{base}/rectification/")
            with page.expect_navigation():
                page.click("[data-colour-count=red]")
            assert "规范停车位" in page.content() and "修复厂区路灯" not in page.content()
            page.goto(f"{base}/rectification/figures/?unit=A")
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= viewport["width"] + 1, width
            with page.expect_navigation():
                page.locator("tfoot [data-figure=overdue]").click()
            assert "规范停车位" in page.content() and "修复厂区路灯" not in page.content()
        finally:
            browser.close()
