"""Each role logs in on a phone (390×844), lands on today's work and follows every count
to its list, which shows as many rows as the count said."""

from pathlib import Path

import pytest

from fangkong.ledger.models import Item
from fangkong.orgs.services import person_create
from fangkong.testing import CHROMIUM, PASSWORD, PHONE, build_org, valid_resident_id
from fangkong.tracking.tests.helpers import open_card_for

from .conftest import declare
from .test_home import ROLES

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Chromium is not installed"),
]

ROWS = "main table tbody tr:not(:has(td[colspan])), .worklist > li[id^=item-]"


def busy(org) -> None:
    """Something in the lists: a fever and a cough, an overdue card, one awaiting approval,
    a resident of the household not declared yet."""
    person_create(
        actor=None,
        unit=org.plant_b,
        name="王芳",
        id_number=valid_resident_id(3),
        household=org.household,
    )
    declare(org.person_a, temperature="38.6")
    declare(org.person_b, symptoms=["cough"])
    Item.objects.filter(pk=open_card_for(org.person_a).pk).update(is_overdue=True)
    Item.objects.filter(pk=open_card_for(org.person_b).pk).update(state="closing")


def log_in(phone, base: str, username: str) -> None:
    phone.context.clear_cookies()
    phone.goto(base + "/accounts/login/")
    phone.fill("#id_username", username)
    phone.fill("#id_password", PASSWORD)
    with phone.expect_navigation():
        phone.click(".login button[type=submit]")


def test_each_role_lands_on_todays_work_and_every_count_opens_its_rows(
    live_server, reference_data, phone
):
    org = build_org()
    busy(org)
    base = live_server.url
    for role, unit in ROLES:
        user = org.user(role, getattr(org, unit))
        log_in(phone, base, user.username)
        assert phone.url.rstrip("/") == base, (role, phone.url)
        assert phone.locator("main section.home-section").count() >= 1, role
        # Nothing wider than the phone.
        assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], role
        counts = [
            (a.get_attribute("href"), int(a.get_attribute("data-count") or 0))
            for a in phone.locator("main a.count").all()
        ]
        for href, n in counts:
            phone.goto(base + "/")
            with phone.expect_navigation() as navigation:
                phone.locator(f'main a.count[href="{href}"]').first.click()
            assert navigation.value.status == 200, (role, href)
            if "/reports/rollup/" in href or "unit=" in phone.url.split("?")[-1]:
                continue  # figures of the roll-up, or the one unit's report page
            assert phone.locator(ROWS).count() == n, (role, href, n)
