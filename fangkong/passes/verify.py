"""The offline verifier: a pass text in, a verdict out. No database, no network.

The guard's scanner (in the browser) implements the same steps in the same order; both
must reach the same verdict on every vector in docs/pass-vectors/.
"""

from collections.abc import Container
from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _

from . import format as fmt
from .trust import TrustList

# Reason codes, exactly these (the gate's log and the scanner count refusals by them).
OK = "ok"
EXPIRED = "expired"
NOT_YET_VALID = "not_yet_valid"
REVOKED = "revoked"
BAD_SIGNATURE = "bad_signature"
UNKNOWN_KEY = "unknown_key"
STATUS = "status"
ZONE = "zone"
STALE_PROOF = "stale_proof"
TRUST_LIST_EXPIRED = "trust_list_expired"
MALFORMED = "malformed"
REASONS = (
    OK,
    EXPIRED,
    NOT_YET_VALID,
    REVOKED,
    BAD_SIGNATURE,
    UNKNOWN_KEY,
    STATUS,
    ZONE,
    STALE_PROOF,
    TRUST_LIST_EXPIRED,
    MALFORMED,
)
# Warnings: the pass may still be admitted.
TRUST_LIST_EXPIRING = "trust_list_expiring"
CLOCK_OFF = "clock_off"
TRUST_LIST_WARN_SECONDS = 24 * 3600
CLOCK_WARN_SECONDS = 5 * 60

# What the guard reads (Chinese by default), by reason, then by detail (a finer cause).
MESSAGES = {
    OK: _("Admitted."),
    EXPIRED: _("The pass has expired."),
    NOT_YET_VALID: _("The pass is not valid yet."),
    REVOKED: _("The pass has been revoked."),
    BAD_SIGNATURE: _("The pass is not genuine: its signature does not match."),
    UNKNOWN_KEY: _("The pass was signed by a key that is not on the trust list."),
    STATUS: _("The holder's health status does not admit entry."),
    ZONE: _("The pass does not admit at this checkpoint."),
    STALE_PROOF: _("The moving code has expired; show the live pass on the phone."),
    TRUST_LIST_EXPIRED: _(
        "The trust list has expired: everyone is refused until the scanner syncs online."
    ),
    MALFORMED: _("This is not a valid pass code."),
}
DETAIL_MESSAGES = {
    "outsiders_banned": _("Outsiders may not enter at this checkpoint."),
    "printed_refused": _(
        "This checkpoint does not accept printed passes; show the live pass on the phone."
    ),
    "no_device_key": _("This checkpoint accepts only live passes bound to a phone."),
    "proof_signature": _(
        "The moving code's signature does not match; show the live pass on the phone."
    ),
}
WARNING_MESSAGES = {
    TRUST_LIST_EXPIRING: _("The trust list expires within 24 hours: sync the scanner online soon."),
    CLOCK_OFF: _("The scanner's clock is more than 5 minutes off the server's: set its time."),
}


@dataclass(frozen=True)
class Policy:
    """What one checkpoint admits. The seed default: green only."""

    zones: frozenset[str]
    admit_statuses: frozenset[str] = frozenset({"green"})
    refuse_printed: bool = False
    refuse_without_device_key: bool = False
    outsiders_banned: bool = False


@dataclass(frozen=True)
class Verdict:
    reason: str
    detail: str = ""
    claims: fmt.Claims | None = None
    warnings: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return self.reason == OK

    @property
    def message(self) -> str:
        """The guard's message in the active language (Chinese by default)."""
        return str(DETAIL_MESSAGES.get(self.detail) or MESSAGES[self.reason])

    @property
    def warning_messages(self) -> list[str]:
        return [str(WARNING_MESSAGES[w]) for w in self.warnings]


