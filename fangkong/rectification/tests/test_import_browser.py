"""The problem-list import in Chromium, on a phone and a desktop: a refused row blocks the
list, the corrected list is registered, and each registered problem links to its item."""

from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import time_machine
from playwright.sync_api import sync_playwright

from fangkong.rectification.models import Problem
from fangkong.testing import CHROMIUM, CHROMIUM_ARGS, PASSWORD, PHONE, at, build_org

from .test_import import IMPORT_DAY, _audit_list, _row, _xlsx

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Chromium is not installed"),
]
DESKTOP = {"width": 1280, "height": 800}


@pytest.fixture(autouse=True)
def _allow_orm_beside_playwright(monkeypatch):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(autouse=True)
def _on_the_import_day():
    """The list's dates are counted from the import day; the clock ticks on from there."""
    with time_machine.travel(at("2026-09-30", "16:00"), tick=True):
        yield


def _log_in(page: "Page", base: str, username: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    with page.expect_navigation():
        page.click(".login button[type=submit]")


def _upload(page: "Page", base: str, unit_pk: int, path: Path) -> None:
    page.goto(f"{base}/rectification/import/")
    page.select_option("#id_assigning_unit", str(unit_pk))
    page.set_input_files("#id_file", str(path))
    with page.expect_navigation():
        page.click("#upload-list")


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_import_a_problem_list_in_the_browser(
    live_server, reference_data, settings, tmp_path, viewport
):
    settings.MEDIA_ROOT = tmp_path / "media"
    org = build_org()
    user = org.user("supervisor", org.ent_a)
    rows = _audit_list(org, IMPORT_DAY)
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(_xlsx([*rows, _row(title="坏的一行", unit="NOPE", due="5个工作日")]))
    good = tmp_path / "good.xlsx"
    good.write_bytes(_xlsx(rows))
    shots = tmp_path / "shots"
    shots.mkdir()

    base = live_server.url
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport=viewport, locale="zh-CN")
            context.set_default_timeout(15_000)
            page = context.new_page()
            _log_in(page, base, user.username)
            page.goto(f"{base}/rectification/import/")
            assert page.locator("#import-template").count() == 1
            page.screenshot(path=str(shots / "upload.png"), full_page=True)

            _upload(page, base, org.ent_a.pk, bad)
            errors = page.locator("#import-errors tbody tr")
            assert errors.count() == 1
            assert errors.first.locator("td").nth(0).inner_text().strip() == "5"
            assert errors.first.locator("td").nth(1).inner_text().strip() == "责任单位"
            assert page.locator("#commit-import").count() == 0
            assert page.locator("#import-blocked").is_visible()
            page.screenshot(path=str(shots / "refused.png"), full_page=True)
            assert Problem.objects.count() == 0

            _upload(page, base, org.ent_a.pk, good)
            assert page.locator("#import-good tbody tr").count() == 3
            page.screenshot(path=str(shots / "preview.png"), full_page=True)
            with page.expect_navigation():
                page.click("#commit-import")
            assert page.locator("#import-nothing-new").is_visible()
            assert page.locator("#import-already tbody tr").count() == 3
            page.screenshot(path=str(shots / "done.png"), full_page=True)
            link = page.locator("#import-already a", has_text="厂区路灯损坏")
            with page.expect_navigation():
                link.click()
            assert "厂区路灯损坏" in page.locator("h1").inner_text()
        finally:
            browser.close()
    assert Problem.objects.count() == 3
