"""Passes built byte by byte at the edges of the format, for the browser verifier's test.

Each is signed by the vectors' test issuer (so the checks after the signature run too) and
read with the vectors' inputs (trust list, clock, checkpoint). The browser's verifier must
reach the Python verifier's verdict on every one in ``SAME``; in ``STRICTER`` the Python
CBOR library reads something a pass never needs (a semantic tag, deep nesting, loose
base64) that the browser refuses: a refusal there, never an admission.
"""

import struct
import zlib
from collections.abc import Callable

import base45
import cbor2

from .. import format as fmt
from ..vectors import DEVICE, HOUR, ISSUER, NOW, STRANGER

Pair = tuple[bytes, bytes]
PASS_ID = bytes.fromhex("0f" * 16)
DEVICE_POINT = fmt.public_point(DEVICE.public_key())
KID = fmt.key_id(fmt.public_point(ISSUER.public_key()))


# ---------------------------------------------------------------- CBOR by hand


def head(major: int, value: int, width: int = 0) -> bytes:
    """A CBOR head; ``width`` (1, 2, 4 or 8 bytes) forces a longer encoding than needed."""
    if not width:
        width = next(
            w for w, top in ((0, 24), (1, 256), (2, 65536), (4, 2**32), (8, 2**64)) if value < top
        )
    if width == 0:
        return bytes([major << 5 | value])
    info = {1: 24, 2: 25, 4: 26, 8: 27}[width]
    return bytes([major << 5 | info]) + value.to_bytes(width, "big")


def uint(value: int, width: int = 0) -> bytes:
    return head(0, value, width)


def nint(value: int) -> bytes:
    return head(1, -1 - value)


def bstr(data: bytes) -> bytes:
    return head(2, len(data)) + data


def tstr(text: str) -> bytes:
    data = text.encode()
    return head(3, len(data)) + data


def array(*items: bytes) -> bytes:
    return head(4, len(items)) + b"".join(items)


def cmap(pairs: list[Pair], *, indefinite: bool = False) -> bytes:
    body = b"".join(key + value for key, value in pairs)
    return b"\xbf" + body + b"\xff" if indefinite else head(5, len(pairs)) + body


def tag(number: int, item: bytes) -> bytes:
    return head(6, number) + item


def float64(value: float) -> bytes:
    return b"\xfb" + struct.pack(">d", value)


SELF_DESCRIBED = b"\xd9\xd9\xf7"  # tag 55799
PROTECTED = cbor2.dumps({fmt.HEADER_ALG: fmt.ALG_ES256, fmt.HEADER_KID: KID})


def fields(**changes: Pair | None) -> list[Pair]:
    """The fangkong map (CWT claim -65537) of a person's pass; a change replaces a field
    (or drops it, given None)."""
    base: dict[str, Pair | None] = {
        "id": (uint(1), bstr(PASS_ID)),
        "kind": (uint(2), tstr("person")),
        "holder": (uint(3), tstr("张*伟")),
        "unit": (uint(4), tstr("A1W1")),
        "zones": (uint(5), array(tstr("A1"))),
        "status": (uint(6), tstr("green")),
        **changes,
    }
    return [pair for pair in base.values() if pair is not None]


def body(passes: bytes | None = None, /, **changes: Pair | None) -> bytes:
    """The CWT claims map, with the fangkong map ``passes`` (default: ``fields()``)."""
    base: dict[str, Pair | None] = {
        "iss": (uint(1), tstr("G")),
        "iat": (uint(6), uint(NOW - 8 * HOUR)),
        "nbf": (uint(5), uint(NOW - 8 * HOUR)),
        "exp": (uint(4), uint(NOW + 9 * HOUR)),
        "pass": (nint(fmt.CLAIM_PASS), passes if passes is not None else cmap(fields())),
        **changes,
    }
    return cmap([pair for pair in base.values() if pair is not None])


def cose(
    payload: bytes | None = None,
    *,
    protected: bytes = PROTECTED,
    signature: bytes | None = None,
    unprotected: bytes = b"\xa0",
    prefix: bytes = b"\xd2",  # tag 18
    after: bytes = b"",
    signer=ISSUER,
) -> bytes:
    """A COSE_Sign1, signed over the bytes given unless ``signature`` is."""
    payload = body() if payload is None else payload
    if signature is None:
        signature = fmt.sign_raw(signer, fmt.sig_structure(protected, payload))
    return (
        prefix + b"\x84" + bstr(protected) + unprotected + bstr(payload) + bstr(signature) + after
    )


