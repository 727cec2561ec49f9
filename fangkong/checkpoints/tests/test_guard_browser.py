"""The guard's scanner on a phone (390×844, Chromium): a shift without network, records
that survive a browser restart and lost answers, and a phone clock that is wrong.

The codes are fed through the app's photo fallback (a camera is not there in a test), as
QR images of real passes signed by the server's keys.
"""

import datetime as dt
import os
from pathlib import Path

import pytest
from django.utils import timezone, translation
from django.utils.translation import gettext
from playwright.sync_api import expect, sync_playwright

from fangkong.accounts.roles import Role
from fangkong.testing import CHROMIUM, CHROMIUM_ARGS, PASSWORD, PHONE, build_org, until_true

from .. import services
from ..models import GateEvent
from .factories import make_gate
from .guard_passes import Shown, issued, server_verdict, shift_of_passes, signed

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Chromium is not installed"),
]
PIN = "2580"
DAY = 24 * 3600


def zh(msgid: str) -> str:
    """What the scanner says, as the Chinese catalogue words it."""
    with translation.override("zh-hans"):
        return gettext(msgid)


@pytest.fixture(autouse=True)
def _allow_orm_beside_playwright(monkeypatch):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def _gate_with_guard():
    """Plant A1's gate 1 with a 12-hour post running now, the guard on it every day."""
    org = build_org()
    gate = make_gate(org.plant_a)
    guard = org.user(Role.GUARD, org.plant_a)
    hour = (timezone.localtime() - dt.timedelta(hours=1)).time().replace(minute=0, second=0)
    post = services.post_create(actor=None, checkpoint=gate, name="白班", starts_at=hour, hours=12)
    services.roster_set(actor=None, post=post, assignments=dict.fromkeys(range(7), guard))
    return org, gate, guard


def _log_in(page, base: str, guard) -> None:
    page.goto(f"{base}/guard/")
    page.fill("#id_username", guard.username)
    page.fill("#id_password", PASSWORD)
    with page.expect_navigation():
        page.click(".login button[type=submit]")


def _set_pin(page) -> None:
    expect(page.locator("#g-lock")).to_be_visible()
    for _ in range(2):
        page.fill("#g-pin", PIN)
        page.click("#g-pin-ok")
    expect(page.locator("#g-lock")).to_be_hidden()


def _synced(page, at_least: int) -> None:
    page.wait_for_function(f"+(document.body.dataset.syncs || 0) >= {at_least}")


def _syncs(page) -> int:
    return int(page.evaluate("+(document.body.dataset.syncs || 0)"))


def _sync_now(page) -> str:
    before = _syncs(page)
    page.click("#g-sync")
    _synced(page, before + 1)
    return page.evaluate("document.body.dataset.syncResult")


def _show(page, shown: Shown, seq: int) -> dict:
    page.set_input_files(
        "#g-file", files=[{"name": "code.png", "mimeType": "image/png", "buffer": shown.png}]
    )
    verdict = page.locator(f"#g-verdict[data-seq='{seq}']")
    expect(verdict).to_be_visible()
    return {
        "state": verdict.get_attribute("data-state"),
        "source": verdict.get_attribute("data-source"),
        "title": page.inner_text("#g-verdict-title"),
        "reason": page.inner_text("#g-verdict-reason"),
        "holder": page.inner_text("#g-verdict-holder"),
        "meta": page.inner_text(".g-verdict-meta"),
    }


def _screenshot(page, name: str) -> None:
    """Set FANGKONG_SCREENSHOTS to a directory to keep what the phone showed."""
    directory = os.environ.get("FANGKONG_SCREENSHOTS", "")
    if directory:
        page.screenshot(path=f"{directory}/guard-{name}.png")


def _queued(page) -> int:
    return int(page.get_attribute("#g-queue", "data-count") or 0)


def _phone(p, profile: Path, *, offline: bool = False):
    return p.chromium.launch_persistent_context(
        str(profile),
        executable_path=CHROMIUM,
        args=CHROMIUM_ARGS,
        viewport=PHONE,
        locale="zh-CN",
        is_mobile=True,
        has_touch=True,
        offline=offline,
    )


