"""/api/v1/passes: public lists with ETags, issuing and revoking in scope, online verify."""

import base64
import datetime as dt

import pytest
from django.utils import timezone

from fangkong.accounts.services import api_token_create
from fangkong.health import services as health_services
from fangkong.health.tests.factories import raw_declaration

from .. import format as fmt
from .. import services, trust
from ..models import PassKey
from ..vectors import DEVICE
from .factories import issue

pytestmark = pytest.mark.django_db


def window(hours: int = 12) -> dict:
    now = timezone.now()
    return {
        "valid_from": (now - dt.timedelta(minutes=1)).isoformat(),
        "valid_until": (now + dt.timedelta(hours=hours)).isoformat(),
    }


def issue_by_api(client, **body):
    payload = {"kind": "person", "zones": ["A1"], **window(), **body}
    return client.post("/api/v1/passes", payload, content_type="application/json")


def test_the_trust_list_is_public_signed_by_the_root_key_and_answers_304(client, org):
    issue(org)
    response = client.get("/api/v1/passes/trust-list")
    assert response.status_code == 200
    etag = response["ETag"]
    root = client.get("/api/v1/passes/root-key").json()
    parsed = trust.parse(response.json()["jws"], bytes.fromhex(root["hex"]))
    assert [key.unit for key in parsed.keys.values()] == ["A"]
    valid_until = dt.datetime.fromisoformat(response.json()["valid_until"])
    assert dt.timedelta(hours=47) < valid_until - timezone.now() <= dt.timedelta(hours=48)
    again = client.get("/api/v1/passes/trust-list", headers={"If-None-Match": etag})
    assert again.status_code == 304


def test_revocations_come_whole_or_as_a_delta_by_version(client, org):
    first, _text = issue(org)
    second, _text = issue(org)
    services.pass_revoke(None, first, "离职")
    kid = first.key.kid
    whole = client.get(f"/api/v1/passes/revocations?kid={kid}").json()
    assert (whole["version"], whole["full"], whole["count"]) == (1, True, 1)
    services.pass_revoke(None, second, "离职")
    delta = client.get(f"/api/v1/passes/revocations?kid={kid}&since=1")
    body = delta.json()
    assert (body["version"], body["full"], body["count"]) == (2, False, 1)
    assert base64.b64decode(body["hashes"]) == fmt.pass_hash(bytes.fromhex(second.pass_id))
    unchanged = client.get(
        f"/api/v1/passes/revocations?kid={kid}&since=1", headers={"If-None-Match": delta["ETag"]}
    )
    assert unchanged.status_code == 304
    assert client.get("/api/v1/passes/revocations?kid=0011223344556677").status_code == 404
    assert client.get("/api/v1/passes/revocations?kid=nonsense").status_code == 404


def test_an_admin_issues_a_person_pass_with_a_masked_name_and_a_device_key(client, org, login_as):
    login_as("unit_admin", org.ent_a)
    device = fmt.jwk_of(fmt.public_point(DEVICE.public_key()))
    response = issue_by_api(client, person_id=org.person_a.pk, device_key=device)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["holder_display"] == "张*" and body["device_bound"] and body["kid"]
    assert "13800138001" not in response.content.decode()
    assert fmt.decode(body["text"]).claims.holder == "张*"


def test_a_vehicle_pass_through_the_api_names_the_masked_plate(client, org, login_as):
    login_as("unit_admin", org.ent_a)
    response = issue_by_api(client, kind="vehicle", unit_id=org.plant_a.pk, plate="鲁CD12345")
    assert response.status_code == 201, response.content
    assert response.json()["holder_display"] == "鲁C·****45"
    bad = issue_by_api(client, kind="vehicle", unit_id=org.plant_a.pk, plate="鲁C1")
    assert bad.status_code == 422 and bad.json()["detail"]["plate"]


@pytest.mark.parametrize(
    "body",
    [
        {"valid_from": "2030-01-01T00:00:00", "valid_until": "2030-01-02T00:00:00"},
        {"zones": []},
        {"kind": "dog"},
        {"device_key": {"kty": "EC", "crv": "P-256", "x": "A" * 43, "y": "A" * 43}},
    ],
)
def test_bad_input_is_a_422_with_the_error_body(client, org, login_as, body):
    login_as("unit_admin", org.ent_a)
    response = issue_by_api(client, person_id=org.person_a.pk, **body)
    assert response.status_code == 422, response.content
    assert set(response.json()) == {"code", "message", "detail"}


def test_issuing_and_revoking_stay_in_scope(client, org, login_as):
    row, _text = issue(org)
    login_as("unit_admin", org.ent_b)
    assert issue_by_api(client, person_id=org.person_a.pk).status_code == 404
    revoke = client.post(
        f"/api/v1/passes/{row.pk}/revoke", {"reason": "x"}, content_type="application/json"
    )
    assert revoke.status_code == 404
    assert client.get("/api/v1/passes").json()["items"] == []
    login_as("guard", org.ent_a)
    assert issue_by_api(client, person_id=org.person_a.pk).status_code == 403
    login_as("unit_admin", org.ent_a)
    revoke = client.post(
        f"/api/v1/passes/{row.pk}/revoke", {"reason": "离职"}, content_type="application/json"
    )
    assert revoke.status_code == 200 and revoke.json()["revoked_at"]
    assert [p["id"] for p in client.get("/api/v1/passes?revoked=true").json()["items"]] == [row.pk]


