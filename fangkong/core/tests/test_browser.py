"""Wide tables in Chromium: headers stay on one line, and a table wider than the page
scrolls inside its own box (desktop) or stacks its cells with their labels (phone)."""

from pathlib import Path

import pytest
from django.urls import reverse
from playwright.sync_api import sync_playwright

from fangkong.accounts.roles import Role
from fangkong.health import services as health
from fangkong.health.tests.factories import raw_declaration
from fangkong.testing import CHROMIUM, CHROMIUM_ARGS, PASSWORD, build_org

pytestmark = [
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Chromium is not installed"),
]

PAGES = [
    ("orgs:people", ""),
    ("ledger:list", "abnormal"),
    ("health:declarations", ""),
    ("reports:board", ""),
    ("reports:rollup", ""),
    ("accounts:audit", ""),
]

# Header cells whose text runs over more than one line box.
WRAPPED_HEADERS = """() => [...document.querySelectorAll('thead th')].filter(th => {
  const range = document.createRange(); range.selectNodeContents(th);
  const tops = new Set([...range.getClientRects()].map(r => Math.round(r.top)));
  return tops.size > 1 && th.offsetParent !== null;
}).map(th => th.textContent)"""

# Cells a phone shows without saying which column they belong to (the first is the row's
# title and needs none).
UNLABELLED_CELLS = """() => [...document.querySelectorAll('table.responsive tbody tr')]
  .filter(tr => tr.cells.length > 1)
  .flatMap(tr => [...tr.cells].slice(1))
  .filter(td => !td.dataset.label && td.textContent.trim())
  .map(td => td.textContent.trim())"""


@pytest.fixture(autouse=True)
def _allow_orm_beside_playwright(monkeypatch):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def test_wide_tables_keep_headers_on_one_line_and_never_widen_the_page(live_server, reference_data):
    org = build_org()
    admin = org.user(Role.GROUP_ADMIN, org.group)
    declared = [raw_declaration(p, temperature="38.6") for p in (org.person_a, org.person_b)]
    health.declarations_submit(actor=admin, items=declared)
    urls = [reverse(name, args=[arg] if arg else []) for name, arg in PAGES]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for width, height in ((1366, 900), (390, 844)):
                context = browser.new_context(
                    viewport={"width": width, "height": height}, locale="zh-CN"
                )
                page = context.new_page()
                page.goto(live_server.url + reverse("accounts:login"))
                page.fill("#id_username", admin.username)
                page.fill("#id_password", PASSWORD)
                with page.expect_navigation():
                    page.click(".login button[type=submit]")
                for url in urls:
                    page.goto(live_server.url + url)
                    assert page.locator("table").count(), url
                    assert page.evaluate(WRAPPED_HEADERS) == [], (width, url)
                    overflow = page.evaluate(
                        "document.documentElement.scrollWidth - window.innerWidth"
                    )
                    assert overflow <= 0, (width, url, overflow)
                    if width < 640:
                        assert page.evaluate(UNLABELLED_CELLS) == [], url
                context.close()
        finally:
            browser.close()