def test_a_shift_offline_is_recorded_exactly_once(
    live_server, transactional_db, reference_data, tmp_path
):
    org, gate, guard = _gate_with_guard()
    admin = org.user(Role.UNIT_ADMIN, org.ent_a)
    codes = shift_of_passes(admin, org.person_a, org.plant_a, ["A1"])
    policy = services.gate_policy(gate)
    with translation.override("zh-hans"):
        expected = [server_verdict(shown.text, policy) for shown in codes]
        messages = [verdict.message for verdict in expected]
    assert [v.reason for v in expected].count("ok") == 8
    base, profile = live_server.url, tmp_path / "phone"
    with sync_playwright() as p:
        # One online visit: log in, set the PIN, the lists come down, the app is cached.
        phone = _phone(p, profile)
        phone.set_default_timeout(15_000)
        page = phone.pages[0]
        _log_in(page, base, guard)
        _set_pin(page)
        _synced(page, 1)
        assert "1号门" in page.inner_text("#g-post")
        assert page.evaluate("navigator.serviceWorker.ready.then(() => true)")
        until_true(page, "caches.match('/guard/').then(Boolean)")

        # The network goes; the page is reloaded; twenty codes come to the gate.
        phone.set_offline(True)
        page.reload()
        expect(page.locator("body[data-ready='1']")).to_be_attached()
        expect(page.locator("#g-net")).to_have_attribute("data-online", "0")
        for seq, (shown, verdict, message) in enumerate(
            zip(codes, expected, messages, strict=True), start=1
        ):
            seen = _show(page, shown, seq)
            assert seen["source"] == "offline", seen
            assert zh("Checked offline") in seen["meta"], seen
            if verdict.ok:
                assert (seen["state"], seen["title"]) == ("ok", "准许通行"), (shown.label, seen)
                assert seen["holder"] in ("张*", "鲁C·***45"), seen
            else:
                assert seen["state"] == "refused", (shown.label, seen)
                assert seen["title"] == zh("Entry refused"), (shown.label, seen)
                assert seen["reason"] == message, (shown.label, seen)
            _screenshot(page, f"verdict-{seq:02d}-{shown.label}")
        page.click("#g-verdict")
        _screenshot(page, "offline")
        expect(page.locator("#g-queue")).to_have_attribute("data-count", "20")
        phone.close()

        # The browser is closed and opened again, still without network: all 20 wait.
        phone = _phone(p, profile, offline=True)
        phone.set_default_timeout(15_000)
        page = phone.pages[0]
        page.goto(f"{base}/guard/")
        expect(page.locator("body[data-ready='1']")).to_be_attached()
        assert _queued(page) == 20
        assert GateEvent.objects.count() == 0

        # Back online, but the answer is lost: first before the server saw the batch...
        page.route("**/api/v1/checkpoints/scans", lambda route: route.abort())
        phone.set_offline(False)
        _synced(page, 1)
        assert GateEvent.objects.count() == 0 and _queued(page) == 20

        # ...then after the server stored it.
        def answer_lost(route):
            route.fetch()
            route.abort()

        page.unroute("**/api/v1/checkpoints/scans")
        page.route("**/api/v1/checkpoints/scans", answer_lost)
        assert _sync_now(page) == "failed"
        assert GateEvent.objects.count() == 20 and _queued(page) == 20

        # The network is good again: the queue empties, and nothing is stored twice.
        page.unroute("**/api/v1/checkpoints/scans")
        assert _sync_now(page) == "ok"
        expect(page.locator("#g-queue")).to_have_attribute("data-count", "0")
        assert _sync_now(page) == "ok"
        phone.close()
    events = GateEvent.objects.order_by("at")
    assert events.count() == 20
    assert sorted(e.admitted for e in events) == [False] * 12 + [True] * 8
    assert {e.guard_id for e in events} == {guard.pk}
    # The holder from the server's record of the pass: not for a forged or unissued one.
    assert events.filter(person=org.person_a).count() == 13
    assert events.filter(plate="鲁C12345", kind="vehicle").count() == 1


