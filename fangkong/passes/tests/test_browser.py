"""The holder's pass page in a real browser at a phone's size (390×844): the device key,
the moving code every 30 seconds, a replayed screenshot refused, a revoked pass removed.

Debian's Chromium through Playwright against the live server. ``page.clock`` moves the
phone's time; time_machine puts the server at noon so the day's pass has hours to run.
Each code is read back from a real screenshot of the page with zxing-cpp.
"""

import datetime as dt
from pathlib import Path

import pytest
import time_machine
from django.utils import timezone

from fangkong.health import services as health_services
from fangkong.health.selectors import link_token
from fangkong.health.tests.factories import raw_declaration
from fangkong.testing import CHROMIUM, build_org, read_qr_codes

from .. import format as fmt
from ..models import Pass
from ..verify import MESSAGES, OK, STALE_PROOF, Policy, verify
from .factories import served_trust_list

pytestmark = [
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Chromium is not installed"),
]
GATE = Policy(zones=frozenset({"A1"}))


def shown_code(phone) -> str:
    """The code on screen, decoded from a screenshot of the page as a camera would."""
    png = phone.screenshot()
    [text] = read_qr_codes(png)
    assert text == phone.get_attribute("#pass-qr", "data-code")
    return text


def next_code(phone, previous: str) -> str:
    phone.wait_for_function(
        "prev => document.getElementById('pass-qr').dataset.code !== prev", arg=previous
    )
    return shown_code(phone)


def check(code: str, at: float):
    return verify(code, trust_list=served_trust_list(), revoked=set(), now=at, policy=GATE)


def window_middle(code: str) -> float:
    _text, proof = fmt.split_moving_code(code)
    assert proof is not None
    return proof.window * fmt.WINDOW_SECONDS + fmt.WINDOW_SECONDS / 2


def test_the_moving_code_changes_every_30_seconds_and_a_replay_is_stale(
    live_server, reference_data, phone
):
    noon = timezone.make_aware(dt.datetime.combine(timezone.localdate(), dt.time(12)))
    with time_machine.travel(noon, tick=True):
        org = build_org()
        worker = org.user("grid_worker", org.group)
        token = link_token(health_services.link_issue(actor=worker, person=org.person_a))
        phone.clock.install(time=noon)
        phone.goto(f"{live_server.url}/passes/p/{token}/")

        # The key is made, posted and certified; the page then shows the moving code.
        phone.wait_for_selector("#pass-moving:not([hidden])")
        phone.wait_for_function(
            "document.getElementById('pass-qr').dataset.code.startsWith('FK1P:')"
        )
        row = Pass.objects.get(person=org.person_a, revoked_at=None)
        assert len(row.device_key) == 130 and row.daily
        assert phone.is_hidden("#pass-assurance")
        assert "张*" in phone.inner_text("#pass-holder")
        first = shown_code(phone)

        phone.clock.fast_forward("00:30")
        second = next_code(phone, first)
        assert fmt.split_moving_code(second)[1].window == fmt.split_moving_code(first)[1].window + 1

        phone.clock.fast_forward("02:00")
        live = next_code(phone, second)
        at = window_middle(live)
        assert at - window_middle(first) >= 120
        assert check(live, at).reason == OK
        stale = check(first, at)
        assert stale.reason == STALE_PROOF
        assert stale.message == str(MESSAGES[STALE_PROOF])  # 动态码已过期，请出示手机实时通行码

        # A fever: the page drops the pass at its next refresh and says why.
        health_services.declarations_submit(
            actor=worker, items=[raw_declaration(org.person_a, temperature="38.4")]
        )
        phone.clock.fast_forward("00:06")
        phone.wait_for_selector("#pass-refused:not([hidden])")
        assert phone.is_hidden("#pass-live")
        assert phone.get_attribute("#pass-qr", "data-code") == ""
        assert phone.inner_text("#pass-reason").strip()
