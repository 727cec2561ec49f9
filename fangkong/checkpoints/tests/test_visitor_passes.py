"""A pre-registered visitor's one-day pass: issued with the registration, opened from the
visitor link (no log-in), scanned at the site's gate as the visit, refused once the visit
is cancelled, at a site with outsiders banned, or on another day."""

import datetime as dt
import io
import re

import openpyxl
import pytest
import time_machine
from django.core import signing
from django.urls import reverse
from django.utils import timezone

from fangkong.accounts.roles import Role
from fangkong.core.models import AuditLog
from fangkong.core.retention import local_midnight
from fangkong.passes.models import Pass, PassLink
from fangkong.passes.selectors import pass_link_token
from fangkong.passes.tests.factories import scan as offline_scan
from fangkong.passes.verify import OK, Policy
from fangkong.testing import valid_resident_id

from .. import services
from ..models import GateEvent, Verdict, Visitor
from .factories import make_gate

pytestmark = pytest.mark.django_db
PLANT_GATE = Policy(zones=frozenset({"G1", "A1"}))  # what gate G1 of plant A1 admits


@pytest.fixture
def gate(org):
    return make_gate(org.plant_a)


@pytest.fixture
def guard(org):
    return org.user(Role.GUARD, org.plant_a)


@pytest.fixture
def host(org):
    return org.user(Role.REPORTER, org.plant_a)


def register(org, host, **changes) -> Visitor:
    """A visit at plant A1 for the whole of today (so it is on at any hour of the run)."""
    fields = {
        "actor": host,
        "site": org.plant_a,
        "name": "王芳",
        "id_number": valid_resident_id(77),
        "phone": "13705330088",
        "purpose": "设备检修",
        "day": timezone.localdate(),
    }
    fields.update(changes)
    return services.visitor_register(**fields)


def link_url_on(page: str) -> str:
    found = re.search(r'id="visitor-link-url" value="([^"]+)"', page)
    assert found, "the visitor link is not on the page"
    return found.group(1)


def shown_code(page: str) -> str:
    found = re.search(r'id="pass-qr" class="pass-qr" data-code="([^"]+)"', page)
    assert found, "no pass code on the page"
    return found.group(1)


def state_of(page: str) -> str:
    found = re.search(r'<section id="pass" class="pass card" data-state="(\w+)"', page)
    assert found
    return found.group(1)


def pass_text_of(client, visitor: Visitor) -> str:
    """The code as the visitor shows it: read off the visitor link's page."""
    page = client.get(path_of(visitor)).content.decode()
    return shown_code(page)


def path_of(visitor: Visitor) -> str:
    link = PassLink.objects.get(issued_pass__pass_hash=visitor.pass_id_hash)
    return reverse("passes:link", args=[pass_link_token(link)])


def scan_at(guard, gate, code: str, direction: str = "in") -> GateEvent:
    event, _created = services.pass_scan(guard, checkpoint=gate, code=code, direction=direction)
    return event


# ------------------------------------------------------------------ registration


def test_a_pre_registration_issues_one_visitor_pass_with_its_link(org, gate, host, guard):
    visitor = register(org, host)
    row = Pass.objects.get()
    assert visitor.pass_id_hash == row.pass_hash
    assert (row.kind, row.holder_display, row.unit, row.zones) == (
        "visitor",
        "王*",
        org.plant_a,
        ["A1"],
    )
    assert (row.valid_from, row.valid_until) == (visitor.valid_from, visitor.valid_until)
    assert row.purpose == "设备检修" and row.person is None and not row.device_key
    assert PassLink.objects.filter(issued_pass=row).count() == 1
    # A walk-in is checked at the gate by ID number: no pass, no link.
    walk_in = register(org, guard, name="李强", id_number=valid_resident_id(78), walk_in=True)
    assert walk_in.pass_id_hash == "" and Pass.objects.count() == 1


