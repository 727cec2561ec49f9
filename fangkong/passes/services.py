"""Writes: keys and their rotation, the signed trust list, issuing and revoking passes,
and online verification (the offline verifier plus the holder's live status)."""

import datetime as dt
import os
from collections.abc import Iterable
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec
from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fangkong.accounts.actors import Actor, acting_user
from fangkong.accounts.roles import Perm
from fangkong.accounts.selectors import require_perm
from fangkong.core.audit import audit_record, snapshot
from fangkong.core.errors import Conflict, InvalidInput
from fangkong.core.models import AuditLog
from fangkong.orgs.models import OrgUnit, Person

from . import format as fmt
from . import keystore, selectors, trust
from .holders import holder_display_check, plate_normalise
from .models import Pass, PassKey, PassLink, Revocation, SignedTrustList
from .verify import OK, REVOKED, STATUS, Policy, Verdict, verify

# Re-sign when the served list is this old (the job runs hourly; a list lives 48 h).
TRUST_LIST_RESIGN_AFTER = dt.timedelta(hours=6)
MAX_VALIDITY = dt.timedelta(days=366)
KEY_AUDIT_EXCLUDE = ("private_encrypted", "public_point")


def key_scope() -> str:
    """ "enterprise" (default): one issuing key per enterprise; "group": one for all."""
    return getattr(settings, "PASS_KEY_SCOPE", os.environ.get("PASS_KEY_SCOPE", "enterprise"))


# ---------------------------------------------------------------- keys


def _key_create(role: str, unit: OrgUnit) -> PassKey:
    private_key = ec.generate_private_key(ec.SECP256R1())
    point = fmt.public_point(private_key.public_key())
    kid = fmt.key_id(point).hex()
    key = PassKey.objects.create(
        role=role,
        unit=unit,
        kid=kid,
        public_point=point,
        private_encrypted=keystore.seal(private_key, kid),
    )
    audit_record(
        actor=None,
        action=AuditLog.Action.CREATE,
        obj=key,
        scope_path=unit.path,
        after=snapshot(key, exclude=KEY_AUDIT_EXCLUDE),
    )
    return key


def _active(role: str, unit: OrgUnit) -> PassKey:
    """The unit's active key of ``role``, made on first use (locked for the transaction)."""
    rows = PassKey.objects.select_for_update().filter(role=role, unit=unit, retired_at=None)
    key = rows.first()
    return key if key is not None else _key_create(role, unit)


def issuing_key_for(unit: OrgUnit) -> PassKey:
    return _active(PassKey.Role.ISSUING, selectors.key_unit_for(unit, per=key_scope()))


@transaction.atomic  # _active locks the key row: PostgreSQL needs a transaction for it
def root_key() -> PassKey:
    root = OrgUnit.objects.filter(parent=None).order_by("pk").first()
    if root is None:
        raise Conflict(_("There is no group unit to hold the trust list's root key."))
    return _active(PassKey.Role.ROOT, root)


def private_key_of(key: PassKey) -> ec.EllipticCurvePrivateKey:
    return keystore.unseal(key.private_encrypted, key.kid)


@transaction.atomic
def key_rotate(actor: Actor, *, unit: OrgUnit) -> PassKey:
    """Retire the unit's issuing key and make a new one. Passes the old key signed stay
    valid: it stays on the trust list until the last of them expires."""
    key_unit = selectors.key_unit_for(unit, per=key_scope())
    require_perm(actor, Perm.MANAGE_UNITS, key_unit.path)
    old = _active(PassKey.Role.ISSUING, key_unit)
    before = snapshot(old, exclude=KEY_AUDIT_EXCLUDE)
    now = timezone.now()
    last = old.passes.filter(revoked_at=None).aggregate(last=Max("valid_until"))["last"]
    old.retired_at = now
    old.trusted_until = max(last, now) if last else now
    old.save(update_fields=["retired_at", "trusted_until"])
    audit_record(
        actor=actor,
        action=AuditLog.Action.CLOSE,
        obj=old,
        scope_path=key_unit.path,
        before=before,
        after=snapshot(old, exclude=KEY_AUDIT_EXCLUDE),
    )
    new = _key_create(PassKey.Role.ISSUING, key_unit)
    trust_list_sign(now=now)
    return new


# ---------------------------------------------------------------- trust list


def trusted_keys(now: dt.datetime) -> list[PassKey]:
    rows = PassKey.objects.filter(role=PassKey.Role.ISSUING).select_related("unit")
    return [
        key
        for key in rows.order_by("created_at", "pk")
        if key.retired_at is None or (key.trusted_until and key.trusted_until > now)
    ]


def trust_list_of(keys: list[PassKey], *, version: int, now: dt.datetime) -> trust.TrustList:
    entries = {}
    for key in keys:
        point = bytes(key.public_point)
        until = int(key.trusted_until.timestamp()) if key.retired_at and key.trusted_until else None
        entries[fmt.key_id(point)] = trust.TrustedKey(
            fmt.key_id(point), point, key.unit.code, int(key.created_at.timestamp()), until
        )
    valid_until = now + dt.timedelta(hours=trust.VALID_HOURS)
    return trust.TrustList(version, int(now.timestamp()), int(valid_until.timestamp()), entries)


