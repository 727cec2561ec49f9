"""The holder's daily pass: issued on the phone page while the status admits it, revoked
the moment it stops (a fever, a placement, a card), and the page says why."""

import datetime as dt
import json

import pytest
import time_machine
from cryptography.hazmat.primitives.asymmetric import ec
from django.utils import timezone
from django.utils.html import escape

from fangkong.health import services as health_services
from fangkong.health.selectors import link_token
from fangkong.health.tests.factories import raw_declaration
from fangkong.quarantine.models import Mode
from fangkong.quarantine.services import placement_start
from fangkong.quarantine.tests.factories import make_site
from fangkong.tracking import services as tracking_services

from .. import daily, services
from .. import format as fmt
from ..models import Pass
from ..verify import OK, STALE_PROOF, STATUS, Policy
from .factories import scan

pytestmark = pytest.mark.django_db
WORKSHOP_GATE = Policy(zones=frozenset({"A1"}))


def phone_url(org, person=None) -> str:
    worker = org.user("grid_worker", org.group)
    link = health_services.link_issue(actor=worker, person=person or org.person_a)
    return f"/passes/p/{link_token(link)}/"


def declare(org, temperature: str, person=None) -> None:
    health_services.declarations_submit(
        actor=org.user("grid_worker", org.group),
        items=[raw_declaration(person or org.person_a, temperature=temperature)],
    )


def test_the_phone_page_issues_todays_pass_that_expires_at_the_end_of_the_day(client, org):
    response = client.get(phone_url(org))
    assert response.status_code == 200
    row = Pass.objects.get(person=org.person_a)
    assert row.daily and row.kind == "person" and row.holder_display == "张*"
    end = timezone.make_aware(dt.datetime.combine(timezone.localdate(), dt.time.min))
    assert row.valid_until == end + dt.timedelta(days=1)
    assert row.zones == ["A", "A1", "A1W1"]
    state = response.context["state"]
    assert state["active"] and state["text"].startswith("FK1:")
    assert scan(state["text"], policy=WORKSHOP_GATE).reason == OK
    assert "张*" in response.content.decode() and response["Cache-Control"] == "private, no-store"
    # Opening the page again shows the same pass, not a new one.
    client.get(phone_url(org))
    assert Pass.objects.filter(person=org.person_a).count() == 1


def test_a_fever_declaration_revokes_the_days_pass_and_the_page_stops_showing_it(client, org):
    url = phone_url(org)
    text = client.get(url).context["state"]["text"]
    declare(org, "38.2")
    row = Pass.objects.get(person=org.person_a)
    assert row.revoked_at is not None and row.revoked_by is None
    verdict = services.verify_online(text, policy=WORKSHOP_GATE)
    assert (verdict.reason, verdict.detail) == (STATUS, "live_status")
    page = client.get(url)
    assert not page.context["state"]["active"] and "text" not in page.context["state"]
    assert escape(str(daily.REFUSALS["status"])) in page.content.decode()
    assert 'id="pass-qr"' in page.content.decode() and "<img" not in page.content.decode()
    state = client.get(url + "state").json()
    assert state["active"] is False and state["reason"] == str(daily.REFUSALS["status"])
    assert Pass.objects.filter(person=org.person_a).count() == 1  # none issued meanwhile


def test_a_placement_revokes_the_pass_and_the_page_says_why(client, org):
    url = phone_url(org)
    client.get(url)
    site, rooms = make_site(org.ent_a)
    placement_start(
        actor=None,
        person=org.person_a,
        mode=Mode.CENTRALISED,
        level="high",
        start=timezone.localdate(),
        site=site,
        room=rooms["101"],
    )
    assert Pass.objects.get(person=org.person_a).revoked_at is not None
    assert client.get(url + "state").json()["reason"] == str(daily.REFUSALS["placement"])


def test_an_abnormal_person_card_opened_by_hand_revokes_the_pass(client, org):
    url = phone_url(org)
    client.get(url)
    tracking_services.card_open(actor=None, person=org.person_a, reason="同住人确诊")
    assert Pass.objects.get(person=org.person_a).revoked_at is not None
    assert client.get(url + "state").json()["reason"] == str(daily.REFUSALS["card"])


def test_a_pass_revoked_by_an_admin_is_not_issued_again_that_day(client, org):
    url = phone_url(org)
    client.get(url)
    row = Pass.objects.get(person=org.person_a)
    services.pass_revoke(org.user("unit_admin", org.ent_a), row, "离职")
    state = client.get(url + "state").json()
    assert state["active"] is False and "离职" in state["reason"]
    assert Pass.objects.filter(person=org.person_a).count() == 1


def test_the_next_day_brings_a_new_pass(client, org):
    url = phone_url(org)
    client.get(url)
    tomorrow = timezone.make_aware(
        dt.datetime.combine(timezone.localdate() + dt.timedelta(days=1), dt.time(7, 30))
    )
    with time_machine.travel(tomorrow):
        assert client.get(url + "state").json()["active"]
        assert Pass.objects.filter(person=org.person_a, daily=True).count() == 2


def test_posting_the_phone_key_binds_the_pass_and_a_replayed_code_is_stale(client, org):
    url = phone_url(org)
    plain = client.get(url).context["state"]
    device = ec.generate_private_key(ec.SECP256R1())
    point = fmt.public_point(device.public_key())
    response = client.post(
        url + "device-key", json.dumps({"key": point.hex()}), content_type="application/json"
    )
    assert response.status_code == 200
    bound = response.json()
    assert bound["device_key"] == point.hex() and bound["pass_id"] != plain["pass_id"]
    # The plain pass is revoked: its screenshot stops working.
    assert Pass.objects.get(pass_id=plain["pass_id"]).revoked_at is not None
    pass_id = bytes.fromhex(bound["pass_id"])
    now = timezone.now().timestamp()
    live = fmt.moving_code(bound["text"], fmt.prove(device, pass_id, fmt.window_of(now)))
    old = fmt.moving_code(bound["text"], fmt.prove(device, pass_id, fmt.window_of(now - 120)))
    assert scan(live, policy=WORKSHOP_GATE).reason == OK
    assert scan(old, policy=WORKSHOP_GATE).reason == STALE_PROOF
    assert scan(bound["text"], policy=WORKSHOP_GATE).reason == STALE_PROOF  # no proof at all
    # The same key again changes nothing.
    again = client.post(
        url + "device-key", json.dumps({"key": point.hex()}), content_type="application/json"
    ).json()
    assert again["pass_id"] == bound["pass_id"]


def test_a_bad_device_key_is_refused_with_a_4xx_and_the_pass_stays(client, org):
    url = phone_url(org)
    client.get(url)
    response = client.post(
        url + "device-key", json.dumps({"key": "04" + "00" * 64}), content_type="application/json"
    )
    assert response.status_code == 422 and "key" in response.json()["detail"]
    response = client.post(url + "device-key", "not json", content_type="application/json")
    assert 400 <= response.status_code < 500
    assert Pass.objects.get(person=org.person_a).revoked_at is None


def test_a_forged_token_opens_nothing(client, org):
    assert client.get("/passes/p/forged:token/").status_code == 404
    assert client.get("/passes/p/forged:token/state").status_code == 404
    assert not Pass.objects.exists()


def test_the_declaration_page_links_to_the_pass(client, org):
    url = phone_url(org)
    token = url.split("/")[3]
    # The page's script puts the state's address of the pass on its button.
    assert client.get(f"/health/d/{token}/state").json()["pass_url"] == url
    page = client.get(f"/health/d/{token}/?plain=1").content.decode()
    assert f'href="{url}"' in page
