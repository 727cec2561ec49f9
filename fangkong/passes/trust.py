"""The trust list: the issuing keys a scanner may trust, signed by the group's root key.

It travels as a compact JWS (RFC 7515, ES256, raw r||s) whose payload is JSON, so the
browser verifies it with WebCrypto and parses it with JSON.parse. No database here.
"""

import json
from base64 import urlsafe_b64decode, urlsafe_b64encode
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec

from . import format as fmt

TRUST_LIST_TYPE = "fangkong-trust-list+jws"
VALID_HOURS = 48


class TrustListError(ValueError):
    """The trust list's signature, header or payload is wrong: use none of it."""


@dataclass(frozen=True)
class TrustedKey:
    kid: bytes
    point: bytes
    unit: str
    valid_from: int
    valid_until: int | None  # None while the key still issues

    @property
    def public_key(self) -> ec.EllipticCurvePublicKey:
        return _public_key(self.point)

    def valid_at(self, clock: float) -> bool:
        return self.valid_from <= clock and (self.valid_until is None or clock < self.valid_until)


_keys_cache: dict[bytes, ec.EllipticCurvePublicKey] = {}


def _public_key(point: bytes) -> ec.EllipticCurvePublicKey:
    """Loading a point costs more than verifying; keys are few, so keep them loaded."""
    key = _keys_cache.get(point)
    if key is None:
        key = _keys_cache[point] = fmt.public_key_from_point(point)
    return key


@dataclass(frozen=True)
class TrustList:
    version: int
    issued_at: int
    valid_until: int
    keys: dict[bytes, TrustedKey]

    def key_at(self, kid: bytes, clock: float) -> TrustedKey | None:
        key = self.keys.get(kid)
        return key if key is not None and key.valid_at(clock) else None


def b64url(data: bytes) -> str:
    return urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64url(text: str) -> bytes:
    return urlsafe_b64decode(text + "=" * (-len(text) % 4))


def payload_of(trust_list: TrustList) -> dict[str, Any]:
    return {
        "version": trust_list.version,
        "issued_at": trust_list.issued_at,
        "valid_until": trust_list.valid_until,
        "keys": [
            {
                "kid": key.kid.hex(),
                "unit": key.unit,
                "jwk": fmt.jwk_of(key.point),
                "valid_from": key.valid_from,
                "valid_until": key.valid_until,
            }
            for key in trust_list.keys.values()
        ],
    }


def sign(trust_list: TrustList, root_key: ec.EllipticCurvePrivateKey) -> str:
    root_kid = fmt.key_id(fmt.public_point(root_key.public_key()))
    header = {"alg": "ES256", "typ": TRUST_LIST_TYPE, "kid": root_kid.hex()}
    signing_input = ".".join(
        b64url(json.dumps(part, separators=(",", ":"), ensure_ascii=False).encode())
        for part in (header, payload_of(trust_list))
    )
    return signing_input + "." + b64url(fmt.sign_raw(root_key, signing_input.encode("ascii")))


def parse(jws: str, root_point: bytes) -> TrustList:
    """Check the JWS against the pinned root key and return the list; raise TrustListError."""
    try:
        header_b64, payload_b64, signature_b64 = jws.split(".")
        header = json.loads(unb64url(header_b64))
        signature = unb64url(signature_b64)
    except Exception as exc:
        raise TrustListError("not a compact JWS") from exc
    if header.get("alg") != "ES256" or header.get("typ") != TRUST_LIST_TYPE:
        raise TrustListError("not a fangkong trust list")
    signing_input = f"{header_b64}.{payload_b64}".encode("ascii")
    if not fmt.verify_raw(_public_key(root_point), signature, signing_input):
        raise TrustListError("the root key's signature does not match")
    try:
        return from_payload(json.loads(unb64url(payload_b64)))
    except (KeyError, TypeError, ValueError) as exc:
        raise TrustListError("the payload is not a trust list") from exc


def from_payload(payload: dict[str, Any]) -> TrustList:
    keys = {}
    for entry in payload["keys"]:
        kid = bytes.fromhex(entry["kid"])
        point = fmt.point_of_jwk(entry["jwk"])
        if fmt.key_id(point) != kid:
            raise ValueError("kid does not match the key")
        until = entry.get("valid_until")
        keys[kid] = TrustedKey(
            kid,
            point,
            str(entry["unit"]),
            int(entry["valid_from"]),
            None if until is None else int(until),
        )
    return TrustList(
        int(payload["version"]), int(payload["issued_at"]), int(payload["valid_until"]), keys
    )
