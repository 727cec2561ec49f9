"""The browser's verifier (static/js/passverify.js) in Chromium reaches the Python
verifier's verdict: on every published vector, on passes built at the format's edges, and
on a QR code whose text has spaces. The scanner decides with it when the network is down.

Each case runs ``passes.verify`` here and ``FKPass.verify`` in the page on the same inputs
and compares the reason, the detail, the warnings, the claims and the guard's words.
"""

import io
import json
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation

from fangkong.testing import CHROMIUM, CHROMIUM_ARGS, read_qr_codes, script_page

from .. import format as fmt
from .. import trust
from .. import verify as v
from ..vectors import ISSUER, NOW, POLICY, ROOT, STRANGER, claims, run, trust_list
from . import crafted

pytestmark = [
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Chromium is not installed"),
    pytest.mark.browser,
]
VECTORS = Path(settings.BASE_DIR) / "docs" / "pass-vectors"
ROOT_KEY = {"jwk": fmt.jwk_of(fmt.public_point(ROOT.public_key()))}
SIGNED = trust.sign(trust_list(), ROOT)

# What the scanner does: check the list against the pinned root key, then decide.
VERIFY = """async ({scanned, trust_list, root_key, revoked, now, clock_offset, policy}) => {
  const trustList = await FKPass.verifyTrustList({jws: trust_list}, root_key);
  const sets = {};
  for (const kid of Object.keys(trustList.keys)) sets[kid] = new Set(revoked);
  return FKPass.verify(scanned, {
    trustList, revoked: sets, now: (now + clock_offset) * 1000, clockOffset: clock_offset * 1000,
    policy
  });
}"""


def published() -> list[dict]:
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(VECTORS.glob("*.json"))]


def vector_of(scanned: object) -> dict:
    """The inputs of a published vector (the ``ok`` one) around another scanned text."""
    return {
        "scanned": scanned,
        "root_key": {"hex": fmt.public_point(ROOT.public_key()).hex()},
        "trust_list": SIGNED,
        "revoked": [],
        "now": NOW,
        "clock_offset": 0,
        "policy": {
            "zones": sorted(POLICY.zones),
            "admit_statuses": sorted(POLICY.admit_statuses),
            "refuse_printed": False,
            "refuse_without_device_key": False,
            "outsiders_banned": False,
        },
    }


def in_python(vector: dict) -> dict:
    """What the Python verifier decides, in the shape the browser answers."""
    verdict = run(vector)
    c = verdict.claims
    with translation.override("zh-hans"):
        message, warning_messages = verdict.message, verdict.warning_messages
    return {
        "reason": verdict.reason,
        "detail": verdict.detail,
        "warnings": list(verdict.warnings),
        "message_zh": message,
        "warning_messages_zh": warning_messages,
        "claims": None
        if c is None
        else {
            "issuer": c.issuer,
            "pass_id_hex": c.pass_id.hex(),
            "pass_id_hash": fmt.pass_hash(c.pass_id).hex(),
            "kind": c.kind,
            "holder": c.holder,
            "unit": c.unit,
            "zones": list(c.zones),
            "colour": c.status,
            "printed": c.printed,
            "device_key": c.device_key.hex() if c.device_key else None,
            # JavaScript numbers are doubles: a time past 2^53 seconds is compared as one
            "iat": float(c.issued_at),
            "nbf": float(c.not_before),
            "exp": float(c.expires),
        },
    }


def in_browser(page, vector: dict) -> dict:
    verdict = page.evaluate(VERIFY, vector)
    assert verdict["code"] == verdict["reason"]
    assert verdict["ok"] == (verdict["reason"] == v.OK)
    if verdict["claims"]:
        verdict["claims"].update({t: float(verdict["claims"][t]) for t in ("iat", "nbf", "exp")})
    return {
        key: verdict[key]
        for key in ("reason", "detail", "warnings", "message_zh", "warning_messages_zh", "claims")
    }


@pytest.fixture(scope="module")
def page():
    """A Chromium page with passverify.js loaded and no network of its own."""
    from playwright.sync_api import sync_playwright

    with script_page("js/passverify.js") as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            tab = browser.new_context().new_page()
            tab.goto(url)
            tab.wait_for_function("window.FKPass !== undefined")
            yield tab
        finally:
            browser.close()


@pytest.mark.parametrize("vector", published(), ids=lambda vector: vector["name"])
def test_each_published_vector_gets_the_python_verdict_in_the_browser(page, vector):
    python = in_python(vector)
    assert {k: python[k] for k in ("reason", "detail", "warnings")} == vector["expected"]
    assert in_browser(page, vector) == python


def test_every_reason_code_is_reached_in_the_browser(page):
    reasons = {in_browser(page, vector)["reason"] for vector in published()}
    assert reasons == set(v.REASONS)
    assert page.evaluate("FKPass.REASONS") == list(v.REASONS)


@pytest.mark.parametrize("name", sorted(crafted.SAME))
def test_a_pass_at_the_formats_edges_gets_the_python_verdict(page, name):
    vector = vector_of(crafted.SAME[name]())
    assert in_browser(page, vector) == in_python(vector)