def text(cose_bytes: bytes, *, level: int = 9, mend: Callable[[bytes], bytes] | None = None) -> str:
    """The pass text of ``cose_bytes``; ``mend`` changes the zlib stream first."""
    compressed = zlib.compress(cose_bytes, level)
    if mend is not None:
        compressed = mend(compressed)
    return fmt.PREFIX + base45.b45encode(compressed).decode()


def moving(pass_text: str, window_at: float = NOW, *, window: int | None = None) -> str:
    """The moving code of ``pass_text``: a proof by the vectors' phone key."""
    number = fmt.window_of(window_at) if window is None else window
    return fmt.moving_code(pass_text, fmt.prove(DEVICE, PASS_ID, number))


def bound(device: bytes) -> str:
    """A moving code for a pass whose device key field (7) is ``device`` (raw CBOR)."""
    return moving(text(cose(body(cmap(fields(device=(uint(7), device)))))))


def cose_key(**changes: bytes) -> bytes:
    parts = {
        "kty": (uint(1), uint(2)),
        "crv": (nint(-1), uint(1)),
        "x": (nint(-2), bstr(DEVICE_POINT[1:33])),
        "y": (nint(-3), bstr(DEVICE_POINT[33:])),
    }
    parts.update({name: (parts[name][0], value) for name, value in changes.items()})
    return cmap(list(parts.values()))


def jwk(x: str | None = None) -> bytes:
    key = fmt.jwk_of(DEVICE_POINT)
    return cmap(
        [
            (tstr(name), tstr(x if name == "x" and x is not None else value))
            for name, value in key.items()
        ]
    )


def padded_to_length(length: int) -> str:
    """The shortest pass text of at least ``length`` characters (stored zlib, padding in the
    unprotected header, which the signature does not cover)."""
    payload = body()
    signature = fmt.sign_raw(ISSUER, fmt.sig_structure(PROTECTED, payload))
    for size in range(length):
        padding = cmap([(uint(99), bstr(bytes(size)))])
        stored = zlib.compress(cose(payload, signature=signature, unprotected=padding), 0)
        if len(fmt.PREFIX) + len(stored) // 2 * 3 + len(stored) % 2 * 2 >= length:
            return fmt.PREFIX + base45.b45encode(stored).decode()
    raise AssertionError("no padding reaches that length")


def inflating_to(size: int) -> str:
    """A pass whose COSE_Sign1 is exactly ``size`` bytes (padding in the unprotected map)."""
    payload = body()
    signature = fmt.sign_raw(ISSUER, fmt.sig_structure(PROTECTED, payload))
    for pad in range(size):
        data = cose(payload, signature=signature, unprotected=cmap([(uint(99), bstr(bytes(pad)))]))
        if len(data) == size:
            return text(data)
    raise AssertionError("no padding makes that size")


def with_fields(**changes: Pair | None) -> str:
    """A signed pass whose fangkong map has these changes."""
    return text(cose(body(cmap(fields(**changes)))))


def with_claims(**changes: Pair | None) -> str:
    """A signed pass whose claims map has these changes."""
    return text(cose(body(**changes)))


def _flip_last(data: bytes) -> bytes:
    return data[:-1] + bytes([data[-1] ^ 1])


def plain() -> str:
    return text(cose())


