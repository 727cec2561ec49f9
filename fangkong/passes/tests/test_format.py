"""The FK1 format: what a pass carries, its QR code, the device proof's windows."""

import hashlib
import io
import re
import zlib

import base45
import cbor2
import pytest
from django.utils import translation

from fangkong.testing import read_qr_codes

from .. import format as fmt
from .. import verify as v
from ..vectors import BOUND, DEVICE, HOUR, ISSUER, NOW, POLICY, claims, trust_list

BASE45_TEXT = re.compile(r"FK1:[0-9A-Z $%*+\-./:]+")


def check(text, *, now=NOW, **kwargs):
    return v.verify(text, trust_list=trust_list(), revoked=set(), now=now, policy=POLICY, **kwargs)


def test_a_pass_is_base45_text_in_qr_alphanumeric_with_the_fk1_prefix():
    text = fmt.encode(claims(), ISSUER)
    assert BASE45_TEXT.fullmatch(text)
    code = fmt.qr(text)
    assert code.error == "Q"
    assert code.mode == "alphanumeric"


def test_a_pass_rendered_as_a_qr_png_is_decoded_back_and_verified():
    text = fmt.encode(claims(), ISSUER)
    png = io.BytesIO()
    fmt.qr(text).save(png, kind="png", scale=4, border=4)
    png.seek(0)
    assert read_qr_codes(png) == [text]
    verdict = check(text)
    assert verdict.ok
    assert verdict.claims.holder == "张*伟"


def test_the_moving_code_survives_the_qr_image_too():
    text = fmt.moving_code(
        fmt.encode(BOUND, ISSUER), fmt.prove(DEVICE, BOUND.pass_id, fmt.window_of(NOW))
    )
    png = io.BytesIO()
    fmt.qr(text).save(png, kind="png", scale=4, border=4)
    png.seek(0)
    [scanned] = read_qr_codes(png)
    assert check(scanned).ok
    assert check(scanned, now=NOW + 120).reason == v.STALE_PROOF


def test_the_signature_is_raw_r_and_s_and_the_kid_hashes_the_uncompressed_point():
    decoded = fmt.decode(fmt.encode(claims(), ISSUER))
    assert len(decoded.signature) == 64  # not DER (which starts 0x30 and is 70-72 bytes)
    point = fmt.public_point(ISSUER.public_key())
    assert decoded.kid == hashlib.sha256(point).digest()[:8]
    assert cbor2.loads(decoded.protected) == {1: -7, 4: decoded.kid}


def test_no_id_or_phone_number_is_carried():
    decoded = fmt.decode(fmt.encode(claims(holder="张*伟"), ISSUER))
    payload = cbor2.loads(decoded.payload)
    assert set(payload) == {1, 4, 5, 6, -65537}
    assert set(payload[-65537]) == {1, 2, 3, 4, 5, 6}
    assert not re.search(rb"[0-9]{6,}", decoded.payload.replace(decoded.claims.pass_id, b""))


def test_a_device_key_travels_as_a_cose_key_and_comes_back_as_the_point():
    decoded = fmt.decode(fmt.encode(BOUND, ISSUER))
    fields = cbor2.loads(decoded.payload)[-65537]
    assert fields[7][1] == 2 and fields[7][-1] == 1  # EC2, P-256
    assert decoded.claims.device_key == fmt.public_point(DEVICE.public_key())


@pytest.mark.parametrize(
    ("seconds_ago", "accepted"), [(0, True), (30, True), (59, True), (90, False), (120, False)]
)
def test_a_proof_is_accepted_within_60_seconds_of_the_corrected_clock(seconds_ago, accepted):
    now = 1_767_250_815  # the middle of a window
    window = fmt.window_of(now - seconds_ago)
    assert v.window_accepted(window, now) is accepted


def test_a_future_window_beyond_60_seconds_is_refused_too():
    now = 1_767_250_815
    assert v.window_accepted(fmt.window_of(now + 45), now)
    assert not v.window_accepted(fmt.window_of(now + 95), now)


def test_the_proof_message_is_the_context_the_pass_id_and_the_window():
    message = fmt.proof_message(b"\x01" * 16, 58_908_360)
    assert message == b"FK1-PROOF" + b"\x01" * 16 + (58_908_360).to_bytes(4, "big")


def test_the_guard_reads_why_in_the_active_language():
    text = fmt.moving_code(
        fmt.encode(BOUND, ISSUER), fmt.prove(DEVICE, BOUND.pass_id, fmt.window_of(NOW - 120))
    )
    verdict = check(text)
    with translation.override("en"):
        assert verdict.message == "The moving code has expired; show the live pass on the phone."


def test_the_scanner_clock_offset_corrects_an_expired_looking_pass():
    # The phone's clock is 3 hours ahead; the offset measured at sync brings it back.
    text = fmt.encode(claims(expires=NOW + HOUR), ISSUER)
    assert check(text, now=NOW + 3 * HOUR).reason == v.EXPIRED
    fixed = check(text, now=NOW + 3 * HOUR, clock_offset=-3 * HOUR)
    assert fixed.ok and fixed.warnings == (v.CLOCK_OFF,)


@pytest.mark.parametrize(
    "text", ["", "FK1:", "FK1:%%%%", "fk1:ABC", "FK1:" + "A" * 5000, None, "FK1P:ABC"]
)
def test_garbage_is_malformed_never_an_exception(text):
    assert check(text).reason == v.MALFORMED


@pytest.mark.parametrize(
    "mend",
    [lambda z: z[:-1], lambda z: z[:-4], lambda z: z + b"\x00", lambda z: z + z],
    ids=["checksum_cut", "checksum_gone", "a_byte_after", "twice"],
)
def test_a_zlib_stream_cut_short_or_followed_by_other_bytes_is_malformed(mend):
    # As the browser reads it (DecompressionStream): one whole stream, nothing after it.
    cose = zlib.decompress(base45.b45decode(fmt.encode(claims(), ISSUER)[4:]))
    mended = fmt.PREFIX + base45.b45encode(mend(zlib.compress(cose))).decode()
    assert check(fmt.PREFIX + base45.b45encode(zlib.compress(cose)).decode()).ok
    assert check(mended).reason == v.MALFORMED


def test_a_pass_inflating_past_8192_bytes_is_malformed():
    decoded = fmt.decode(fmt.encode(claims(), ISSUER))

    def sign1(padding: int) -> bytes:  # the unprotected header is not signed
        parts = [decoded.protected, {99: bytes(padding)}, decoded.payload, decoded.signature]
        return cbor2.dumps(cbor2.CBORTag(18, parts))

    padding = 8192 - len(sign1(300)) + 300
    for size, reason in ((8192, v.OK), (8193, v.MALFORMED)):
        cose = sign1(padding + size - 8192)
        assert len(cose) == size
        assert check(fmt.PREFIX + base45.b45encode(zlib.compress(cose)).decode()).reason == reason
