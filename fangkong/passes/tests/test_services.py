"""Issuing, keys and rotation, revocation, online verification with the live status."""

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from fangkong.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from fangkong.core.models import AuditLog
from fangkong.health import services as health_services
from fangkong.health.tests.factories import raw_declaration
from fangkong.quarantine.models import Mode
from fangkong.quarantine.services import placement_start
from fangkong.quarantine.tests.factories import make_site

from .. import format as fmt
from .. import keystore, selectors, services
from ..models import Pass, PassKey, Revocation
from ..verify import OK, REVOKED, STATUS, UNKNOWN_KEY
from .factories import GATE, issue, scan

pytestmark = pytest.mark.django_db


def test_an_issued_pass_verifies_offline_against_the_served_trust_list(org):
    row, text = issue(org)
    verdict = scan(text)
    assert verdict.reason == OK
    assert verdict.claims.pass_id.hex() == row.pass_id
    assert verdict.claims.unit == "A1W1" and verdict.claims.issuer == "A"
    assert row.status_at_issue == "green" and row.key.unit == org.ent_a


def test_each_enterprise_signs_with_its_own_key_unless_the_group_does(org, settings):
    row_a, _text = issue(org)
    row_b, _text = issue(org, org.person_b, holder_display="李*")
    assert row_a.key.unit == org.ent_a and row_b.key.unit == org.ent_b
    assert row_a.key.kid != row_b.key.kid
    settings.PASS_KEY_SCOPE = "group"
    row_g, _text = issue(org)
    assert row_g.key.unit == org.group


def test_the_key_id_is_the_first_8_bytes_of_sha256_of_the_public_point(org):
    row, _text = issue(org)
    assert row.key.kid == fmt.key_id(bytes(row.key.public_point)).hex()


def test_rotation_keeps_old_passes_valid_until_they_expire(org):
    old_row, old_text = issue(org)
    services.key_rotate(org.user("unit_admin", org.ent_a), unit=org.ent_a)
    new_row, new_text = issue(org)
    assert new_row.key.kid != old_row.key.kid
    assert scan(old_text).reason == OK and scan(new_text).reason == OK
    old_key = PassKey.objects.get(pk=old_row.key_id)
    assert old_key.trusted_until == old_row.valid_until
    with time_machine.travel(old_row.valid_until + dt.timedelta(minutes=1)):
        assert old_key.kid not in services.trust_list_current().kids
        assert scan(old_text).reason == UNKNOWN_KEY
    rotations = AuditLog.objects.filter(object_type="passes.passkey", action="close")
    assert rotations.get().object_id == str(old_key.pk)


def test_only_an_admin_of_the_enterprise_rotates_its_key(org):
    issue(org)
    with pytest.raises(NotFound):
        services.key_rotate(org.user("unit_admin", org.ent_b), unit=org.ent_a)
    with pytest.raises(PermissionDenied):
        services.key_rotate(org.user("guard", org.ent_a), unit=org.ent_a)


def test_revoking_bumps_the_list_version_and_a_scanner_with_the_list_refuses(org):
    row, text = issue(org)
    _other, _text = issue(org)
    key = row.key
    services.pass_revoke(org.user("unit_admin", org.ent_a), row, "离职")
    key.refresh_from_db()
    assert key.revocation_version == 1
    hashes = selectors.revocations_since(key, 0)
    assert hashes == [fmt.pass_hash(bytes.fromhex(row.pass_id)).hex()]
    assert selectors.revocations_since(key, 1) == []
    assert scan(text, revoked={bytes.fromhex(h) for h in hashes}).reason == REVOKED
    assert AuditLog.objects.filter(object_type="passes.pass", action="close").count() == 1
    services.pass_revoke(org.user("unit_admin", org.ent_a), row, "again")  # nothing new
    assert Revocation.objects.count() == 1


def test_the_revocation_list_holds_hashes_of_pass_ids_never_signatures(org):
    row, text = issue(org)
    services.pass_revoke(None, row, "test")
    entry = Revocation.objects.get()
    decoded = fmt.decode(text)
    assert bytes.fromhex(entry.pass_hash) == fmt.pass_hash(decoded.claims.pass_id)
    assert decoded.signature.hex() not in entry.pass_hash


