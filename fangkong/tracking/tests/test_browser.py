"""A tracker works through the day's follow-ups on a phone (390×844) in a real browser.

Two cards opened yesterday from fevers are due (overdue) today, a third opened just now is
due tomorrow. The tracker records a follow-up with a temperature on each due card from
the ledger's worklist; each one leaves the list, and the third never shows.
"""

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from fangkong.ledger.keys import person_key
from fangkong.ledger.models import Entry, Item
from fangkong.ledger.services import NewItem, items_open_bulk
from fangkong.orgs.models import Person
from fangkong.orgs.services import person_create
from fangkong.testing import CHROMIUM, PASSWORD, PHONE, build_org, valid_resident_id
from fangkong.tracking.kinds import ABNORMAL

pytestmark = [
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Chromium is not installed"),
]


def open_cards(tracker, people: list[Person], opened_at: dt.datetime) -> list[Item]:
    person_type = ContentType.objects.get_for_model(Person)
    items_open_bulk(
        actor=None,
        kind=ABNORMAL,
        rows=[
            NewItem(
                subject=None,
                content_type=person_type,
                object_id=person.pk,
                unit=person.unit,
                title=f"{person.name}：发热",
                person=person,
                owner_ids=[tracker.pk],
                open_key=person_key(person.pk),
                opened_at=opened_at,
            )
            for person in people
        ],
    )
    return [Item.objects.get(open_key=person_key(person.pk), is_open=True) for person in people]


def test_a_tracker_works_through_the_days_follow_ups_on_a_phone(live_server, reference_data, phone):
    org = build_org()
    tracker = org.user("tracker", org.plant_a)
    second = person_create(
        actor=None, unit=org.shop_a, name="王芳", id_number=valid_resident_id(601)
    )
    later = person_create(
        actor=None, unit=org.shop_a, name="刘洋", id_number=valid_resident_id(602)
    )
    due = open_cards(tracker, [org.person_a, second], timezone.now() - dt.timedelta(hours=25))
    [not_due] = open_cards(tracker, [later], timezone.now())

    phone.goto(live_server.url + "/accounts/login/")
    phone.fill("#id_username", tracker.username)
    phone.fill("#id_password", PASSWORD)
    with phone.expect_navigation():
        phone.click(".login button[type=submit]")
    # The navigation fits the phone: grouped menus open on a tap and close on a tap elsewhere.
    ledgers = phone.locator("nav a[href='/ledger/']")
    assert not ledgers.is_visible()
    menu = phone.locator("nav details.menu", has=phone.locator("a[href='/ledger/']"))
    menu.locator("summary").click()
    assert ledgers.is_visible()
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    phone.locator("main").click(position={"x": 5, "y": 5})
    assert not ledgers.is_visible()
    phone.goto(live_server.url + "/ledger/today/")
    # Two cards due, and the one opened today (its first follow-up is due tomorrow) badged.
    assert phone.locator(".worklist > li[id^=item-]").count() == 3
    assert "今日新开" in phone.locator(f"#item-{not_due.pk}").inner_text()
    # Nothing wider than the phone: no sideways scrolling on the worklist.
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    for card, temperature in zip(due, ("37.9", "36.6"), strict=True):
        row = phone.locator(f"#item-{card.pk}")
        if row.locator("details").get_attribute("open") is None:
            row.locator("summary").click()
        row.locator(f"#fu-text-{card.pk}").fill("电话随访，本人无不适")
        row.locator(f"#fu-value-{card.pk}").fill(temperature)
        with phone.expect_navigation():
            row.locator("button[type=submit]").click()
        phone.wait_for_selector(f"#item-{card.pk}", state="detached")

    assert [
        row.get_attribute("id") for row in phone.locator(".worklist > li[id^=item-]").all()
    ] == [f"item-{not_due.pk}"]
    for card, temperature in zip(due, ("37.9", "36.6"), strict=True):
        entry = Entry.objects.get(item=card, kind=Entry.Kind.MEASUREMENT)
        assert (entry.value, entry.author_id) == (Decimal(temperature), tracker.pk)
        card.refresh_from_db()
        assert not card.is_overdue and card.next_due_at > timezone.now() + dt.timedelta(hours=23)
