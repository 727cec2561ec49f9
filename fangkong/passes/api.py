"""/api/v1/passes: the lists scanners fetch (public), issuing, revoking, online verify."""

import base64
import datetime as dt
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Query, Router, Status
from ninja.pagination import paginate

from fangkong.core.errors import InvalidInput, NotFound
from fangkong.core.masking import name_masked
from fangkong.core.pagination import MappedQuerySet
from fangkong.core.schema import ObjectId, Pages
from fangkong.orgs.selectors import person_get, unit_get

from . import format as fmt
from . import selectors, services
from .holders import plate_masked, plate_normalise
from .models import Pass, PassKey
from .schemas import (
    KeyRotateIn,
    PassIssuedOut,
    PassIssueIn,
    PassKeyOut,
    PassOut,
    PassRevokeIn,
    PassVerdictOut,
    PassVerifyIn,
    RevocationsOut,
    RootKeyOut,
    TrustListOut,
)
from .verify import Policy, Verdict

router = Router(tags=["passes"])
MAX_VERSION = 2**31 - 1  # a list version is a PositiveIntegerField


def pass_out(row: Pass) -> dict[str, Any]:
    return {
        "id": row.pk,
        "pass_id": row.pass_id,
        "kind": row.kind,
        "holder_display": row.holder_display,
        "person_id": row.person_id,
        "plate": row.plate,
        "unit_id": row.unit_id,
        "unit_code": row.unit.code,
        "zones": row.zones,
        "status_at_issue": row.status_at_issue,
        "kid": row.key.kid,
        "valid_from": row.valid_from,
        "valid_until": row.valid_until,
        "printed": row.printed,
        "device_bound": bool(row.device_key),
        "issued_at": row.issued_at,
        "revoked_at": row.revoked_at,
        "revoke_reason": row.revoke_reason,
    }


def key_out(key: PassKey) -> dict[str, Any]:
    """Public facts of a key. Its private half never leaves the services."""
    return {
        "kid": key.kid,
        "role": key.role,
        "unit_id": key.unit_id,
        "unit_code": key.unit.code,
        "created_at": key.created_at,
        "retired_at": key.retired_at,
        "trusted_until": key.trusted_until,
        "revocation_version": key.revocation_version,
    }


def _not_modified(request: HttpRequest, etag: str) -> HttpResponse | None:
    if request.headers.get("If-None-Match") == etag:
        response = HttpResponse(status=304)
        response["ETag"] = etag
        return response
    return None


# ---------------------------------------------------------------- what scanners fetch


@router.get("/passes/trust-list", response={200: TrustListOut, 304: None}, auth=None)
def trust_list(request: HttpRequest, response: HttpResponse) -> Any:
    """The signed trust list (public: the scanner checks it against the pinned root key).
    Answers 304 to a matching If-None-Match."""
    signed = services.trust_list_current()
    etag = f'"tl-{signed.version}"'
    if (unchanged := _not_modified(request, etag)) is not None:
        return unchanged
    response["ETag"] = etag
    response["Cache-Control"] = "no-cache"
    return signed


@router.get("/passes/root-key", response=RootKeyOut, auth=None)
def root_key(request: HttpRequest) -> Any:
    """The group's root public key; scanners pin it (ship it with the app)."""
    point = bytes(services.root_key().public_point)
    return {"kid": fmt.key_id(point).hex(), "jwk": fmt.jwk_of(point), "hex": point.hex()}


@router.get("/passes/revocations", response={200: RevocationsOut, 304: None}, auth=None)
def revocations(
    request: HttpRequest,
    response: HttpResponse,
    kid: str,
    since: int = Query(0, ge=0, le=MAX_VERSION),
) -> Any:
    """Hashes of revoked pass ids of one key: all of them, or those after version
    ``since`` (a delta). A ``since`` beyond the current version gets the whole list."""
    key = selectors.key_by_kid(kid) if len(kid) == 16 else None
    if key is None:
        raise NotFound()
    full = since <= 0 or since > key.revocation_version
    since = 0 if full else since
    etag = f'"rv-{key.kid}-{since}-{key.revocation_version}"'
    if (unchanged := _not_modified(request, etag)) is not None:
        return unchanged
    hashes = selectors.revocations_since(key, since)
    response["ETag"] = etag
    response["Cache-Control"] = "no-cache"
    return {
        "kid": key.kid,
        "version": key.revocation_version,
        "since": since,
        "full": full,
        "count": len(hashes),
        "hashes": base64.b64encode(b"".join(bytes.fromhex(h) for h in hashes)).decode(),
    }


# ---------------------------------------------------------------- keys


@router.get("/passes/keys", response=list[PassKeyOut])
def list_keys(request: HttpRequest) -> Any:
    """The signing keys the caller manages: public facts only."""
    return [key_out(key) for key in selectors.keys_visible(request.user)]