# name -> how to make the scanned text (signed when the test runs). The Python verdict is
# computed by the test, not stored here.
SAME: dict[str, Callable[[], str]] = {
    # the text
    "plain": plain,
    "line_feed_after": lambda: plain() + "\n",
    "carriage_return_after": lambda: plain() + "\r\n",
    "space_before": lambda: "FK1: " + plain()[4:],
    "lower_case": lambda: "FK1:" + plain()[4:].lower(),
    "length_4096": lambda: padded_to_length(4096),
    "length_4098": lambda: padded_to_length(4097),  # 4,097 cannot be: base45 never ends in 1 of 3
    "moving_code_line_feed_after": lambda: bound(cose_key()) + "\n",
    "proof_lower_case": lambda: "FK1P:" + bound(cose_key())[5:107].lower() + plain()[4:],
    "proof_cut_short": lambda: bound(cose_key())[:60],
    "proof_on_a_pass_without_device_key": lambda: moving(plain()),
    "proof_window_out_of_range": lambda: moving(
        text(cose(body(cmap(fields(device=(uint(7), cose_key())))))), window=2**32 - 1
    ),
    # the zlib stream
    "zlib_stored": lambda: text(cose(), level=0),
    "zlib_bytes_after": lambda: text(cose(), mend=lambda z: z + b"\x00"),
    "zlib_checksum_cut": lambda: text(cose(), mend=lambda z: z[:-1]),
    "zlib_checksum_wrong": lambda: text(cose(), mend=_flip_last),
    "zlib_without_header": lambda: text(cose(), mend=lambda z: z[2:]),
    "inflates_to_8192": lambda: inflating_to(8192),
    "inflates_to_8193": lambda: inflating_to(8193),
    # the COSE_Sign1
    "untagged": lambda: text(cose(prefix=b"")),
    "self_described": lambda: text(cose(prefix=SELF_DESCRIBED + b"\xd2")),
    "tag_17": lambda: text(cose(prefix=b"\xd1")),
    "tag_18_twice": lambda: text(cose(prefix=b"\xd2\xd2")),
    "three_parts": lambda: text(b"\xd2\x83" + bstr(PROTECTED) + b"\xa0" + bstr(body())),
    "bytes_after_the_cose": lambda: text(cose(after=b"\x00\x01")),
    "unprotected_odd_values": lambda: text(
        cose(
            unprotected=cmap(
                [
                    (uint(1), tag(24, bstr(b"x"))),
                    (uint(2), b"\xf0"),
                    (uint(3), b"\xf8\x20"),
                    (float64(1.5), b"\xf9\x3c\x00"),
                    (b"\xf7", b"\xf6"),
                ]
            )
        )
    ),
    "unprotected_not_a_map": lambda: text(cose(unprotected=uint(5))),
    "unprotected_indefinite": lambda: text(
        cose(unprotected=cmap([(uint(4), bstr(KID))], indefinite=True))
    ),
    "unprotected_nested_40": lambda: text(cose(unprotected=b"\x81" * 40 + b"\x00")),
    "unprotected_value_missing": lambda: text(cose(unprotected=b"\xbf\x01\xff")),
    "unprotected_reserved_head": lambda: text(cose(unprotected=b"\x1c")),
    "unprotected_break_alone": lambda: text(cose(unprotected=b"\xff")),
    "unprotected_bad_simple_value": lambda: text(cose(unprotected=b"\xf8\x10")),
    "unprotected_bignum_of_an_integer": lambda: text(cose(unprotected=b"\xc2\x01")),
    "unprotected_length_beyond_the_end": lambda: text(
        cose(unprotected=b"\x5b\x00\x00\x00\x01\x00\x00\x00\x00")
    ),
    "protected_as_text": lambda: text(cose(protected=tstr("alg"))),
    "signature_63_bytes": lambda: text(cose(signature=bytes(63))),
    "signature_der": lambda: text(
        cose(signature=b"\x30\x44\x02\x20" + bytes(32) + b"\x02\x20" + bytes(32))
    ),
    "signature_as_text": lambda: text(
        b"\xd2\x84" + bstr(PROTECTED) + b"\xa0" + bstr(body()) + tstr("signature")
    ),
    # the protected header
    "alg_longer_encoding": lambda: text(
        cose(protected=cmap([(uint(1), b"\x38\x06"), (uint(4), bstr(KID))]))
    ),
    "alg_as_a_float": lambda: text(
        cose(protected=cmap([(uint(1), b"\xf9\xc7\x00"), (uint(4), bstr(KID))]))
    ),
    "alg_as_a_bignum": lambda: text(
        cose(protected=cmap([(uint(1), b"\xc3\x41\x06"), (uint(4), bstr(KID))]))
    ),
    "alg_under_the_key_true": lambda: text(
        cose(protected=cmap([(b"\xf5", nint(-7)), (uint(4), bstr(KID))]))
    ),
    "alg_twice_the_last_es256": lambda: text(
        cose(protected=cmap([(uint(1), nint(-35)), (uint(1), nint(-7)), (uint(4), bstr(KID))]))
    ),
    "alg_twice_the_last_es384": lambda: text(
        cose(protected=cmap([(uint(1), nint(-7)), (uint(1), nint(-35)), (uint(4), bstr(KID))]))
    ),
    "alg_es384": lambda: text(cose(protected=cmap([(uint(1), nint(-35)), (uint(4), bstr(KID))]))),
    "kid_7_bytes": lambda: text(
        cose(protected=cmap([(uint(1), nint(-7)), (uint(4), bstr(KID[:7]))]))
    ),
    "kid_as_text": lambda: text(
        cose(protected=cmap([(uint(1), nint(-7)), (uint(4), tstr(KID.hex()))]))
    ),
    "header_self_described": lambda: text(cose(protected=SELF_DESCRIBED + PROTECTED)),
    "header_indefinite": lambda: text(
        cose(protected=cmap([(uint(1), nint(-7)), (uint(4), bstr(KID))], indefinite=True))
    ),
    "header_bytes_after": lambda: text(cose(protected=PROTECTED + b"\x00")),
    "unknown_key_and_a_device_key_off_the_curve": lambda: text(
        cose(
            body(cmap(fields(device=(uint(7), bstr(b"\x04" + bytes(64)))))),
            signer=STRANGER,
            protected=cbor2.dumps({1: -7, 4: fmt.key_id(fmt.public_point(STRANGER.public_key()))}),
        )
    ),
    # the claims
    "iat_as_a_float": lambda: with_claims(iat=(uint(6), float64(NOW - 8 * HOUR))),
    "exp_as_true": lambda: with_claims(exp=(uint(4), b"\xf5")),
    "nbf_as_a_bignum": lambda: with_claims(
        nbf=(uint(5), tag(2, bstr((NOW - HOUR).to_bytes(8, "big"))))
    ),
    "exp_longer_encoding": lambda: with_claims(exp=(uint(4), uint(NOW + HOUR, 8))),
    "exp_far_future": lambda: with_claims(exp=(uint(4), uint(2**62))),
    "exp_beyond_64_bits": lambda: with_claims(exp=(uint(4), tag(2, bstr(b"\x01" + bytes(9))))),
    "nbf_negative": lambda: with_claims(nbf=(uint(5), nint(-5))),
    "nbf_tomorrow": lambda: with_claims(
        nbf=(uint(5), uint(NOW + 24 * HOUR)), exp=(uint(4), uint(NOW + 48 * HOUR))
    ),
    "exp_now": lambda: with_claims(exp=(uint(4), uint(NOW))),
    "exp_a_second_later": lambda: with_claims(exp=(uint(4), uint(NOW + 1))),
    "claims_self_described": lambda: text(cose(SELF_DESCRIBED + body())),
    "fields_self_described": lambda: text(cose(body(SELF_DESCRIBED + cmap(fields())))),
    "zones_self_described": lambda: with_fields(
        zones=(uint(5), SELF_DESCRIBED + array(tstr("A1")))
    ),
    "claims_key_as_a_float": lambda: with_claims(
        **{"pass": (b"\xfa\xc7\x80\x00\x80", cmap(fields()))}
    ),
    "iss_under_the_key_true": lambda: with_claims(iss=(b"\xf5", tstr("G"))),
    "claims_bytes_after": lambda: text(cose(body() + b"\x00")),
    "claims_indefinite": lambda: text(
        cose(
            cmap(
                [
                    (uint(1), tstr("G")),
                    (uint(6), uint(NOW)),
                    (uint(5), uint(NOW)),
                    (uint(4), uint(NOW + HOUR)),
                    (nint(fmt.CLAIM_PASS), cmap(fields(), indefinite=True)),
                ],
                indefinite=True,
            )
        )
    ),
    "claims_a_nan_key": lambda: with_claims(nan=(b"\xf9\x7e\x00", uint(1))),
    "claims_without_iss": lambda: with_claims(iss=None),
    "kind_alien": lambda: with_fields(kind=(uint(2), tstr("alien"))),
    "kind_twice_the_last_person": lambda: text(
        cose(body(cmap([*fields(kind=(uint(2), tstr("alien"))), (uint(2), tstr("person"))])))
    ),
    "kind_vehicle": lambda: with_fields(
        kind=(uint(2), tstr("vehicle")), holder=(uint(3), tstr("鲁C·***45"))
    ),
    "visitor": lambda: with_fields(kind=(uint(2), tstr("visitor"))),
    "holder_as_bytes": lambda: with_fields(holder=(uint(3), bstr("张*伟".encode()))),
    "holder_in_chunks": lambda: with_fields(
        holder=(uint(3), b"\x7f" + tstr("张*") + tstr("伟") + b"\xff")
    ),
    "holder_chunk_splits_a_character": lambda: with_fields(
        holder=(uint(3), b"\x7f\x61\xe5\x62\xbc\xa0\xff")
    ),
    "holder_byte_order_mark": lambda: with_fields(holder=(uint(3), tstr("\ufeff张*伟"))),
    "holder_not_utf8": lambda: with_fields(holder=(uint(3), b"\x62\xc3\x28")),
    "holder_surrogate": lambda: with_fields(holder=(uint(3), b"\x63\xed\xa0\x80")),
    "pass_id_15_bytes": lambda: with_fields(id=(uint(1), bstr(PASS_ID[:15]))),
    "pass_id_in_chunks": lambda: with_fields(
        id=(uint(1), b"\x5f" + bstr(PASS_ID[:5]) + bstr(PASS_ID[5:]) + b"\xff")
    ),
    "pass_id_missing": lambda: with_fields(id=None),
    "zones_not_text": lambda: with_fields(zones=(uint(5), array(uint(1)))),
    "zones_empty": lambda: with_fields(zones=(uint(5), array())),
    "zones_a_text": lambda: with_fields(zones=(uint(5), tstr("A1"))),
    "status_yellow": lambda: with_fields(status=(uint(6), tstr("yellow"))),
    "printed_null": lambda: with_fields(printed=(uint(8), b"\xf6")),
    "printed_one": lambda: with_fields(printed=(uint(8), uint(1))),
    "printed_true": lambda: with_fields(printed=(uint(8), b"\xf5")),
    "fields_extra_key": lambda: with_fields(
        extra=(uint(99), array(b"\xf7", b"\xf4", float64(2.5)))
    ),
    # the device key
    "device_null": lambda: with_fields(device=(uint(7), b"\xf6")),
    "device_undefined": lambda: with_fields(device=(uint(7), b"\xf7")),
    "device_cose_key": lambda: bound(cose_key()),
    "device_cose_key_without_proof": lambda: with_fields(device=(uint(7), cose_key())),
    "device_cose_key_stale_proof": lambda: moving(
        text(cose(body(cmap(fields(device=(uint(7), cose_key())))))), NOW - 120
    ),
    "device_point": lambda: bound(bstr(DEVICE_POINT)),
    "device_point_off_the_curve": lambda: bound(bstr(b"\x04" + bytes(64))),
    "device_point_compressed": lambda: bound(bstr(b"\x02" + DEVICE_POINT[1:33] + bytes(32))),
    "device_point_64_bytes": lambda: bound(bstr(DEVICE_POINT[1:])),
    "device_cose_key_numbers_as_float_and_true": lambda: bound(
        cose_key(kty=b"\xf9\x40\x00", crv=b"\xf5")
    ),
    "device_cose_key_p384": lambda: bound(cose_key(crv=uint(2))),
    "device_cose_key_x_31_bytes": lambda: bound(cose_key(x=bstr(DEVICE_POINT[1:32]))),
    "device_jwk": lambda: bound(jwk()),
    "device_self_described": lambda: bound(SELF_DESCRIBED + cose_key()),
    "device_a_number": lambda: bound(uint(4)),
}

STRICTER: dict[str, Callable[[], str]] = {
    "unprotected_datetime_tag": lambda: text(
        cose(unprotected=cmap([(uint(9), tag(1, uint(NOW)))]))
    ),
    "alg_as_a_decimal_fraction": lambda: text(
        cose(protected=cmap([(uint(1), tag(4, array(uint(0), nint(-7)))), (uint(4), bstr(KID))]))
    ),
    "unprotected_nested_100": lambda: text(cose(unprotected=b"\x81" * 100 + b"\x00")),
    "device_jwk_with_padding": lambda: bound(jwk(fmt.jwk_of(DEVICE_POINT)["x"] + "=")),
}
