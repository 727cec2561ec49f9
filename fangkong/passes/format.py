"""The pass format FK1: CWT-style claims in CBOR, a COSE_Sign1 (ES256), zlib, base45.

Pure functions, no database: the issuing service, the verifier, the benchmarks and the
test vectors share them. docs/pass-format.md is the byte-level description; keep the two
in step.
"""

import hashlib
import struct
import zlib
from dataclasses import dataclass
from typing import Any

import base45
import cbor2
import segno
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

PREFIX = "FK1:"
PROOF_PREFIX = "FK1P:"  # a moving code: the device proof, then the pass's base45 text
COSE_SIGN1_TAG = 18
ALG_ES256 = -7
# COSE header labels (RFC 9052) and CWT claim keys (RFC 8392)
HEADER_ALG, HEADER_KID = 1, 4
CLAIM_ISS, CLAIM_EXP, CLAIM_NBF, CLAIM_IAT = 1, 4, 5, 6
CLAIM_PASS = -65537  # private-use claim (below -65536): the map of fangkong's own fields
# keys of the fangkong map inside CLAIM_PASS
F_ID, F_KIND, F_HOLDER, F_UNIT, F_ZONES, F_STATUS, F_DEVICE_KEY, F_PRINTED = range(1, 9)
PASS_ID_BYTES = 16
KID_BYTES = 8
KINDS = ("person", "vehicle", "visitor")
WINDOW_SECONDS = 30
PROOF_TOLERANCE_SECONDS = 60
PROOF_CONTEXT = b"FK1-PROOF"
PROOF_BYTES = 4 + 64  # window (uint32 big-endian) + r||s
PROOF_TEXT_LENGTH = 102  # base45 of 68 bytes


class FormatError(ValueError):
    """The text is not a well-formed FK1 pass (the verdict ``malformed``)."""


@dataclass(frozen=True)
class Claims:
    """What a pass says. ``device_key`` is a raw uncompressed P-256 point (65 bytes)."""

    issuer: str
    pass_id: bytes
    kind: str
    holder: str
    unit: str
    zones: tuple[str, ...]
    status: str
    issued_at: int
    not_before: int
    expires: int
    device_key: bytes | None = None
    printed: bool = False


@dataclass(frozen=True)
class Decoded:
    """A parsed pass: its claims and what its signature covers."""

    kid: bytes
    protected: bytes
    payload: bytes
    signature: bytes
    claims: Claims


# ---------------------------------------------------------------- keys and signatures


def public_point(key: ec.EllipticCurvePublicKey) -> bytes:
    """The raw uncompressed point 0x04 || x || y (65 bytes): what the key id hashes."""
    return key.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)


def public_key_from_point(point: bytes) -> ec.EllipticCurvePublicKey:
    if len(point) != 65 or point[0] != 4:
        raise FormatError("not an uncompressed P-256 point")
    try:
        return ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
    except ValueError as exc:
        raise FormatError("not a point on P-256") from exc


def key_id(point: bytes) -> bytes:
    """First 8 bytes of SHA-256 over the 65-byte uncompressed point."""
    return hashlib.sha256(point).digest()[:KID_BYTES]