@router.post("/passes/keys/rotate", response={201: PassKeyOut})
def rotate_key(request: HttpRequest, payload: KeyRotateIn) -> Any:
    """Retire the unit's issuing key (trusted until its last pass expires) and make a new one."""
    unit = unit_get(request.user, payload.unit_id)
    return Status(201, key_out(services.key_rotate(request.user, unit=unit)))


# ---------------------------------------------------------------- passes


@router.post("/passes/verify", response=PassVerdictOut)
def verify_pass(request: HttpRequest, payload: PassVerifyIn) -> Any:
    """Verify online: the offline checks with the current lists, then the holder's live
    status. For the unit's guards and the admins over it."""
    unit = unit_get(request.user, payload.unit_id)
    selectors.require_gatekeeper(request.user, unit)
    now = timezone.now()
    policy = Policy(
        zones=frozenset(payload.zones or [unit.code]),
        admit_statuses=frozenset(payload.admit_statuses),
        refuse_printed=payload.refuse_printed,
        refuse_without_device_key=payload.refuse_without_device_key,
        outsiders_banned=payload.outsiders_banned,
    )
    offset = now.timestamp() - payload.scanner_time if payload.scanner_time else 0.0
    verdict = services.verify_online(payload.text, policy=policy, now=now, clock_offset=offset)
    return verdict_out(verdict, now)


def verdict_out(verdict: Verdict, now: dt.datetime) -> dict[str, Any]:
    claims = verdict.claims
    return {
        "ok": verdict.ok,
        "reason": verdict.reason,
        "detail": verdict.detail,
        "message": verdict.message,
        "warnings": list(verdict.warnings),
        "warning_messages": verdict.warning_messages,
        "kind": claims.kind if claims else "",
        "holder": claims.holder if claims else "",
        "unit": claims.unit if claims else "",
        "zones": list(claims.zones) if claims else [],
        "status": claims.status if claims else "",
        "printed": claims.printed if claims else False,
        "device_bound": bool(claims and claims.device_key),
        "valid_until": dt.datetime.fromtimestamp(claims.expires, tz=dt.UTC) if claims else None,
        "pass_id_hash": fmt.pass_hash(claims.pass_id).hex() if claims else "",
        "server_time": now,
    }


@router.get("/passes", response=list[PassOut])
@paginate(Pages, page_size=50)
def list_passes(
    request: HttpRequest,
    q: str = "",
    kind: str = "",
    revoked: bool | None = None,
    unit_id: ObjectId | None = None,
) -> Any:
    """Passes in scope, newest first; ``q`` finds a holder, a plate or a pass id's start."""
    unit = unit_get(request.user, unit_id) if unit_id else None
    filters = selectors.PassFilter(
        query=q.strip(), kind=kind, revoked=revoked, unit_path=unit.path if unit else ""
    )
    return MappedQuerySet(selectors.passes_visible(request.user, filters), pass_out)


@router.post("/passes", response={201: PassIssuedOut})
def issue_pass(request: HttpRequest, payload: PassIssueIn) -> Any:
    """Issue a pass; the answer carries its text once (it is re-signed on demand later)."""
    person = person_get(request.user, payload.person_id) if payload.person_id else None
    if payload.unit_id:
        unit = unit_get(request.user, payload.unit_id)
    elif person is not None:
        unit = person.unit
    else:
        raise InvalidInput(detail={"unit_id": [_("Name the unit the pass belongs to.")]})
    row, text = services.pass_issue(
        request.user,
        kind=payload.kind,
        unit=unit,
        holder_display=_holder_display(payload, person),
        zones=payload.zones,
        valid_from=payload.valid_from,
        valid_until=payload.valid_until,
        person=person,
        plate=payload.plate,
        device_key=payload.device_key.dict() if payload.device_key else None,
        printed=payload.printed,
    )
    return Status(201, {**pass_out(row), "text": text})


def _holder_display(payload: PassIssueIn, person: Any) -> str:
    if payload.kind == "vehicle":
        return plate_masked(plate_normalise(payload.plate))
    if person is not None:
        return name_masked(person.name)
    return name_masked(payload.holder_name)


@router.get("/passes/{pass_pk}", response=PassOut)
def get_pass(request: HttpRequest, pass_pk: ObjectId) -> Any:
    return pass_out(selectors.pass_get(request.user, pass_pk))


@router.post("/passes/{pass_pk}/revoke", response=PassOut)
def revoke_pass(request: HttpRequest, pass_pk: ObjectId, payload: PassRevokeIn) -> Any:
    row = services.pass_revoke(
        request.user, selectors.pass_get(request.user, pass_pk), payload.reason
    )
    return pass_out(Pass.objects.select_related("key", "unit").get(pk=row.pk))
