"""Passes to show the guard's scanner (browser tests and benchmarks/guard_app.py): real
passes signed by the server's keys, as QR images, each with the verdict the server's
verifier reaches on it."""

import datetime as dt
import io
import secrets
from dataclasses import dataclass, replace
from typing import Any

import cbor2
from cryptography.hazmat.primitives.asymmetric import ec
from django.db import transaction
from django.utils import timezone

from fangkong.passes import format as fmt
from fangkong.passes import services as passes
from fangkong.passes.holders import plate_masked
from fangkong.passes.models import Revocation
from fangkong.passes.tests.factories import served_trust_list
from fangkong.passes.verify import Policy, Verdict, verify


@dataclass
class Shown:
    """One code held up to the scanner."""

    label: str
    text: str

    @property
    def png(self) -> bytes:
        return qr_png(self.text)


def qr_png(text: str) -> bytes:
    """The code as a phone's screen or a printed card shows it (level Q, alphanumeric)."""
    out = io.BytesIO()
    fmt.qr(text).save(out, kind="png", scale=3, border=4)
    return out.getvalue()


def issued(actor: Any, holder: Any, zones: list[str], **changes: Any) -> tuple[Any, str]:
    start = timezone.now()
    args: dict[str, Any] = {
        "kind": "person",
        "unit": holder.unit,
        "holder_display": "张*",
        "zones": zones,
        "valid_from": start - dt.timedelta(minutes=5),
        "valid_until": start + dt.timedelta(hours=10),
        "person": holder,
    }
    args.update(changes)
    return passes.pass_issue(actor, **args)


def signed(unit: Any, zones: list[str], *, start: float, end: float) -> str:
    """A pass signed by the unit's issuing key with any validity window (an expired one)."""
    with transaction.atomic():  # the key is read for update, as issuing does
        key = passes.issuing_key_for(unit)
    claims = fmt.Claims(
        issuer=key.unit.code,
        pass_id=secrets.token_bytes(16),
        kind="person",
        holder="李*",
        unit=unit.code,
        zones=tuple(zones),
        status="green",
        issued_at=int(start),
        not_before=int(start),
        expires=int(end),
    )
    return fmt.encode(claims, passes.private_key_of(key))


def _tampered(text: str) -> str:
    """The pass with its holder changed and the issuer's signature kept."""
    decoded = fmt.decode(text)
    claims = replace(decoded.claims, holder="王*")
    payload = cbor2.dumps(fmt.claims_map(claims))
    return fmt.wrap(decoded.protected, payload, decoded.signature)


def shift_of_passes(actor: Any, person: Any, unit: Any, zones: list[str]) -> list[Shown]:
    """Twenty codes as a morning brings them: 8 that admit (5 plain passes, a vehicle's,
    2 live moving codes) and 12 that do not (3 revoked, 3 expired, 3 tampered, 3
    screenshots of a moving code taken 3 minutes ago)."""
    now = timezone.now().timestamp()
    shown = [Shown("valid", issued(actor, person, zones)[1]) for _ in range(5)]
    plate = "鲁C12345"
    shown.append(
        Shown(
            "valid",
            issued(
                actor,
                person,
                zones,
                kind="vehicle",
                person=None,
                unit=unit,
                plate=plate,
                holder_display=plate_masked(plate),
            )[1],
        )
    )
    for label, seconds_ago in (("valid", 0), ("valid", 0), *[("stale", 180)] * 3):
        phone = ec.generate_private_key(ec.SECP256R1())
        row, text = issued(actor, person, zones, device_key=fmt.public_point(phone.public_key()))
        proof = fmt.prove(phone, bytes.fromhex(row.pass_id), fmt.window_of(now - seconds_ago))
        shown.append(Shown(label, fmt.moving_code(text, proof)))
    for _ in range(3):
        row, text = issued(actor, person, zones)
        passes.pass_revoke(actor, row, "离职")
        shown.append(Shown("revoked", text))
    day = 24 * 3600
    for _ in range(3):
        shown.append(Shown("expired", signed(unit, zones, start=now - 2 * day, end=now - day)))
        shown.append(Shown("tampered", _tampered(issued(actor, person, zones)[1])))
    # as they come to the gate: refusals among the admissions
    return [shown[(i * 7) % len(shown)] for i in range(len(shown))]


def server_verdict(text: str, policy: Policy) -> Verdict:
    """What the server's offline verifier says now, with the lists it serves."""
    revoked = {bytes.fromhex(h) for h in Revocation.objects.values_list("pass_hash", flat=True)}
    scanned, proof = fmt.split_moving_code(text)
    return verify(
        scanned,
        trust_list=served_trust_list(),
        revoked=revoked,
        now=timezone.now().timestamp(),
        policy=policy,
        proof=proof,
    )