def verify_by_token(client, user, text, **body):
    _token, key = api_token_create(actor=None, user=user, name="scanner")
    return client.post(
        "/api/v1/passes/verify",
        {"text": text, **body},
        content_type="application/json",
        headers={"Authorization": f"Bearer {key}"},
    )


def test_a_guard_verifies_online_and_a_fever_turns_the_answer_to_status(client, org):
    _row, text = issue(org)
    guard = org.user("guard", org.plant_a)
    ok = verify_by_token(client, guard, text, unit_id=org.plant_a.pk)
    assert ok.status_code == 200, ok.content
    assert ok.json()["reason"] == "ok" and ok.json()["holder"] == "张*"
    health_services.declarations_submit(
        actor=org.user("grid_worker", org.group),
        items=[raw_declaration(org.person_a, temperature="38.5")],
    )
    refused = verify_by_token(client, guard, text, unit_id=org.plant_a.pk)
    assert refused.json()["reason"] == "status" and not refused.json()["ok"]


def test_a_scanner_clock_far_off_is_warned(client, org):
    _row, text = issue(org)
    guard = org.user("guard", org.plant_a)
    scanner_time = timezone.now().timestamp() - 3600
    body = verify_by_token(client, guard, text, unit_id=org.plant_a.pk, scanner_time=scanner_time)
    assert body.json()["reason"] == "ok" and body.json()["warnings"] == ["clock_off"]


def test_only_gate_roles_over_the_unit_may_verify(client, org):
    _row, text = issue(org)
    reporter = verify_by_token(
        client, org.user("reporter", org.ent_a), text, unit_id=org.plant_a.pk
    )
    assert reporter.status_code == 403
    stranger = verify_by_token(client, org.user("guard", org.ent_b), text, unit_id=org.plant_a.pk)
    assert stranger.status_code == 404
    admin = verify_by_token(client, org.user("unit_admin", org.ent_a), text, unit_id=org.plant_a.pk)
    assert admin.status_code == 200
    assert (
        client.post(
            "/api/v1/passes/verify",
            {"text": text, "unit_id": org.plant_a.pk},
            content_type="application/json",
        ).status_code
        == 401
    )


def test_garbage_is_verified_as_malformed_not_an_error(client, org):
    guard = org.user("guard", org.plant_a)
    response = verify_by_token(client, guard, "FK1:%%%", unit_id=org.plant_a.pk)
    assert response.status_code == 200 and response.json()["reason"] == "malformed"


def test_key_rotation_by_api_is_for_the_enterprise_admin(client, org, login_as):
    issue(org)
    login_as("unit_admin", org.ent_b)
    rotate = client.post(
        "/api/v1/passes/keys/rotate", {"unit_id": org.ent_a.pk}, content_type="application/json"
    )
    assert rotate.status_code == 404
    login_as("unit_admin", org.ent_a)
    rotate = client.post(
        "/api/v1/passes/keys/rotate", {"unit_id": org.ent_a.pk}, content_type="application/json"
    )
    assert rotate.status_code == 201
    kids = [key["kid"] for key in client.get("/api/v1/passes/keys").json()]
    assert len(kids) == 2


def test_no_api_answer_or_admin_page_contains_a_private_key(client, org, login_as):
    row, _text = issue(org)
    services.pass_revoke(None, row, "test")
    secrets = []
    for key in PassKey.objects.all():
        private = services.private_key_of(key)
        scalar = private.private_numbers().private_value.to_bytes(32, "big")
        secrets += [
            scalar.hex(),
            base64.urlsafe_b64encode(scalar).rstrip(b"=").decode(),
            base64.b64encode(scalar).decode(),
            bytes(key.private_encrypted).hex(),
        ]
    admin = login_as("group_admin", org.group)
    admin.is_superuser = admin.is_staff = True
    admin.save()
    pages = [
        "/api/v1/passes/trust-list",
        "/api/v1/passes/root-key",
        f"/api/v1/passes/revocations?kid={row.key.kid}",
        "/api/v1/passes/keys",
        "/api/v1/passes",
        f"/api/v1/passes/{row.pk}",
        "/api/v1/openapi.json",
        "/admin/",
    ]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        content = response.content.decode()
        assert not any(secret in content for secret in secrets), url
        assert '"d"' not in content, url  # no private JWK member


@pytest.mark.parametrize("since", ["-1", "99999999999999999999", "x"])
def test_a_revocation_version_out_of_range_is_a_422(client, org, since):
    row, _text = issue(org)
    response = client.get(f"/api/v1/passes/revocations?kid={row.key.kid}&since={since}")
    assert response.status_code == 422
    assert set(response.json()) == {"code", "message", "detail"}
