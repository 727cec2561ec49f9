"""API shapes of passes, keys, the trust list, revocation lists and verdicts."""

import datetime as dt
from typing import Annotated, Literal

from ninja import Field, Schema
from pydantic import AwareDatetime

from fangkong.core.schema import ObjectId

Code = Annotated[str, Field(min_length=1, max_length=32)]
Colour = Literal["green", "yellow", "red"]


class DeviceJwk(Schema):
    """The phone's public key as WebCrypto exports it (``exportKey("jwk")``)."""

    kty: Literal["EC"]
    crv: Literal["P-256"]
    x: Annotated[str, Field(min_length=43, max_length=43)]
    y: Annotated[str, Field(min_length=43, max_length=43)]


class PassIssueIn(Schema):
    kind: Literal["person", "vehicle", "visitor"]
    person_id: ObjectId | None = None
    unit_id: ObjectId | None = Field(None, description="Required unless a person is named")
    holder_name: Annotated[str, Field(max_length=64)] = Field(
        "", description="A visitor's name (masked on the pass)"
    )
    plate: Annotated[str, Field(max_length=16)] = ""
    zones: Annotated[list[Code], Field(min_length=1, max_length=32)]
    valid_from: AwareDatetime
    valid_until: AwareDatetime
    device_key: DeviceJwk | None = None
    printed: bool = False


class PassOut(Schema):
    id: int
    pass_id: str
    kind: str
    holder_display: str
    person_id: int | None
    plate: str
    unit_id: int
    unit_code: str
    zones: list[str]
    status_at_issue: str
    kid: str
    valid_from: dt.datetime
    valid_until: dt.datetime
    printed: bool
    device_bound: bool
    issued_at: dt.datetime
    revoked_at: dt.datetime | None
    revoke_reason: str


class PassIssuedOut(PassOut):
    text: str = Field(description="The pass as it goes into the QR code (FK1:…)")


class PassRevokeIn(Schema):
    reason: Annotated[str, Field(min_length=1, max_length=255)]


def _green_only() -> list[Colour]:
    return ["green"]


class PassVerifyIn(Schema):
    text: Annotated[str, Field(min_length=1, max_length=4200)]
    unit_id: ObjectId = Field(description="The unit (site) whose gate scans")
    zones: Annotated[list[Code], Field(max_length=32)] = Field(
        default_factory=list, description="The checkpoint's zone codes; default the unit's code"
    )
    admit_statuses: Annotated[list[Colour], Field(min_length=1, max_length=3)] = Field(
        default_factory=_green_only, description="Status colours that admit (seed: green)"
    )
    refuse_printed: bool = False
    refuse_without_device_key: bool = False
    outsiders_banned: bool = False
    scanner_time: Annotated[float, Field(ge=0, le=4_102_444_800)] | None = Field(
        None, description="The scanner's clock (unix seconds) when it sent this"
    )


class PassVerdictOut(Schema):
    ok: bool
    reason: str
    detail: str
    message: str
    warnings: list[str]
    warning_messages: list[str]
    kind: str
    holder: str
    unit: str
    zones: list[str]
    status: str
    printed: bool
    device_bound: bool
    valid_until: dt.datetime | None
    pass_id_hash: str = Field(description="SHA-256 of the pass id, hex; empty if unreadable")
    server_time: dt.datetime


class TrustListOut(Schema):
    version: int
    issued_at: dt.datetime
    valid_until: dt.datetime
    jws: str = Field(description="Compact JWS (ES256) signed by the root key")


class RootKeyOut(Schema):
    kid: str
    jwk: dict[str, str]
    hex: str = Field(description="The 65-byte uncompressed point, hex")


class RevocationsOut(Schema):
    kid: str
    version: int
    since: int
    full: bool = Field(description="True when this is the whole list, not a delta")
    count: int
    hashes: str = Field(description="Base64 of the concatenated 32-byte SHA-256 hashes")


class PassKeyOut(Schema):
    kid: str
    role: str
    unit_id: int
    unit_code: str
    created_at: dt.datetime
    retired_at: dt.datetime | None
    trusted_until: dt.datetime | None
    revocation_version: int


class KeyRotateIn(Schema):
    unit_id: ObjectId
