"""The phone form in a real browser at a phone's size: declare, see the status, go offline.

Drives Debian's Chromium through Playwright against pytest-django's live server, at a
390×844 viewport (a common phone). The offline test cuts the network in the browser,
submits, expects the declaration to be kept on the phone, restores the network and
expects exactly one declaration to arrive.
"""

import datetime as dt
from pathlib import Path

import pytest
from django.utils import timezone

from fangkong.health import services
from fangkong.health.models import Declaration
from fangkong.health.selectors import link_token
from fangkong.orgs.services import person_create
from fangkong.testing import CHROMIUM, PASSWORD, build_org, valid_resident_id

from .factories import ZIBO_ZHANGDIAN, raw_declaration

OUTBOX = "fangkong.outbox.v1"

pytestmark = [
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Chromium is not installed"),
]


def personal_link(org, person) -> str:
    worker = org.user("grid_worker", org.group)
    return f"/health/d/{link_token(services.link_issue(actor=worker, person=person))}/"


def test_declaring_a_fever_on_the_phone_shows_yellow(live_server, reference_data, phone):
    org = build_org()
    phone.goto(live_server.url + personal_link(org, org.person_a))
    assert "张伟" in phone.locator(".who").inner_text()

    # Find the place by pinyin initials through the public division search.
    phone.fill("#division-q", "zdq")
    phone.wait_for_selector(f"#division option[value='{ZIBO_ZHANGDIAN}']", state="attached")
    phone.select_option("#division", ZIBO_ZHANGDIAN)
    phone.fill("#temperature", "38.2")
    phone.check("input[name=symptoms][value=cough]")
    phone.click("#declare-submit")

    status = phone.wait_for_selector("#today-status[data-status=yellow]")
    assert status is not None
    text = status.inner_text()
    assert "黄" in text and "发热" in text and "有症状" in text
    phone.wait_for_selector("#outbox-notice[data-state=sent]")
    row = Declaration.objects.get()
    assert (str(row.temperature), row.status, row.division_id) == ("38.2", "yellow", ZIBO_ZHANGDIAN)
    assert sorted(row.reasons) == ["fever", "symptom"]
    assert phone.evaluate(f"localStorage.getItem('{OUTBOX}')") == "[]"


def test_a_submission_without_network_is_kept_and_sent_once_back_online(
    live_server, reference_data, phone
):
    org = build_org()
    yesterday = (timezone.localdate() - dt.timedelta(days=1)).isoformat()
    worker = org.user("grid_worker", org.group)
    services.declarations_submit(
        actor=worker, items=[raw_declaration(org.person_a, day=yesterday, temperature="36.6")]
    )
    phone.goto(live_server.url + personal_link(org, org.person_a))

    phone.context.set_offline(True)
    phone.click("#one-tap")
    phone.wait_for_selector("#outbox-notice[data-state=queued]")
    kept = phone.evaluate(f"JSON.parse(localStorage.getItem('{OUTBOX}'))")
    assert len(kept) == 1 and "temperature=36.6" in kept[0]["body"]
    assert not Declaration.objects.filter(day=timezone.localdate()).exists()

    phone.context.set_offline(False)
    phone.wait_for_selector("#outbox-notice[data-state=sent]", timeout=30_000)
    status = phone.wait_for_selector("#today-status[data-status=green]")
    assert status is not None
    today = Declaration.objects.filter(person=org.person_a, day=timezone.localdate())
    assert today.count() == 1 and str(today.get().temperature) == "36.6"
    assert str(today.get().uuid) == kept[0]["id"]
    assert phone.evaluate(f"localStorage.getItem('{OUTBOX}')") == "[]"


def test_a_grid_worker_declares_for_a_household_in_one_submit(live_server, reference_data, phone):
    org = build_org()
    admin = org.user("group_admin", org.group)
    members = [
        person_create(actor=admin, unit=org.household, name=name, id_number=valid_resident_id(n))
        for name, n in (("王芳", 41), ("刘洋", 42))
    ]
    worker = org.user("grid_worker", org.community)
    phone.goto(live_server.url + "/accounts/login/")
    phone.fill("#id_username", worker.username)
    phone.fill("#id_password", PASSWORD)
    with phone.expect_navigation():
        phone.click(".login button[type=submit]")

    phone.goto(live_server.url + f"/health/unit/{org.household.pk}/declare/")
    phone.fill("#division-q", "370303")
    phone.wait_for_selector(f"#division option[value='{ZIBO_ZHANGDIAN}']", state="attached")
    phone.fill(f"input[name=p{members[0].pk}-temperature]", "38.4")
    with phone.expect_navigation():
        phone.click("#proxy-submit")
    phone.wait_for_selector("[data-declared]")
    assert phone.locator("[data-declared]").count() == 2
    rows = Declaration.objects.filter(day=timezone.localdate()).order_by("person__name")
    assert [(r.person.name, r.status, r.proxy_id) for r in rows] == [
        ("刘洋", "green", worker.pk),
        ("王芳", "yellow", worker.pk),
    ]