@transaction.atomic
def trust_list_sign(*, now: dt.datetime | None = None) -> SignedTrustList:
    """Sign the current keys with the root key; ``valid_until`` 48 hours ahead."""
    now = now or timezone.now()
    root = root_key()  # locked: one signer at a time, so versions never collide
    keys = trusted_keys(now)
    latest = SignedTrustList.objects.order_by("-version").first()
    version = latest.version + 1 if latest else 1
    trust_list = trust_list_of(keys, version=version, now=now)
    return SignedTrustList.objects.create(
        version=version,
        issued_at=now,
        valid_until=dt.datetime.fromtimestamp(trust_list.valid_until, tz=dt.UTC),
        jws=trust.sign(trust_list, private_key_of(root)),
        kids=sorted(key.kid for key in keys),
    )


def trust_list_current(*, now: dt.datetime | None = None) -> SignedTrustList:
    """The list to serve: the latest, re-signed when it is old or the keys changed."""
    now = now or timezone.now()
    latest = SignedTrustList.objects.order_by("-version").first()
    if (
        latest is None
        or latest.issued_at + TRUST_LIST_RESIGN_AFTER <= now
        or latest.kids != sorted(key.kid for key in trusted_keys(now))
    ):
        return trust_list_sign(now=now)
    return latest


# ---------------------------------------------------------------- passes


def _zones(zones: list[str]) -> tuple[str, ...]:
    cleaned = tuple(dict.fromkeys(str(z).strip() for z in zones if str(z).strip()))
    if not cleaned or len(cleaned) > 32 or any(len(z) > 32 for z in cleaned):
        raise InvalidInput(
            detail={"zones": [_("Name 1 to 32 zone or checkpoint codes, each at most 32 long.")]}
        )
    return cleaned


def _window(valid_from: dt.datetime, valid_until: dt.datetime) -> None:
    if valid_until <= valid_from or valid_until <= timezone.now():
        raise InvalidInput(
            detail={"valid_until": [_("The pass must end after it starts, and in the future.")]}
        )
    if valid_until - valid_from > MAX_VALIDITY:
        raise InvalidInput(detail={"valid_until": [_("A pass is valid for at most a year.")]})


def holder_status(person: Person | None) -> str:
    """The colour a pass carries; refuses a holder in a placement or with an open card."""
    if person is None:
        return "green"
    if selectors.holder_blocked(person):
        raise Conflict(_("The holder's health status does not admit a pass now."))
    return selectors.holder_colour(person)


@transaction.atomic
def pass_issue(
    actor: Actor,
    *,
    kind: str,
    unit: OrgUnit,
    holder_display: str,
    zones: list[str],
    valid_from: dt.datetime,
    valid_until: dt.datetime,
    person: Person | None = None,
    plate: str = "",
    device_key: Any = None,
    printed: bool = False,
    holder_name: str = "",
    route: str = "",
    purpose: str = "",
    daily: bool = False,
) -> tuple[Pass, str]:
    """Issue and sign a pass; return the row and the pass text (FK1:…)."""
    require_perm(actor, Perm.MANAGE_PEOPLE, unit.path)
    if kind not in Pass.Kind.values:
        raise InvalidInput(detail={"kind": [_("Choose person, vehicle or visitor.")]})
    if kind == Pass.Kind.PERSON and person is None:
        raise InvalidInput(detail={"person": [_("A person's pass names the person.")]})
    plate = plate_normalise(plate) if kind == Pass.Kind.VEHICLE or plate else ""
    display = holder_display_check(holder_display)
    zone_codes = _zones(zones)
    _window(valid_from, valid_until)
    try:
        point = fmt.device_point(device_key) if device_key is not None else None
    except fmt.FormatError as exc:
        raise InvalidInput(
            detail={"device_key": [_("The device key is not a P-256 public key.")]}
        ) from exc
    status = holder_status(person)
    key = issuing_key_for(unit)
    pass_id = os.urandom(fmt.PASS_ID_BYTES)
    row = Pass.objects.create(
        pass_id=pass_id.hex(),
        pass_hash=fmt.pass_hash(pass_id).hex(),
        kind=kind,
        person=person,
        plate=plate,
        holder_display=display,
        unit=unit,
        unit_path=unit.path,
        zones=list(zone_codes),
        status_at_issue=status,
        key=key,
        valid_from=valid_from,
        valid_until=valid_until,
        printed=printed,
        daily=daily,
        holder_name=holder_name.strip()[:64],
        route=route.strip()[:200],
        purpose=purpose.strip()[:200],
        device_key=point.hex() if point else "",
        issued_by=acting_user(actor),
    )
    audit_record(
        actor=actor,
        action=AuditLog.Action.CREATE,
        obj=row,
        scope_path=unit.path,
        after=snapshot(row),
    )
    return row, pass_text(row)


