"""End-to-end in a real browser: log in, find a unit by pinyin initials, import people.

Drives Debian's Chromium through Playwright against pytest-django's live server. The task
queue runs synchronously under FANGKONG_ENV=test, so an upload is validated (and a commit
written) before the redirect to the job page answers.
"""

import re
from pathlib import Path
from typing import TYPE_CHECKING

import openpyxl
import pytest
from django.utils import translation
from django.utils.translation import gettext
from playwright.sync_api import sync_playwright

from fangkong.orgs import importing
from fangkong.orgs.models import ImportJob, Person
from fangkong.testing import CHROMIUM, CHROMIUM_ARGS, PASSWORD, build_org, valid_resident_id

if TYPE_CHECKING:
    from playwright.sync_api import Page


@pytest.fixture(autouse=True)
def _allow_orm_beside_playwright(monkeypatch):
    """Playwright's sync API runs an event loop in this thread; Django's ORM calls from the
    test body would otherwise be refused as "async unsafe"."""
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


NAMES = ["王芳", "刘洋", "陈静"]
BAD_ROW = 3  # spreadsheet row number (row 1 holds the headers)
SCREENSHOT = Path("/tmp/import-done.png")

pytestmark = [
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Chromium is not installed"),
]


def _people_workbook(path: Path, id_numbers: list[str]) -> Path:
    headers = importing.template_headers("people")
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(headers)
    for name, id_number in zip(NAMES, id_numbers, strict=True):
        row = dict.fromkeys(headers, "")
        row.update(
            {
                "姓名": name,
                "证件类型": "身份证",
                "证件号码": id_number,
                "所属单位编码": "A",
                "是否党员": "否",
            }
        )
        sheet.append([row[h] for h in headers])
    book.save(path)
    return path


def _wrong_check_digit(id_number: str) -> str:
    wrong = "0" if id_number[-1] != "0" else "1"
    return id_number[:-1] + wrong


def _upload(page: "Page", base: str, path: Path) -> None:
    page.goto(f"{base}/imports/")
    page.select_option("#id_kind", "people")
    page.fill("#id_unit_code", "A")
    page.set_input_files("#id_file", str(path))
    with page.expect_navigation():
        page.click("form[enctype='multipart/form-data'] button[type=submit]")
    assert re.search(r"/imports/\d+/$", page.url), page.url
    # Validation is synchronous in tests, but wait out htmx polling should it not be.
    page.wait_for_selector("#import-status:not([hx-get])", timeout=10_000)


def test_login_search_and_import_people(live_server, transactional_db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    org = build_org()
    user = org.user("unit_admin", org.group)
    people_before = Person.objects.count()

    good_ids = [valid_resident_id(seed) for seed in (101, 102, 103)]
    bad_ids = list(good_ids)
    bad_ids[BAD_ROW - 2] = _wrong_check_digit(good_ids[BAD_ROW - 2])
    bad_file = _people_workbook(tmp_path / "people-bad.xlsx", bad_ids)
    good_file = _people_workbook(tmp_path / "people-fixed.xlsx", good_ids)
    with translation.override("zh-hans"):
        check_digit_reason = gettext(
            "The check digit of the resident ID is wrong; please check the number."
        )

    base = live_server.url
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
            context.set_default_timeout(10_000)
            page = context.new_page()

            # Log in through the form.
            page.goto(f"{base}/")
            assert "/accounts/login/" in page.url
            page.fill("#id_username", user.username)
            page.fill("#id_password", PASSWORD)
            with page.expect_navigation():
                page.click(".login button[type=submit]")
            assert page.url.rstrip("/") == base, page.url  # the home page: today's work
            page.goto(f"{base}/units/")

            # Find the enterprise by its pinyin initials and open it.
            page.fill("#unit-search", "sdly")
            with page.expect_navigation():
                page.press("#unit-search", "Enter")
            results = page.locator("#search-results")
            link = results.get_by_role("link", name="山东铝业有限公司")
            assert link.count() == 1, results.inner_text()
            with page.expect_navigation():
                link.click()
            assert page.locator("h1").inner_text().strip().startswith("山东铝业有限公司")
            assert f"/units/{org.ent_a.pk}/" in page.url

            # Upload a file with one bad resident ID: the bad row is listed, nothing written.
            _upload(page, base, bad_file)
            errors = page.locator("#import-errors tbody tr")
            assert errors.count() == 1, page.locator("#import-status").inner_text()
            cells = errors.first.locator("td")
            assert cells.nth(0).inner_text().strip() == str(BAD_ROW)
            assert cells.nth(1).inner_text().strip() == "证件号码"
            assert cells.nth(2).inner_text().strip() == bad_ids[BAD_ROW - 2]
            assert check_digit_reason in cells.nth(3).inner_text()
            status = page.locator("#import-status").inner_text()
            assert re.search(r"3\D+1", status), status  # "3 rows checked, 1 rejected"
            assert page.locator("a[href$='/rejected/']").count() == 1
            assert page.locator("#commit-import").count() == 0
            job = ImportJob.objects.latest("pk")
            assert (job.status, job.rows_total, job.rows_bad) == (ImportJob.Status.PREVIEW, 3, 1)
            assert Person.objects.count() == people_before

            # Upload the corrected file: nothing rejected, commit, all three written.
            _upload(page, base, good_file)
            assert page.locator("#import-errors").count() == 0
            status = page.locator("#import-status").inner_text()
            assert re.search(r"3\D+0", status), status  # "3 rows checked, 0 rejected"
            with page.expect_navigation():
                page.click("#commit-import")
            done = page.wait_for_selector("#import-done")
            assert done is not None and "3" in done.inner_text()
            page.screenshot(path=str(SCREENSHOT), full_page=True)
        finally:
            browser.close()

    assert Person.objects.count() == people_before + 3
    imported = Person.objects.filter(id_number__in=good_ids)
    assert sorted(imported.values_list("name", flat=True)) == sorted(NAMES)
    assert {p.unit_id for p in imported} == {org.ent_a.pk}
    assert {(p.id_number, p.name) for p in imported} == set(zip(good_ids, NAMES, strict=True))