def test_a_fever_declaration_makes_online_verify_answer_status(org):
    _row, text = issue(org)
    assert services.verify_online(text, policy=GATE).reason == OK
    actor = org.user("grid_worker", org.group)
    health_services.declarations_submit(
        actor=actor, items=[raw_declaration(org.person_a, temperature="38.2")]
    )
    verdict = services.verify_online(text, policy=GATE)
    assert (verdict.reason, verdict.detail) == (STATUS, "live_status")
    assert scan(text).reason == OK  # offline it still admits until the list says otherwise


def test_a_placement_makes_online_verify_answer_status(org):
    _row, text = issue(org)
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
    assert services.verify_online(text, policy=GATE).reason == STATUS


def test_revoking_for_a_person_revokes_what_is_in_force_and_online_refuses_at_once(org):
    _row, text = issue(org)
    issue(org)
    issue(org, org.person_b, holder_display="李*")
    assert services.passes_revoke_for_people([org.person_a.pk], "发热") == 2
    assert services.verify_online(text, policy=GATE).reason == REVOKED
    assert Pass.objects.filter(person=org.person_b, revoked_at=None).count() == 1


def test_a_holder_in_a_placement_gets_no_pass(org):
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
    with pytest.raises(Conflict):
        issue(org)


def test_vehicle_passes_name_a_valid_plate(org):
    row, text = issue(
        org, kind="vehicle", person=None, plate="鲁c·d12345", holder_display="鲁C·****45"
    )
    assert row.plate == "鲁CD12345"
    assert scan(text).claims.holder == "鲁C·****45"
    with pytest.raises(InvalidInput) as refused:
        issue(org, kind="vehicle", person=None, plate="ABC", holder_display="x")
    assert "plate" in refused.value.detail


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"holder_display": "张伟13800138001"}, "holder_display"),
        ({"zones": []}, "zones"),
        ({"kind": "dog"}, "kind"),
        ({"device_key": b"\x04" + b"\x00" * 64}, "device_key"),
        ({"valid_until": dt.datetime(2000, 1, 1, tzinfo=dt.UTC)}, "valid_until"),
    ],
)
def test_bad_input_is_refused_with_the_field_named(org, changes, field):
    with pytest.raises(InvalidInput) as refused:
        issue(org, **changes)
    assert field in refused.value.detail
    assert not Pass.objects.exists()


def test_a_guard_may_not_issue_and_another_enterprise_may_not_see(org):
    with pytest.raises(PermissionDenied):
        issue(org, actor=org.user("guard", org.ent_a))
    with pytest.raises(NotFound):
        issue(org, actor=org.user("unit_admin", org.ent_b))


def test_private_keys_are_stored_encrypted_and_never_audited(org):
    row, _text = issue(org)
    key = row.key
    private = services.private_key_of(key)
    scalar = private.private_numbers().private_value.to_bytes(32, "big")
    assert scalar not in bytes(key.private_encrypted)
    for entry in AuditLog.objects.all():
        assert scalar.hex() not in f"{entry.before}{entry.after}"
        assert "private" not in f"{entry.before}{entry.after}"


def test_a_different_encryption_key_cannot_open_a_stored_key(org, monkeypatch):
    row, _text = issue(org)
    keystore._encryption_key.cache_clear()
    monkeypatch.setenv(keystore.ENV_NAME, "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWY=")
    try:
        with pytest.raises(Exception):
            services.private_key_of(row.key)
    finally:
        keystore._encryption_key.cache_clear()


def test_a_moved_unit_takes_its_passes_along_in_scope(org):
    from fangkong.orgs.services import unit_move

    row, _text = issue(org)
    unit_move(actor=None, unit=org.plant_a, new_parent=org.ent_b)
    row.refresh_from_db()
    assert row.unit_path.startswith(org.ent_b.path)
    assert selectors.pass_get(org.user("unit_admin", org.ent_b), row.pk) == row


def test_the_hourly_job_re_signs_the_trust_list_only_when_it_is_6_hours_old(org):
    from fangkong.core.schedules import PERIODIC_JOBS

    from .. import tasks

    assert ("fangkong.passes.tasks.trust_list_refresh", 60) in PERIODIC_JOBS
    issue(org)
    first = services.trust_list_current()
    tasks.trust_list_refresh()
    assert services.trust_list_current().version == first.version
    with time_machine.travel(timezone.now() + dt.timedelta(hours=6, minutes=1)):
        tasks.trust_list_refresh()
        latest = services.trust_list_current()
        assert latest.version == first.version + 1
        assert latest.valid_until - timezone.now() > dt.timedelta(hours=47)