def sign_raw(private_key: ec.EllipticCurvePrivateKey, message: bytes) -> bytes:
    """ES256 over ``message`` as raw r||s (32 bytes each); ``cryptography`` gives DER."""
    r, s = decode_dss_signature(private_key.sign(message, ec.ECDSA(hashes.SHA256())))
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def verify_raw(public_key: ec.EllipticCurvePublicKey, signature: bytes, message: bytes) -> bool:
    if len(signature) != 64:
        return False
    der = encode_dss_signature(
        int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    )
    try:
        public_key.verify(der, message, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        return False
    return True


def jwk_of(point: bytes) -> dict[str, str]:
    """A public key as a JWK (RFC 7517), for the trust list and the browser."""
    from base64 import urlsafe_b64encode

    def b64(data: bytes) -> str:
        return urlsafe_b64encode(data).rstrip(b"=").decode()

    return {"kty": "EC", "crv": "P-256", "x": b64(point[1:33]), "y": b64(point[33:])}


def point_of_jwk(jwk: dict[str, Any]) -> bytes:
    from base64 import urlsafe_b64decode

    def unb64(text: str) -> bytes:
        return urlsafe_b64decode(text + "=" * (-len(text) % 4))

    if jwk.get("kty") != "EC" or jwk.get("crv") != "P-256":
        raise FormatError("not a P-256 JWK")
    x, y = unb64(str(jwk.get("x", ""))), unb64(str(jwk.get("y", "")))
    if len(x) != 32 or len(y) != 32:
        raise FormatError("not a P-256 JWK")
    return b"\x04" + x + y


def device_point(value: Any) -> bytes:
    """Normalise a device key given as raw point, COSE_Key map or JWK to the raw point."""
    if isinstance(value, bytes | bytearray) and len(value) == 65:
        point = bytes(value)
    elif isinstance(value, dict) and "kty" in value:
        point = point_of_jwk(value)
    elif isinstance(value, dict):
        x, y = value.get(-2), value.get(-3)
        if value.get(1) != 2 or value.get(-1) != 1 or not isinstance(x, bytes):
            raise FormatError("device key is not an EC2 P-256 COSE_Key")
        if not isinstance(y, bytes) or len(x) != 32 or len(y) != 32:
            raise FormatError("device key is not an EC2 P-256 COSE_Key")
        point = b"\x04" + x + y
    else:
        raise FormatError("device key must be a 65-byte point, a COSE_Key or a JWK")
    public_key_from_point(point)  # on the curve
    return point


def cose_key(point: bytes) -> dict[int, Any]:
    """A P-256 public key as a COSE_Key (RFC 9053: kty EC2, crv P-256, x, y)."""
    return {1: 2, -1: 1, -2: point[1:33], -3: point[33:]}


# ---------------------------------------------------------------- encoding


def claims_map(claims: Claims) -> dict[int, Any]:
    fields: dict[int, Any] = {
        F_ID: claims.pass_id,
        F_KIND: claims.kind,
        F_HOLDER: claims.holder,
        F_UNIT: claims.unit,
        F_ZONES: list(claims.zones),
        F_STATUS: claims.status,
    }
    if claims.device_key is not None:
        fields[F_DEVICE_KEY] = cose_key(claims.device_key)
    if claims.printed:
        fields[F_PRINTED] = True
    return {
        CLAIM_ISS: claims.issuer,
        CLAIM_IAT: claims.issued_at,
        CLAIM_NBF: claims.not_before,
        CLAIM_EXP: claims.expires,
        CLAIM_PASS: fields,
    }


def sig_structure(protected: bytes, payload: bytes) -> bytes:
    """What ES256 signs (RFC 9052 §4.4): ["Signature1", protected, h'', payload]."""
    return cbor2.dumps(["Signature1", protected, b"", payload])


def encode(claims: Claims, private_key: ec.EllipticCurvePrivateKey) -> str:
    """Sign ``claims`` and return the pass text FK1:…"""
    kid = key_id(public_point(private_key.public_key()))
    protected = cbor2.dumps({HEADER_ALG: ALG_ES256, HEADER_KID: kid})
    payload = cbor2.dumps(claims_map(claims))
    signature = sign_raw(private_key, sig_structure(protected, payload))
    return wrap(protected, payload, signature)


def wrap(protected: bytes, payload: bytes, signature: bytes) -> str:
    """COSE_Sign1 (tag 18) → zlib → base45 → prefix."""
    cose = cbor2.dumps(cbor2.CBORTag(COSE_SIGN1_TAG, [protected, {}, payload, signature]))
    return PREFIX + base45.b45encode(zlib.compress(cose, 9)).decode("ascii")


# ---------------------------------------------------------------- decoding

MAX_TEXT = 4096  # a QR code at level Q holds at most 3,993 alphanumeric characters
MAX_COSE = 8192  # bytes of COSE_Sign1 after inflating


def decode(text: str) -> Decoded:
    """Parse a pass text; raise FormatError for anything that is not a well-formed pass.

    The signature is not checked here (see ``passes.verify``).
    """
    if not isinstance(text, str) or not text.startswith(PREFIX) or len(text) > MAX_TEXT:
        raise FormatError("no FK1: prefix")
    try:
        compressed = base45.b45decode(text[len(PREFIX) :])
        inflater = zlib.decompressobj()
        cose = inflater.decompress(compressed, MAX_COSE + 1)  # one more: stop a bomb
        # One whole stream of at most MAX_COSE bytes and nothing after it, as the
        # browser's DecompressionStream reads it: a cut stream (its output partial) or
        # trailing bytes are malformed.
        if len(cose) > MAX_COSE or not inflater.eof or inflater.unused_data:
            raise FormatError("too long, cut short or followed by other bytes")
        outer = cbor2.loads(cose)
    except FormatError:
        raise
    except Exception as exc:  # base45, zlib and CBOR each raise their own errors
        raise FormatError("not base45 / zlib / CBOR") from exc
    if isinstance(outer, cbor2.CBORTag):
        if outer.tag != COSE_SIGN1_TAG:
            raise FormatError("not a COSE_Sign1")
        outer = outer.value
    if not (isinstance(outer, list | tuple) and len(outer) == 4):
        raise FormatError("not a COSE_Sign1")
    protected, _unprotected, payload, signature = outer
    if not all(isinstance(part, bytes) for part in (protected, payload, signature)):
        raise FormatError("COSE_Sign1 parts are not byte strings")
    try:
        header = cbor2.loads(protected)
        body = cbor2.loads(payload)
    except Exception as exc:
        raise FormatError("header or payload is not CBOR") from exc
    if not isinstance(header, dict) or header.get(HEADER_ALG) != ALG_ES256:
        raise FormatError("alg is not ES256")
    kid = header.get(HEADER_KID)
    if not isinstance(kid, bytes) or len(kid) != KID_BYTES:
        raise FormatError("kid is not 8 bytes")
    return Decoded(kid, protected, payload, signature, _claims(body))


def _claims(body: Any) -> Claims:
    if not isinstance(body, dict) or not isinstance(body.get(CLAIM_PASS), dict):
        raise FormatError("claims are not a map")
    fields = body[CLAIM_PASS]
    times: list[int] = []
    for key in (CLAIM_IAT, CLAIM_NBF, CLAIM_EXP):
        value = body.get(key)
        if not isinstance(value, int) or isinstance(value, bool):
            raise FormatError("iat, nbf, exp must be integers")
        times.append(value)
    pass_id = fields.get(F_ID)
    zones = fields.get(F_ZONES)
    texts = [body.get(CLAIM_ISS), *(fields.get(k) for k in (F_KIND, F_HOLDER, F_UNIT, F_STATUS))]
    if not isinstance(pass_id, bytes) or len(pass_id) != PASS_ID_BYTES:
        raise FormatError("pass id is not 16 bytes")
    if not all(isinstance(t, str) for t in texts) or fields.get(F_KIND) not in KINDS:
        raise FormatError("bad text claim")
    if not isinstance(zones, list | tuple) or not all(isinstance(z, str) for z in zones):
        raise FormatError("zones are not a list of text")
    device = fields.get(F_DEVICE_KEY)
    printed = fields.get(F_PRINTED, False)
    if not isinstance(printed, bool):
        raise FormatError("printed is not a boolean")
    return Claims(
        issuer=body[CLAIM_ISS],
        pass_id=pass_id,
        kind=fields[F_KIND],
        holder=fields[F_HOLDER],
        unit=fields[F_UNIT],
        zones=tuple(zones),
        status=fields[F_STATUS],
        issued_at=times[0],
        not_before=times[1],
        expires=times[2],
        device_key=None if device is None else device_point(device),
        printed=printed,
    )


def pass_hash(pass_id: bytes) -> bytes:
    """What a revocation list holds: SHA-256 of the 16-byte pass id (never the signature:
    ECDSA signatures are malleable, the same pass has many)."""
    return hashlib.sha256(pass_id).digest()


# ---------------------------------------------------------------- device proof


def window_of(unix_seconds: float) -> int:
    return int(unix_seconds // WINDOW_SECONDS)


def proof_message(pass_id: bytes, window: int) -> bytes:
    """ "FK1-PROOF" || pass id (16 bytes) || window (uint32 big-endian): 29 bytes."""
    return PROOF_CONTEXT + pass_id + struct.pack(">I", window)


@dataclass(frozen=True)
class DeviceProof:
    window: int
    signature: bytes  # raw r||s by the device key


def prove(device_key: ec.EllipticCurvePrivateKey, pass_id: bytes, window: int) -> DeviceProof:
    """What the phone does every 30 seconds (in WebCrypto there; here for tests)."""
    return DeviceProof(window, sign_raw(device_key, proof_message(pass_id, window)))


def moving_code(pass_text: str, proof: DeviceProof) -> str:
    """FK1P: + base45(window uint32 ‖ r‖s) (102 characters) + the pass text after FK1:."""
    proof_text = base45.b45encode(struct.pack(">I", proof.window) + proof.signature).decode()
    return PROOF_PREFIX + proof_text + pass_text[len(PREFIX) :]


def split_moving_code(text: str) -> tuple[str, DeviceProof | None]:
    """Return (pass text, proof) from whatever the scanner read."""
    if not isinstance(text, str) or not text.startswith(PROOF_PREFIX):
        return text, None
    head = text[len(PROOF_PREFIX) : len(PROOF_PREFIX) + PROOF_TEXT_LENGTH]
    try:
        raw = base45.b45decode(head)
    except Exception as exc:
        raise FormatError("bad proof") from exc
    if len(raw) != PROOF_BYTES:
        raise FormatError("bad proof")
    window = struct.unpack(">I", raw[:4])[0]
    return PREFIX + text[len(PROOF_PREFIX) + PROOF_TEXT_LENGTH :], DeviceProof(window, raw[4:])


# ---------------------------------------------------------------- QR


def qr(text: str) -> segno.QRCode:
    """Level Q (25 % recoverable: gloves, scratches), alphanumeric mode (base45's alphabet
    is exactly QR's alphanumeric set, so no byte mode is needed)."""
    return segno.make_qr(text, error="q", mode="alphanumeric", boost_error=False)