def verify(
    text: str,
    *,
    trust_list: TrustList,
    revoked: Container[bytes],
    now: float,
    policy: Policy,
    clock_offset: float = 0.0,
    proof: fmt.DeviceProof | None = None,
) -> Verdict:
    """Decide on one scanned text (a pass, or a moving code carrying its device proof).

    ``trust_list`` has been checked against the group's root key already
    (``trust.parse``); ``revoked`` holds the SHA-256 hashes of revoked pass ids for the
    pass's key; ``now`` is the scanner's clock (unix seconds) and ``clock_offset`` the
    server's time minus the scanner's, measured at the last sync.
    """
    clock = now + clock_offset
    warnings = _warnings(trust_list, clock, clock_offset)
    if clock >= trust_list.valid_until:
        return Verdict(TRUST_LIST_EXPIRED, warnings=warnings)  # fail safe: refuse everything
    try:
        text, carried = fmt.split_moving_code(text)
        decoded = fmt.decode(text)
    except fmt.FormatError:
        return Verdict(MALFORMED, warnings=warnings)
    proof = proof or carried
    reason, detail = _decide(decoded, trust_list, revoked, clock, policy, proof)
    trusted = reason not in (UNKNOWN_KEY, BAD_SIGNATURE)  # an unsigned claim says nothing
    return Verdict(reason, detail, decoded.claims if trusted else None, warnings)


def _warnings(trust_list: TrustList, clock: float, clock_offset: float) -> tuple[str, ...]:
    warnings = []
    if trust_list.valid_until - clock < TRUST_LIST_WARN_SECONDS:
        warnings.append(TRUST_LIST_EXPIRING)
    if abs(clock_offset) > CLOCK_WARN_SECONDS:
        warnings.append(CLOCK_OFF)
    return tuple(warnings)


def _decide(
    decoded: fmt.Decoded,
    trust_list: TrustList,
    revoked: Container[bytes],
    clock: float,
    policy: Policy,
    proof: fmt.DeviceProof | None,
) -> tuple[str, str]:
    key = trust_list.key_at(decoded.kid, clock)
    if key is None:
        return UNKNOWN_KEY, ""
    if not fmt.verify_raw(
        key.public_key, decoded.signature, fmt.sig_structure(decoded.protected, decoded.payload)
    ):
        return BAD_SIGNATURE, ""
    claims = decoded.claims
    if clock < claims.not_before:
        return NOT_YET_VALID, ""
    if clock >= claims.expires:
        return EXPIRED, ""
    if fmt.pass_hash(claims.pass_id) in revoked:
        return REVOKED, ""
    if claims.status not in policy.admit_statuses:
        return STATUS, ""
    if not policy.zones.intersection(claims.zones):
        return ZONE, ""
    if claims.kind == "visitor" and policy.outsiders_banned:
        return ZONE, "outsiders_banned"
    return _presence(claims, policy, proof, clock)


def _presence(
    claims: fmt.Claims, policy: Policy, proof: fmt.DeviceProof | None, clock: float
) -> tuple[str, str]:
    """The anti-screenshot rules: a pass bound to a phone needs a fresh proof from it."""
    if claims.device_key is None:
        if claims.printed and policy.refuse_printed:
            return STALE_PROOF, "printed_refused"
        if policy.refuse_without_device_key:
            return STALE_PROOF, "no_device_key"
        return OK, ""
    if proof is None or not window_accepted(proof.window, clock):
        return STALE_PROOF, ""
    device = fmt.public_key_from_point(claims.device_key)
    if not fmt.verify_raw(device, proof.signature, fmt.proof_message(claims.pass_id, proof.window)):
        return STALE_PROOF, "proof_signature"
    return OK, ""


def window_accepted(window: int, clock: float) -> bool:
    """A window is accepted when it overlaps [clock − 60 s, clock + 60 s]."""
    tolerance = fmt.PROOF_TOLERANCE_SECONDS
    return fmt.window_of(clock - tolerance) <= window <= fmt.window_of(clock + tolerance)