def test_the_host_sees_the_link_and_its_page_shows_a_pass_that_verifies(client, org, gate, host):
    client.force_login(host)
    response = client.post(
        reverse("checkpoints:visitors"),
        {
            "site": org.plant_a.pk,
            "name": "王芳",
            "id_number": valid_resident_id(77),
            "purpose": "设备检修",
            "day": timezone.localdate().isoformat(),
        },
        follow=True,
    )
    visitor = Visitor.objects.get()
    assert response.redirect_chain[-1][0] == reverse("checkpoints:visitor", args=[visitor.pk])
    page = response.content.decode()
    url = link_url_on(page)
    assert url.startswith("http://testserver/passes/v/") and 'id="visitor-link-qr"' in page
    assert 'data-copy="visitor-link-url"' in page  # the copy button
    listing = client.get(reverse("checkpoints:visitors")).content.decode()
    assert 'class="visitor-link"' in listing

    client.logout()  # the visitor has no account: the link is the credential
    opened = client.get(url)
    assert opened.status_code == 200
    assert opened["Cache-Control"] == "private, no-store"
    assert opened["Referrer-Policy"] == "no-referrer"
    visitor_page = opened.content.decode()
    assert state_of(visitor_page) == "valid"
    assert "王*" in visitor_page and "王芳" not in visitor_page
    assert "电解铝厂" in visitor_page and "设备检修" in visitor_page
    assert valid_resident_id(77) not in visitor_page
    verdict = offline_scan(shown_code(visitor_page), policy=PLANT_GATE)
    assert verdict.reason == OK and verdict.claims.kind == "visitor"
    assert 'id="pass-assurance"' in visitor_page  # the gentle lower-assurance note


def test_the_api_answers_a_pre_registration_with_the_link_for_the_host_only(
    client, org, gate, host, guard
):
    client.force_login(host)
    created = client.post(
        "/api/v1/checkpoints/visitors",
        {
            "site_id": org.plant_a.pk,
            "name": "王芳",
            "id_number": valid_resident_id(77),
            "purpose": "送货",
            "day": timezone.localdate().isoformat(),
        },
        content_type="application/json",
    )
    assert created.status_code == 201
    body = created.json()
    assert body["pass_issued"] and not body["cancelled"]
    assert re.fullmatch(r"http://testserver/passes/v/[^/]+/", body["link_url"])
    assert client.get(body["link_url"]).status_code == 200
    # The guard sees the visit at the gate, but the link is the host's (or a site admin's).
    client.force_login(guard)
    listed = client.get("/api/v1/checkpoints/visitors").json()["items"]
    assert [item["link_url"] for item in listed] == [""]
    client.force_login(org.user(Role.UNIT_ADMIN, org.ent_a))
    listed = client.get("/api/v1/checkpoints/visitors").json()["items"]
    assert listed[0]["link_url"] == body["link_url"]


def test_a_visit_already_over_is_refused_with_the_reason(client, org, gate, host):
    today = timezone.localdate()
    evening = dt.datetime.combine(today, dt.time(19), timezone.get_current_timezone())
    client.force_login(host)
    with time_machine.travel(evening, tick=False):
        answer = client.post(
            "/api/v1/checkpoints/visitors",
            {
                "site_id": org.plant_a.pk,
                "name": "王芳",
                "id_number": valid_resident_id(77),
                "purpose": "送货",
                "day": today.isoformat(),
                "start": "08:00",
                "end": "18:00",
            },
            content_type="application/json",
        )
    assert answer.status_code == 422 and "end" in answer.json()["detail"]
    assert not Visitor.objects.exists() and not Pass.objects.exists()


# ------------------------------------------------------------------ at the gate


def test_a_scan_of_the_visitor_pass_admits_and_records_the_visit(client, org, gate, host, guard):
    visitor = register(org, host)
    code = pass_text_of(client, visitor)
    entered = scan_at(guard, gate, code)
    assert entered.admitted and entered.verdict == Verdict.OK
    assert entered.visitor == visitor and entered.kind == GateEvent.Kind.VISITOR
    assert entered.person is None and entered.pass_id_hash == visitor.pass_id_hash
    left = scan_at(guard, gate, code, direction="out")
    assert left.admitted and left.visitor == visitor


def test_with_outsiders_banned_the_guard_reads_why_the_visitor_is_refused(
    client, org, gate, host, guard
):
    visitor = register(org, host)
    code = pass_text_of(client, visitor)
    services.policy_update(
        actor=None, site=org.plant_a, admit_colours=["green"], outsiders_banned=True
    )
    client.force_login(guard)
    page = client.post(
        reverse("checkpoints:entry"),
        {"checkpoint": gate.pk, "direction": "in", "code": code},
        follow=True,
    ).content.decode()
    event = GateEvent.objects.get()
    assert (event.admitted, event.verdict, event.visitor) == (
        False,
        Verdict.OUTSIDERS_BANNED,
        visitor,
    )
    assert event.reason and event.reason in page
    assert "外来人员" in page


