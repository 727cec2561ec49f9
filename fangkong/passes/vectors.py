"""The published test vectors (docs/pass-vectors/): every case the tests use, as JSON.

Each vector is self-contained: the root public key, the signed trust list, the revocation
set, the clock, the checkpoint policy, the scanned text and the expected verdict. ECDSA
signatures are randomised, so the files are written once (``python -m
fangkong.passes.vectors docs/pass-vectors``) and then read by the tests, by this project's
verifier and by the scanner's. The keys are test keys made from fixed numbers: never use
them for anything else.
"""

import json
import sys
import zlib
from dataclasses import replace
from pathlib import Path
from typing import Any

import base45
import cbor2
from cryptography.hazmat.primitives.asymmetric import ec

from . import format as fmt
from . import trust
from .verify import Policy, Verdict, verify

NOW = 1_767_250_800  # 2026-01-01 15:00 +08:00
HOUR = 3600
DAY = 24 * HOUR


def test_key(number: int) -> ec.EllipticCurvePrivateKey:
    return ec.derive_private_key(number, ec.SECP256R1())


ROOT = test_key(0x1000_0001)
ISSUER = test_key(0x2000_0002)
OLD_ISSUER = test_key(0x2000_0003)  # rotated out: trusted until its last pass expires
STRANGER = test_key(0x3000_0004)  # not on the trust list
DEVICE = test_key(0x4000_0005)
OTHER_DEVICE = test_key(0x4000_0006)


def _point(key: ec.EllipticCurvePrivateKey) -> bytes:
    return fmt.public_point(key.public_key())


def _trusted(key: ec.EllipticCurvePrivateKey, valid_until: int | None) -> trust.TrustedKey:
    point = _point(key)
    return trust.TrustedKey(fmt.key_id(point), point, "A", NOW - 30 * DAY, valid_until)


def trust_list(*, valid_until: int = NOW + 40 * HOUR) -> trust.TrustList:
    keys = [_trusted(ISSUER, None), _trusted(OLD_ISSUER, NOW + 6 * HOUR)]
    return trust.TrustList(7, valid_until - 48 * HOUR, valid_until, {k.kid: k for k in keys})


def claims(**changes: Any) -> fmt.Claims:
    base = fmt.Claims(
        issuer="G",
        pass_id=bytes.fromhex("00112233445566778899aabbccddeeff"),
        kind="person",
        holder="张*伟",
        unit="A1W1",
        zones=("A1",),
        status="green",
        issued_at=NOW - 8 * HOUR,
        not_before=NOW - 8 * HOUR,
        expires=NOW + 9 * HOUR,
    )
    return replace(base, **changes)


BOUND = claims(pass_id=bytes.fromhex("0f" * 16), device_key=_point(DEVICE))
POLICY = Policy(zones=frozenset({"A1", "A1-GATE-1"}))


def _tampered() -> str:
    """A well-formed pass whose payload was changed after signing (张*伟 → 李*伟)."""
    decoded = fmt.decode(fmt.encode(claims(), ISSUER))
    payload = decoded.payload.replace("张".encode(), "李".encode())
    return fmt.wrap(decoded.protected, payload, decoded.signature)


def _forged_kid() -> str:
    """Signed by a stranger's key but naming the trusted key's id."""
    kid = fmt.key_id(_point(ISSUER))
    protected = cbor2.dumps({fmt.HEADER_ALG: fmt.ALG_ES256, fmt.HEADER_KID: kid})
    payload = cbor2.dumps(fmt.claims_map(claims()))
    signature = fmt.sign_raw(STRANGER, fmt.sig_structure(protected, payload))
    return fmt.wrap(protected, payload, signature)


def _not_cose() -> str:
    return fmt.PREFIX + base45.b45encode(zlib.compress(cbor2.dumps({"hello": 1}))).decode()


