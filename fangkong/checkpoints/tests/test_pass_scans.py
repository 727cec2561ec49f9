"""A pass scanned at a checkpoint: verified online with the holder's live status, then
recorded in the gate's log with the verifier's verdict and the site's rules."""

import uuid

import pytest
from django.urls import reverse

from fangkong.accounts.roles import Role
from fangkong.health import services as health
from fangkong.health.tests.factories import raw_declaration
from fangkong.passes import daily
from fangkong.passes import services as passes

from .. import services
from ..models import GateEvent, Verdict
from .factories import make_gate

pytestmark = pytest.mark.django_db


@pytest.fixture
def gate(org):
    return make_gate(org.plant_a)


@pytest.fixture
def guard(org):
    return org.user(Role.GUARD, org.plant_a)


def todays_pass(person) -> str:
    row, why_not = daily.daily_pass(person)
    assert row is not None, why_not
    return passes.pass_text(row)


def scan_at(guard, gate, code, **fields):
    event, _created = services.pass_scan(
        guard, checkpoint=gate, code=code, direction="in", **fields
    )
    return event


def test_a_workers_daily_pass_admits_and_after_a_fever_declaration_is_refused_for_status(
    org, gate, guard
):
    text = todays_pass(org.person_a)
    admitted = scan_at(guard, gate, text)
    assert admitted.admitted and admitted.verdict == Verdict.OK
    assert admitted.person == org.person_a and admitted.pass_id_hash
    health.declarations_submit(
        actor=org.user("grid_worker", org.group),
        items=[raw_declaration(org.person_a, temperature="38.6")],
    )
    refused = scan_at(guard, gate, text)
    assert not refused.admitted and refused.verdict == Verdict.STATUS
    assert refused.person == org.person_a and "健康" in refused.reason


def test_a_pass_of_another_site_or_a_tampered_one_is_refused_with_its_reason(org, gate, guard):
    other = services.checkpoint_create(
        actor=None, site=org.plant_b, code="G2", name="2号门", zones=[]
    )
    text = todays_pass(org.person_a)
    elsewhere = scan_at(org.user(Role.GUARD, org.plant_b), other, text)
    assert elsewhere.verdict == Verdict.ZONE and not elsewhere.admitted
    tampered = text[:-3] + ("A" if text[-3] != "A" else "B") + text[-2:]
    forged = scan_at(guard, gate, tampered, temperature=None)
    assert forged.verdict in (Verdict.BAD_SIGNATURE, Verdict.MALFORMED)
    assert not forged.admitted and forged.person is None
    garbage = scan_at(guard, gate, "FK1P:not-a-code")
    assert garbage.verdict == Verdict.MALFORMED and "通行码" in garbage.reason


def test_a_checkpoint_that_refuses_printed_passes_says_so(org, gate, guard):
    services.policy_update(
        actor=None, site=org.plant_a, admit_colours=["green"], refuse_printed=True
    )
    _row, card = passes.pass_issue(
        None,
        kind="person",
        unit=org.plant_a,
        holder_display="张*",
        zones=["A1"],
        valid_from=daily.day_bounds(daily.timezone.localdate())[0],
        valid_until=daily.day_bounds(daily.timezone.localdate())[1],
        person=org.person_a,
        printed=True,
    )
    event = scan_at(guard, gate, card)
    assert event.verdict == Verdict.PRINTED_REFUSED and not event.admitted


def test_the_guards_form_and_the_api_record_a_scanned_pass_once(client, org, gate, guard):
    text = todays_pass(org.person_a)
    client.force_login(guard)
    page = client.post(
        reverse("checkpoints:entry"),
        {"checkpoint": gate.pk, "direction": "in", "code": text},
        follow=True,
    )
    assert "准许通行" in page.content.decode()
    key = str(uuid.uuid4())
    body = {"client_uuid": key, "checkpoint_id": gate.pk, "direction": "out", "code": text}
    first = client.post("/api/v1/checkpoints/pass-scans", body, content_type="application/json")
    again = client.post("/api/v1/checkpoints/pass-scans", body, content_type="application/json")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["verdict"] == "ok" and first.json()["id"] == again.json()["id"]
    assert GateEvent.objects.filter(checkpoint=gate).count() == 2
    # A guard of another plant does not see this checkpoint.
    client.force_login(org.user(Role.GUARD, org.plant_b))
    body["client_uuid"] = str(uuid.uuid4())
    outsider = client.post("/api/v1/checkpoints/pass-scans", body, content_type="application/json")
    assert outsider.status_code == 404
