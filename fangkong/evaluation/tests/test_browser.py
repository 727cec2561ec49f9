"""On a phone (390×844): a staff badge's QR code is scanned, the service chosen and rated
非常不满意 with tags; within 5 seconds the centre's WeCom robot (a local stand-in) has the
alert, delivered by the task queue (its pusher, worker and monitor run here as threads
over the same database, as a qcluster's processes do).

Set FANGKONG_SCREENSHOTS to a directory to keep screenshots at phone and desktop sizes.
"""

import io
import os
import queue
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import segno
from django.db import connections
from django_q.brokers import get_broker
from django_q.conf import Conf
from django_q.monitor import monitor
from django_q.pusher import pusher
from django_q.worker import worker

from fangkong.evaluation import services
from fangkong.evaluation.models import BadReview, Channel, Offering, Rating, Service
from fangkong.notify.models import ChannelKind, Event
from fangkong.notify.services import channel_create, subscription_create
from fangkong.notify.testing import RobotServer
from fangkong.testing import CHROMIUM, PASSWORD, PHONE, build_org, read_qr_codes

from .helpers import build_centre

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Chromium is not installed")
DESKTOP = {"width": 1280, "height": 800}
ALERT_WITHIN_SECONDS = 5


class _Timer:
    """What a worker process shares with its guard: the seconds left on its task."""

    def __init__(self) -> None:
        self.value = -1
        self._lock = threading.Lock()

    def get_lock(self) -> threading.Lock:
        return self._lock


@pytest.fixture
def task_queue(settings, monkeypatch) -> Iterator[None]:
    """The task queue for real: tasks go to the broker's table and a pusher, a worker and
    a monitor take them from there, as ``qcluster`` does."""
    monkeypatch.setattr(Conf, "SYNC", False)
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "sync": False}
    tasks: queue.Queue = queue.Queue()
    results: queue.Queue = queue.Queue()
    stop = threading.Event()
    broker = get_broker()

    def run(target, *args) -> threading.Thread:
        def body() -> None:
            try:
                target(*args)
            finally:
                connections.close_all()

        thread = threading.Thread(target=body, daemon=True)
        thread.start()
        return thread

    threads = [
        run(pusher, tasks, stop, broker),
        run(worker, tasks, results, _Timer()),
        run(monitor, results, broker),
    ]
    try:
        yield
    finally:
        stop.set()
        tasks.put("STOP")
        results.put("STOP")
        for thread in threads:
            thread.join(timeout=10)


def _decoded(url: str) -> str:
    """Render the badge's QR code as a PNG and read it back, as a phone camera would."""
    png = io.BytesIO()
    segno.make(url, error="m").save(png, kind="png", scale=6, border=4)
    png.seek(0)
    [code] = read_qr_codes(png)
    return code


def test_typing_a_word_no_service_matches_says_so(live_server, reference_data, phone):
    # With more than SEARCH_FROM services the scan page filters the list as one types.
    org = build_org()
    c = build_centre(org)
    for number in range(10):
        service = Service.objects.create(code=f"GA{number:03d}", name=f"户籍业务{number}")
        Offering.objects.create(service=service, unit=c.station, unit_path=c.station.path)
    badge = services.badge_issue(actor=c.head, unit=c.station, staff=c.staff)
    phone.goto(live_server.url + f"/e/b/{services.badge_token(badge)}/")
    no_match = phone.locator("#scan-nomatch")
    assert no_match.is_hidden()
    phone.fill("#scan-q", "公积金")
    assert no_match.is_visible() and "没有匹配的事项" in no_match.inner_text()
    assert phone.locator(".service-choice:visible").count() == 0
    phone.fill("#scan-q", "户籍")
    assert no_match.is_hidden() and phone.locator(".service-choice:visible").count() == 10


def test_a_badge_scanned_on_a_phone_and_rated_very_dissatisfied_alerts_the_robot(
    live_server, reference_data, phone, task_queue
):
    org = build_org()
    c = build_centre(org)
    badge = services.badge_issue(actor=c.head, unit=c.station, staff=c.staff)
    with RobotServer() as robot:
        channel = channel_create(
            actor=None,
            unit=c.centre,
            name="便民服务中心值班群",
            kind=ChannelKind.WECOM,
            webhook_url=robot.url(),
        )
        subscription_create(actor=None, channel=channel, unit=c.centre, event=Event.BAD_REVIEW)
        url = live_server.url + f"/e/b/{services.badge_token(badge)}/"
        phone.goto(_decoded(url))
        assert "王*红" in phone.locator("#scan-where").inner_text()
        with phone.expect_navigation():
            phone.get_by_role("button", name="社保参保登记").click()
        assert "/e/r/" in phone.url
        assert "社保参保登记" in phone.locator("#rate-case").inner_text()
        phone.locator("label[for=level-1]").click()
        phone.locator("label[for=tag-1-2]").click()  # 态度不好
        phone.locator("label[for=tag-1-3]").click()  # 多次跑腿
        phone.fill("#rate-text", "材料被退回三次")
        started = time.monotonic()
        with phone.expect_navigation():
            phone.click("#rate-submit")
        assert phone.locator("#rate-message.rate-thanks").count() == 1
        width = phone.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"] + 1, width
        while not robot.received and time.monotonic() - started < ALERT_WITHIN_SECONDS:
            time.sleep(0.1)
        received = list(robot.received)
    assert received, f"no alert within {ALERT_WITHIN_SECONDS} s"
    text = received[0].body["markdown"]["content"]
    assert "社保参保登记" in text and "态度不好" in text and "材料被退回三次" in text
    rating = Rating.objects.get()
    assert (rating.level, rating.channel) == (1, Channel.BADGE)
    assert rating.tags == ["态度不好", "多次跑腿"]
    assert BadReview.objects.get(rating=rating).item.is_open
    shots = os.environ.get("FANGKONG_SCREENSHOTS", "")
    if shots:
        _screenshots(phone, live_server.url, shots, c)


def _screenshots(page, base: str, directory: str, c) -> None:
    """The citizen's pages and the window's case pages, at phone and desktop sizes."""
    window_badge = services.badge_issue(actor=c.head, unit=c.station, window=c.window)
    case = services.case_register(actor=c.clerk, service=c.housing, person_name="李建国")
    public = {
        "scan": f"/e/b/{services.badge_token(window_badge)}/",
        "rate": f"/e/r/{services.case_token(case)}/",
        "kiosk": f"/e/k/{services.badge_token(window_badge)}/",
    }
    for size, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
        page.set_viewport_size(viewport)
        for name, path in public.items():
            page.goto(base + path)
            page.screenshot(path=f"{directory}/eval-{name}-{size}.png", full_page=True)
        page.goto(base + public["rate"])
        page.locator("label[for=level-2]").click()
        page.screenshot(path=f"{directory}/eval-rate-chosen-{size}.png", full_page=True)
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", c.clerk.username)
    page.fill("#id_password", PASSWORD)
    with page.expect_navigation():
        page.click(".login button[type=submit]")
    for size, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
        page.set_viewport_size(viewport)
        for name, path in (
            ("case-new", "/evaluation/cases/new/"),
            ("case", f"/evaluation/cases/{case.pk}/"),
            ("case-receipt", f"/evaluation/cases/{case.pk}/receipt/"),
        ):
            page.goto(base + path)
            page.screenshot(path=f"{directory}/eval-{name}-{size}.png", full_page=True)