def _moving(window_at: float, device: ec.EllipticCurvePrivateKey = DEVICE) -> str:
    text = fmt.encode(BOUND, ISSUER)
    return fmt.moving_code(text, fmt.prove(device, BOUND.pass_id, fmt.window_of(window_at)))


def cases() -> list[dict[str, Any]]:
    """(name, description, scanned text, inputs that differ from the defaults, expected)."""
    person = fmt.encode(claims(), ISSUER)
    revoked_id = bytes.fromhex("ff" * 16)
    return [
        _case("ok", "A person's day pass at a checkpoint of its zone.", person, "ok"),
        _case(
            "ok_vehicle",
            "A vehicle pass naming the masked plate.",
            fmt.encode(claims(kind="vehicle", holder="鲁C·***45", pass_id=b"\x01" * 16), ISSUER),
            "ok",
        ),
        _case("ok_moving_code", "A phone's moving code, this window.", _moving(NOW), "ok"),
        _case(
            "ok_moving_code_previous_window",
            "A moving code from 50 s ago: within ±60 s.",
            _moving(NOW - 50),
            "ok",
        ),
        _case(
            "ok_rotated_key",
            "Signed by a key rotated out, still trusted until its last pass expires.",
            fmt.encode(claims(expires=NOW + 5 * HOUR), OLD_ISSUER),
            "ok",
        ),
        _case(
            "ok_scanner_clock_behind",
            "The scanner's clock is 10 minutes slow; the offset measured at sync corrects it.",
            person,
            "ok",
            now=NOW - 600,
            clock_offset=600,
            warnings=["clock_off"],
        ),
        _case(
            "ok_trust_list_expiring",
            "The trust list expires in 3 hours: admitted, with a warning.",
            person,
            "ok",
            trust_list_valid_until=NOW + 3 * HOUR,
            warnings=["trust_list_expiring"],
        ),
        _case(
            "tampered_byte", "One character of the holder changed.", _tampered(), "bad_signature"
        ),
        _case(
            "forged_kid",
            "Signed by another key that claims the trusted key's id.",
            _forged_kid(),
            "bad_signature",
        ),
        _case(
            "unknown_key",
            "Signed by a key that is not on the trust list.",
            fmt.encode(claims(), STRANGER),
            "unknown_key",
        ),
        _case(
            "rotated_key_past_overlap",
            "The rotated key after its last pass expired: no longer trusted.",
            fmt.encode(claims(expires=NOW + 20 * HOUR), OLD_ISSUER),
            "unknown_key",
            now=NOW + 7 * HOUR,
        ),
        _case(
            "expired",
            "The day is over.",
            fmt.encode(claims(expires=NOW - 1), ISSUER),
            "expired",
        ),
        _case(
            "not_yet_valid",
            "Valid from tomorrow.",
            fmt.encode(claims(not_before=NOW + DAY, expires=NOW + 2 * DAY), ISSUER),
            "not_yet_valid",
        ),
        _case(
            "revoked",
            "The pass id's hash is on the revocation list.",
            fmt.encode(claims(pass_id=revoked_id), ISSUER),
            "revoked",
            revoked=[revoked_id],
        ),
        _case(
            "status",
            "Issued while yellow; the checkpoint admits green only.",
            fmt.encode(claims(status="yellow"), ISSUER),
            "status",
        ),
        _case(
            "status_admitted_by_policy",
            "Issued while yellow at a checkpoint that admits green and yellow.",
            fmt.encode(claims(status="yellow"), ISSUER),
            "ok",
            policy={"admit_statuses": ["green", "yellow"]},
        ),
        _case(
            "zone",
            "A pass for plant A2 at a checkpoint of plant A1.",
            fmt.encode(claims(zones=("A2",)), ISSUER),
            "zone",
        ),
        _case(
            "visitor_outsiders_banned",
            "A visitor's pass where outsiders are banned.",
            fmt.encode(claims(kind="visitor", holder="王*"), ISSUER),
            "zone",
            policy={"outsiders_banned": True},
            detail="outsiders_banned",
        ),
        _case(
            "printed_refused",
            "A printed card at a checkpoint that refuses printed passes.",
            fmt.encode(claims(printed=True), ISSUER),
            "stale_proof",
            policy={"refuse_printed": True},
            detail="printed_refused",
        ),
        _case(
            "no_device_key_refused",
            "A pass without a device key where only phone-bound passes admit.",
            person,
            "stale_proof",
            policy={"refuse_without_device_key": True},
            detail="no_device_key",
        ),
        _case(
            "stale_proof",
            "A screenshot of a moving code, shown 2 minutes later.",
            _moving(NOW - 120),
            "stale_proof",
        ),
        _case(
            "proof_missing",
            "A phone-bound pass shown without its moving proof.",
            fmt.encode(BOUND, ISSUER),
            "stale_proof",
        ),
        _case(
            "proof_wrong_device",
            "A moving code signed by another phone's key.",
            _moving(NOW, OTHER_DEVICE),
            "stale_proof",
            detail="proof_signature",
        ),
        _case(
            "trust_list_expired",
            "The trust list is past valid_until: every pass is refused.",
            person,
            "trust_list_expired",
            trust_list_valid_until=NOW - 1,
            warnings=["trust_list_expiring"],
        ),
        _case("malformed_prefix", "Not a fangkong code.", "HC1:6BFOXN%TS3DH", "malformed"),
        _case("malformed_truncated", "Half a pass.", person[: len(person) // 2], "malformed"),
        _case(
            "malformed_not_cose", "Valid base45 and zlib of a CBOR map.", _not_cose(), "malformed"
        ),
    ]


def _case(
    name: str,
    description: str,
    scanned: str,
    reason: str,
    *,
    now: int = NOW,
    clock_offset: int = 0,
    revoked: list[bytes] | None = None,
    policy: dict[str, Any] | None = None,
    trust_list_valid_until: int = NOW + 40 * HOUR,
    detail: str = "",
    warnings: list[str] | None = None,
) -> dict[str, Any]:
    policy_json = {
        "zones": sorted(POLICY.zones),
        "admit_statuses": sorted(POLICY.admit_statuses),
        "refuse_printed": False,
        "refuse_without_device_key": False,
        "outsiders_banned": False,
        **(policy or {}),
    }
    return {
        "name": name,
        "description": description,
        "scanned": scanned,
        "root_key": {"jwk": fmt.jwk_of(_point(ROOT)), "hex": _point(ROOT).hex()},
        "trust_list": trust.sign(trust_list(valid_until=trust_list_valid_until), ROOT),
        "revoked": [fmt.pass_hash(pass_id).hex() for pass_id in revoked or []],
        "now": now,
        "clock_offset": clock_offset,
        "policy": policy_json,
        "expected": {"reason": reason, "detail": detail, "warnings": warnings or []},
    }


def run(vector: dict[str, Any]) -> Verdict:
    """Verify one vector exactly as a scanner would, from its JSON alone."""
    root_point = bytes.fromhex(vector["root_key"]["hex"])
    policy = vector["policy"]
    return verify(
        vector["scanned"],
        trust_list=trust.parse(vector["trust_list"], root_point),
        revoked={bytes.fromhex(h) for h in vector["revoked"]},
        now=vector["now"],
        clock_offset=vector["clock_offset"],
        policy=Policy(
            zones=frozenset(policy["zones"]),
            admit_statuses=frozenset(policy["admit_statuses"]),
            refuse_printed=policy["refuse_printed"],
            refuse_without_device_key=policy["refuse_without_device_key"],
            outsiders_banned=policy["outsiders_banned"],
        ),
    )


def write(directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for vector in cases():
        text = json.dumps(vector, ensure_ascii=False, indent=2) + "\n"
        (directory / f"{vector['name']}.json").write_text(text, encoding="utf-8")


if __name__ == "__main__":
    write(Path(sys.argv[1]))
