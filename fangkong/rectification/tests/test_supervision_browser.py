"""Supervision pages in Chromium, on a phone and a desktop: from the ledger item to an
order and its end, the list's table readable at both sizes."""

import datetime as dt
from pathlib import Path

import pytest
import time_machine
from django.urls import reverse
from playwright.sync_api import sync_playwright

from fangkong.accounts.roles import Role
from fangkong.core.tests.test_browser import UNLABELLED_CELLS, WRAPPED_HEADERS
from fangkong.rectification.models import SupervisionOrder
from fangkong.rectification.services import NewProblem, problem_register
from fangkong.testing import CHROMIUM, CHROMIUM_ARGS, PASSWORD, at, build_org

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Chromium is not installed"),
]


@pytest.fixture(autouse=True)
def _allow_orm_beside_playwright(monkeypatch):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(autouse=True)
def _tuesday_morning():
    """From 10:00 on Tuesday 3 November 2026, the clock ticking."""
    with time_machine.travel(at("2026-11-03", "10:00"), tick=True):
        yield


def test_an_item_is_put_under_supervision_and_ended_on_a_phone_and_a_desktop(
    live_server, reference_data, tmp_path
):
    org = build_org()
    supervisor = org.user(Role.SUPERVISOR, org.ent_a)
    today = dt.date(2026, 11, 3)
    items = [
        problem_register(
            actor=supervisor,
            new=NewProblem(
                title=title,
                unit=org.shop_a,
                assigning_unit=org.ent_a,
                due_on=today + dt.timedelta(days=days),
            ),
        ).item
        for title, days in (("一车间路灯不亮", 40), ("卫生间漏水整修", 1))
    ]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for n, (width, height) in enumerate(((390, 844), (1280, 800))):
                item = items[n]
                context = browser.new_context(
                    viewport={"width": width, "height": height}, locale="zh-CN"
                )
                page = context.new_page()
                page.on("dialog", lambda dialog: dialog.accept())
                page.goto(live_server.url + reverse("accounts:login"))
                page.fill("#id_username", supervisor.username)
                page.fill("#id_password", PASSWORD)
                with page.expect_navigation():
                    page.click(".login button[type=submit]")
                page.goto(live_server.url + reverse("ledger:item", args=[item.pk]))
                issue = reverse("rectification:supervision_issue", args=[item.pk])
                with page.expect_navigation():
                    page.click(f"a[href='{issue}']")
                page.screenshot(path=tmp_path / f"issue-{width}.png", full_page=True)
                page.select_option("#id_level", "key")
                page.fill("#id_due_on", "2026-11-05")
                page.fill("#id_note", "每周五前报送进展")
                with page.expect_navigation():
                    page.click("form.stacked button[type=submit]")
                order = SupervisionOrder.objects.get(item=item)
                assert page.url.endswith(
                    reverse("rectification:supervision_order", args=[order.pk])
                )
                assert page.locator(".messages .success").count() == 1  # the result is shown
                assert order.colour == "blue"  # due on Thursday: 2 working days left
                assert page.locator("h1 .badge.blue").count() == 1
                page.screenshot(path=tmp_path / f"order-{width}.png", full_page=True)

                page.goto(live_server.url + reverse("rectification:supervision_list"))
                assert page.evaluate(WRAPPED_HEADERS) == []
                overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
                assert overflow <= 0, (width, overflow)
                if width < 640:
                    assert page.evaluate(UNLABELLED_CELLS) == []
                page.screenshot(path=tmp_path / f"list-{width}.png", full_page=True)
                # A unit in a row is a link to the orders of that unit.
                with page.expect_navigation():
                    page.locator("td[data-label] a").first.click()
                assert "unit=" in page.url and page.locator("tbody tr").count() >= 1

                page.goto(
                    live_server.url + reverse("rectification:supervision_order", args=[order.pk])
                )
                page.fill("#end-reason", "已纳入月度考核")
                with page.expect_navigation():
                    page.click("form.filters button.danger")
                order.refresh_from_db()
                assert not order.is_active
                assert page.locator(".messages .success").count() == 1
                page.screenshot(path=tmp_path / f"ended-{width}.png", full_page=True)
                context.close()
        finally:
            browser.close()