@transaction.atomic
def pass_link_create(actor: Actor, pass_: Pass) -> PassLink:
    """A personal link that opens this pass on the holder's phone (``/passes/v/<token>/``).

    Who may issue the pass may hand out its link; the token (``selectors.pass_link_token``)
    is the credential, so the audit row leaves the key out.
    """
    require_perm(actor, Perm.MANAGE_PEOPLE, pass_.unit_path, seen_with=Perm.VIEW_PEOPLE)
    link = PassLink.objects.create(issued_pass=pass_, created_by=acting_user(actor))
    audit_record(
        actor=actor,
        action=AuditLog.Action.CREATE,
        obj=link,
        scope_path=pass_.unit_path,
        after=snapshot(link, exclude=("key",)),
    )
    return link


def claims_of(row: Pass) -> fmt.Claims:
    return fmt.Claims(
        issuer=row.key.unit.code,
        pass_id=bytes.fromhex(row.pass_id),
        kind=row.kind,
        holder=row.holder_display,
        unit=row.unit.code,
        zones=tuple(row.zones),
        status=row.status_at_issue,
        issued_at=int(row.issued_at.timestamp()),
        not_before=int(row.valid_from.timestamp()),
        expires=int(row.valid_until.timestamp()),
        device_key=bytes.fromhex(row.device_key) if row.device_key else None,
        printed=row.printed,
    )


def pass_text(row: Pass) -> str:
    """Sign the pass's claims again (for the phone page or a reprint): the same claims,
    a fresh signature (ECDSA is randomised), the same key."""
    return fmt.encode(claims_of(row), private_key_of(row.key))


@transaction.atomic
def pass_revoke(actor: Actor, pass_: Pass, reason: str) -> Pass:
    """Put the pass on its key's revocation list (the list's version goes up by one)."""
    require_perm(actor, Perm.MANAGE_PEOPLE, pass_.unit_path, seen_with=Perm.VIEW_PEOPLE)
    reason = (reason or "").strip()
    if not reason or len(reason) > 255:
        raise InvalidInput(detail={"reason": [_("Give a reason (at most 255 characters).")]})
    row = Pass.objects.select_for_update().get(pk=pass_.pk)
    if row.revoked_at is not None:
        return row
    before = snapshot(row)
    key = PassKey.objects.select_for_update().get(pk=row.key_id)
    key.revocation_version += 1
    key.save(update_fields=["revocation_version"])
    Revocation.objects.create(key=key, pass_hash=row.pass_hash, version=key.revocation_version)
    row.revoked_at = timezone.now()
    row.revoke_reason = reason
    row.revoked_by = acting_user(actor)
    row.save(update_fields=["revoked_at", "revoke_reason", "revoked_by"])
    audit_record(
        actor=actor,
        action=AuditLog.Action.CLOSE,
        obj=row,
        scope_path=row.unit_path,
        before=before,
        after=snapshot(row),
    )
    return row


def passes_revoke_for_people(person_ids: Iterable[int], reason: str) -> int:
    """Revoke these people's passes still in force (a status change; the system acts).

    One query finds them, however many people: a risk-area re-check opens thousands of
    cards at once, and few of their people hold a pass in force.
    """
    rows = Pass.objects.filter(
        person_id__in=set(person_ids), revoked_at=None, valid_until__gt=timezone.now()
    )
    revoked = 0
    for row in rows:
        pass_revoke(None, row, reason)
        revoked += 1
    return revoked


# ---------------------------------------------------------------- online verification


def verify_online(
    text: str,
    *,
    policy: Policy,
    now: dt.datetime | None = None,
    clock_offset: float = 0.0,
    proof: fmt.DeviceProof | None = None,
) -> Verdict:
    """The offline verifier with the server's current lists, then the holder's live
    status: a person whose colour, placement or open card no longer admits gets
    ``status`` even though the pass itself is still good."""
    now = now or timezone.now()
    keys = trusted_keys(now)
    trust_list = trust_list_of(keys, version=0, now=now)
    verdict = verify(
        text,
        trust_list=trust_list,
        revoked=selectors.RevokedInDatabase(),
        now=now.timestamp() - clock_offset,
        clock_offset=clock_offset,
        policy=policy,
        proof=proof,
    )
    # A pass revoked because its holder's status changed is refused for that status: the
    # guard reads "health status", the reason that matters at the gate.
    if verdict.reason not in (OK, REVOKED) or verdict.claims is None:
        return verdict
    if verdict.claims.kind != Pass.Kind.PERSON:
        return verdict
    row = selectors.pass_of(verdict)
    if row is None or row.person is None:
        return verdict
    if selectors.holder_blocked(row.person) or (
        selectors.holder_colour(row.person) not in policy.admit_statuses
    ):
        return Verdict(STATUS, "live_status", verdict.claims, verdict.warnings)
    return verdict