def test_a_cancelled_visits_pass_is_refused_as_revoked(client, org, gate, host, guard):
    visitor = register(org, host)
    code = pass_text_of(client, visitor)
    # Only the host or a site admin may cancel: the guard is refused.
    client.force_login(guard)
    refused = client.post(reverse("checkpoints:visitor_cancel", args=[visitor.pk]))
    assert refused.status_code == 403
    client.force_login(host)
    detail = client.get(reverse("checkpoints:visitor", args=[visitor.pk])).content.decode()
    assert 'id="visit-cancel"' in detail
    confirm = client.get(reverse("checkpoints:visitor_cancel", args=[visitor.pk]))
    assert confirm.status_code == 200 and 'id="cancel-confirm"' in confirm.content.decode()
    assert Visitor.objects.get().cancelled_at is None  # asking is not cancelling
    client.post(reverse("checkpoints:visitor_cancel", args=[visitor.pk]), {"reason": "改期"})
    visitor.refresh_from_db()
    row = Pass.objects.get()
    assert visitor.cancelled_at is not None and visitor.cancelled_by == host
    assert row.revoked_at is not None and "改期" in row.revoke_reason
    assert AuditLog.objects.filter(
        object_type="checkpoints.visitor", object_id=str(visitor.pk), actor=host
    ).exists()

    event = scan_at(guard, gate, code)
    assert (event.admitted, event.verdict, event.visitor) == (False, Verdict.REVOKED, visitor)
    client.logout()
    page = client.get(path_of(visitor)).content.decode()
    assert state_of(page) == "revoked" and "改期" in page and "data-code" not in page


def cancel_by_api(client, visitor: Visitor, body: object = None):
    """POST the cancel endpoint a JSON body, or none at all (the reason is optional)."""
    url = f"/api/v1/checkpoints/visitors/{visitor.pk}/cancel"
    if body is None:
        return client.generic("POST", url)
    return client.post(url, body, content_type="application/json")


def test_the_api_cancels_a_visit_as_its_page_does(client, org, gate, host, guard):
    visitor = register(org, host)
    code = pass_text_of(client, visitor)
    # The guard sees the visit but may not cancel it; another enterprise's admin does
    # not even learn that it exists.
    client.force_login(guard)
    refused = cancel_by_api(client, visitor)
    assert refused.status_code == 403 and refused.json()["code"] == "forbidden"
    client.force_login(org.user(Role.UNIT_ADMIN, org.ent_b))
    assert cancel_by_api(client, visitor).json()["code"] == "not_found"
    assert Visitor.objects.get().cancelled_at is None

    client.force_login(host)
    response = cancel_by_api(client, visitor, {"reason": "改期"})
    assert response.status_code == 200
    assert response.json()["id"] == visitor.pk and response.json()["cancelled"] is True
    visitor.refresh_from_db()
    row = Pass.objects.get()
    assert visitor.cancelled_by == host and visitor.cancel_reason == "改期"
    assert row.revoked_at is not None and "改期" in row.revoke_reason
    audits = AuditLog.objects.filter(
        object_type="checkpoints.visitor",
        object_id=str(visitor.pk),
        actor=host,
        action=AuditLog.Action.UPDATE,
    )
    assert audits.count() == 1
    # Sent again (a lost answer): the visit as it stands, nothing written twice.
    again = cancel_by_api(client, visitor, {"reason": "另一个理由"})
    assert again.status_code == 200 and again.json()["cancelled"] is True
    assert audits.count() == 1 and Visitor.objects.get().cancel_reason == "改期"

    event = scan_at(guard, gate, code)
    assert (event.admitted, event.verdict) == (False, Verdict.REVOKED)
    client.logout()
    assert state_of(client.get(path_of(visitor)).content.decode()) == "revoked"


def test_the_api_cancels_without_a_reason_when_no_body_is_sent(client, org, gate, host):
    visitor = register(org, host)
    client.force_login(org.user(Role.UNIT_ADMIN, org.ent_a))  # a site admin, not the host
    response = cancel_by_api(client, visitor)
    assert response.status_code == 200 and response.json()["cancelled"] is True
    assert Visitor.objects.get().cancel_reason == ""
    assert Pass.objects.get().revoked_at is not None