def test_a_wrong_phone_clock_neither_admits_an_expired_pass_nor_refuses_a_valid_one(
    live_server, transactional_db, reference_data
):
    """The phone's clock is 3 hours ahead: the drift shows, and the verdicts follow the
    server's time. Set back later, it cannot bring a pass that has just expired back to
    life, not even after a reload."""
    org, _gate, guard = _gate_with_guard()
    admin = org.user(Role.UNIT_ADMIN, org.ent_a)
    now = timezone.now()
    zones = ["A1"]
    day_old = signed(org.plant_a, zones, start=now.timestamp() - 2 * DAY, end=now.timestamp() - DAY)
    hour = issued(admin, org.person_a, zones, valid_until=now + dt.timedelta(hours=1))[1]
    brief = issued(admin, org.person_a, zones, valid_until=now + dt.timedelta(seconds=8))
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport=PHONE, locale="zh-CN", is_mobile=True)
            context.set_default_timeout(15_000)
            page = context.new_page()
            page.clock.install(time=timezone.now() + dt.timedelta(hours=3))
            _log_in(page, live_server.url, guard)
            _set_pin(page)
            _synced(page, 1)
            expect(page.locator("#g-drift")).to_be_visible()
            assert "180" in page.inner_text("#g-drift")

            # Manual entry by ID number, online: no declaration today, refused with why.
            page.click("#g-manual summary")
            page.fill("#g-id-number", org.person_a.id_number)
            page.click("#g-manual-form button[type=submit]")
            expect(page.locator("#g-verdict[data-seq='1']")).to_be_visible()
            assert page.get_attribute("#g-verdict", "data-source") == "online"
            assert page.inner_text("#g-verdict-reason") == zh("No health declaration today.")

            # Online, a pass is also checked live, and recorded once at once.
            seen = _show(page, Shown("valid", hour), 2)
            assert (seen["state"], seen["source"]) == ("ok", "online"), seen
            assert zh("Checked online") in seen["meta"]
            expect(page.locator("#g-queue")).to_have_attribute("data-count", "0")
            assert GateEvent.objects.filter(source="scan").count() == 1

            context.set_offline(True)
            expired = zh("The pass has expired.")
            seen = _show(page, Shown("expired", day_old), 3)
            assert (seen["state"], seen["reason"]) == ("refused", expired), seen
            seen = _show(page, Shown("valid", hour), 4)  # expired by the phone's own clock
            assert (seen["state"], seen["source"]) == ("ok", "offline"), seen

            # A pass that has just expired, and the phone's clock put back 3 minutes.
            wait = (brief[0].valid_until - timezone.now()).total_seconds() + 1
            page.wait_for_timeout(max(0, wait) * 1000)
            back = page.evaluate("Date.now()") - 3 * 60 * 1000
            page.clock.set_system_time(dt.datetime.fromtimestamp(back / 1000, tz=dt.UTC))
            seen = _show(page, Shown("brief", brief[1]), 5)
            assert (seen["state"], seen["reason"]) == ("refused", expired), seen
            page.reload()
            expect(page.locator("body[data-ready='1']")).to_be_attached()
            seen = _show(page, Shown("brief", brief[1]), 1)
            assert (seen["state"], seen["reason"]) == ("refused", expired), seen

            # The phone sleeps for 3 minutes: the PIN is asked for, and a wrong one refused.
            _visibility(page, hidden=True)
            page.clock.fast_forward("03:00")
            _visibility(page, hidden=False)
            expect(page.locator("#g-lock[data-mode='enter']")).to_be_visible()
            page.fill("#g-pin", "1111")
            page.click("#g-pin-ok")
            expect(page.locator("#g-pin-note")).to_have_text(zh("Wrong PIN."))
            page.fill("#g-pin", PIN)
            page.click("#g-pin-ok")
            expect(page.locator("#g-lock")).to_be_hidden()
            assert _queued(page) == 4  # the offline scans wait for the network
        finally:
            browser.close()


def _visibility(page, *, hidden: bool) -> None:
    """What the phone does when its screen goes off (or on)."""
    page.evaluate(
        """hidden => {
          Object.defineProperty(document, "hidden", {configurable: true, get: () => hidden});
          document.dispatchEvent(new Event("visibilitychange"));
        }""",
        hidden,
    )