@pytest.mark.parametrize("name", sorted(crafted.STRICTER))
def test_what_only_the_python_library_reads_is_refused_in_the_browser(page, name):
    vector = vector_of(crafted.STRICTER[name]())
    assert in_python(vector)["reason"] != v.MALFORMED
    assert in_browser(page, vector)["reason"] == v.MALFORMED


@pytest.mark.parametrize(
    "scanned", ["", "FK1:", "FK1:%%%%", "fk1:ABC", "FK1:" + "A" * 5000, None, 42, "FK1P:ABC"]
)
def test_garbage_is_malformed_in_the_browser_too(page, scanned):
    browser = in_browser(page, vector_of(scanned))
    assert browser["reason"] == v.MALFORMED
    assert browser["message_zh"] == "不是有效的通行码"
    assert browser == in_python(vector_of(scanned))


def _text_with_two_spaces_in_a_row() -> str:
    for n in range(2000):
        text = fmt.encode(claims(pass_id=n.to_bytes(16, "big")), ISSUER)
        if "  " in text:
            return text
    raise AssertionError("no pass text has two spaces in a row")


def test_a_qr_code_whose_text_has_spaces_is_admitted(page):
    # base45's 37th character is a space: a scanner that trims, splits or tidies the decoded
    # text breaks the pass. This one has two spaces in a row.
    text = _text_with_two_spaces_in_a_row()
    png = io.BytesIO()
    fmt.qr(text).save(png, kind="png", scale=4, border=4)
    png.seek(0)
    [scanned] = read_qr_codes(png)
    assert scanned == text
    browser = in_browser(page, vector_of(scanned))
    assert browser["reason"] == v.OK
    assert browser["message_zh"] == "准许通行"
    assert browser["claims"]["holder"] == "张*伟"
    assert browser == in_python(vector_of(scanned))
    # The same text with its spaces tidied up is not a pass any more, on either side.
    tidied = vector_of(scanned.replace("  ", " "))
    assert in_browser(page, tidied)["reason"] == in_python(tidied)["reason"] == v.MALFORMED


DISCARD = """async ({jws, root_key}) => {
  try { await FKPass.verifyTrustList(jws, root_key); return "kept"; }
  catch (error) { return error.code; }
}"""


def _tampered_lists() -> dict[str, str]:
    header, payload, signature = SIGNED.split(".")
    other = trust.sign(trust_list(), STRANGER)
    longer = trust.b64url(
        json.dumps({**json.loads(trust.unb64url(payload)), "version": 8}).encode()
    )
    return {
        "payload_changed": f"{header}.{longer}.{signature}",
        "signed_by_another_key": other,
        "signature_cut": f"{header}.{payload}.{signature[:-4]}",
        "two_parts": f"{header}.{payload}",
        "not_a_jws": "hello",
    }


@pytest.mark.parametrize("name", sorted(_tampered_lists()))
def test_a_trust_list_the_root_key_did_not_sign_is_discarded_in_the_browser(page, name):
    jws = _tampered_lists()[name]
    root_point = fmt.public_point(ROOT.public_key())
    with pytest.raises(trust.TrustListError):
        trust.parse(jws, root_point)
    assert page.evaluate(DISCARD, {"jws": jws, "root_key": ROOT_KEY}) == "trust_list_invalid"


def test_the_trust_list_as_the_api_answers_it_is_read_in_the_browser(page):
    answer = json.dumps({"version": 7, "issued_at": 0, "valid_until": 0, "jws": SIGNED})
    checked = page.evaluate(
        """async ({answer, root}) => {
          const list = await FKPass.verifyTrustList(answer, root);
          const hourBefore = (list.valid_until - 3600) * 1000;
          return {version: list.version, valid_until: list.valid_until,
                  kids: Object.keys(list.keys).sort(), jws: list.jws,
                  warnings: FKPass.warnings(list, hourBefore, 0)};
        }""",
        {"answer": answer, "root": fmt.public_point(ROOT.public_key()).hex()},
    )
    parsed = trust.parse(SIGNED, fmt.public_point(ROOT.public_key()))
    assert checked == {
        "version": parsed.version,
        "valid_until": parsed.valid_until,  # the signed payload's, not the answer's
        "kids": sorted(kid.hex() for kid in parsed.keys),
        "jws": SIGNED,
        "warnings": [v.TRUST_LIST_EXPIRING],
    }


def test_without_a_trust_list_everything_is_refused(page):
    verdict = page.evaluate("FKPass.verify('FK1:', {now: Date.now()})")
    assert verdict["reason"] == v.TRUST_LIST_EXPIRED
    assert verdict["claims"] is None


def test_the_guards_words_are_the_catalogues(page):
    """passverify.js carries verify.py's messages in Chinese: the same words either way."""
    with translation.override("zh-hans"):
        expected = {
            "reasons": {k: str(m) for k, m in v.MESSAGES.items()},
            "details": {k: str(m) for k, m in v.DETAIL_MESSAGES.items()},
            "warnings": {k: str(m) for k, m in v.WARNING_MESSAGES.items()},
        }
    assert page.evaluate("FKPass.MESSAGES_ZH") == expected