def test_the_api_refuses_to_cancel_a_visit_that_is_over(client, org, gate, host):
    visitor = register(org, host)
    client.force_login(host)
    next_noon = local_midnight(timezone.localdate() + dt.timedelta(days=1)) + dt.timedelta(hours=12)
    with time_machine.travel(next_noon, tick=False):
        response = cancel_by_api(client, visitor)
    assert response.status_code == 409
    assert response.json()["message"] == "该来访已结束，无需取消。"
    assert Visitor.objects.get().cancelled_at is None and Pass.objects.get().revoked_at is None


def test_the_api_answers_bad_cancel_requests_with_the_error_body(client, org, gate, host):
    visitor = register(org, host)
    client.force_login(host)
    too_long = cancel_by_api(client, visitor, {"reason": "改" * 201})
    unknown = client.post(
        "/api/v1/checkpoints/visitors/999999999/cancel", {}, content_type="application/json"
    )
    not_json = client.post(
        f"/api/v1/checkpoints/visitors/{visitor.pk}/cancel", "改期", content_type="text/plain"
    )
    form = client.post(f"/api/v1/checkpoints/visitors/{visitor.pk}/cancel", {"reason": "改期"})
    for response, status in ((too_long, 422), (unknown, 404), (not_json, 400), (form, 400)):
        assert response.status_code == status, response.content
        assert set(response.json()) == {"code", "message", "detail"}
    assert Visitor.objects.get().cancelled_at is None


def test_an_unknown_token_gets_the_missing_page_not_an_error(client, org):
    forged = signing.Signer(salt="fangkong.passes.link").sign("not-a-key")
    for token in ("nonsense", "abc:def", forged, "%E7%8E%8B" * 40):
        response = client.get(f"/passes/v/{token}/")
        assert response.status_code == 404, token
        assert 'id="link-missing"' in response.content.decode()
        assert response["Cache-Control"] == "private, no-store"


def test_the_page_on_another_day_shows_the_pass_expired(client, org, gate, host):
    visitor = register(org, host)
    path = path_of(visitor)
    next_noon = local_midnight(timezone.localdate() + dt.timedelta(days=1)) + dt.timedelta(hours=12)
    with time_machine.travel(next_noon, tick=False):
        page = client.get(path).content.decode()
    assert state_of(page) == "expired" and "data-code" not in page


def test_a_visit_tomorrow_shows_when_its_pass_starts(client, org, gate, host):
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    visitor = register(org, host, day=tomorrow, start=dt.time(9), end=dt.time(11, 30))
    page = client.get(path_of(visitor)).content.decode()
    assert state_of(page) == "not_yet_valid"
    assert f"{tomorrow:%Y-%m-%d} 09:00" in page and "09:00–11:30" in page
    assert shown_code(page).startswith("FK1:")  # to keep for the day


def test_an_offline_scan_of_a_visitor_pass_is_recorded_as_the_visit(client, org, gate, guard):
    """The offline scanner sends only the pass's hash: the server logs the visit it was for."""
    visitor = register(org, host=org.user(Role.REPORTER, org.plant_a))
    client.force_login(guard)
    scan = {
        "client_uuid": "5b0c3f9e-1d7a-4c55-9a43-0f5e2c1d9b21",
        "checkpoint_id": gate.pk,
        "direction": "in",
        "verdict": "ok",
        "pass_id_hash": visitor.pass_id_hash,
    }
    answer = client.post(
        "/api/v1/checkpoints/scans", {"scans": [scan]}, content_type="application/json"
    )
    assert answer.json()["results"][0]["status"] == "created"
    event = GateEvent.objects.get()
    assert event.visitor == visitor and event.kind == GateEvent.Kind.VISITOR


def test_the_visitors_export_shows_numbers_in_full_only_to_who_may_see_them(client, org):
    visitor = register(org, host=org.user(Role.REPORTER, org.plant_a))

    def exported_values(user) -> list[str]:
        client.force_login(user)
        response = client.get("/checkpoints/visitors/export/", {"format": "xlsx"})
        sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
        return [str(cell.value) for row in sheet.iter_rows() for cell in row]

    masked = exported_values(org.user(Role.SUPERVISOR, org.ent_a))
    assert "王芳" in masked and visitor.id_number not in masked and visitor.phone not in masked
    full = exported_values(org.user(Role.UNIT_ADMIN, org.ent_a))
    assert visitor.id_number in full and visitor.phone in full
    assert AuditLog.objects.filter(action=AuditLog.Action.EXPORT).count() == 2
