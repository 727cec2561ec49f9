"""Reads: passes in scope, keys, revocation lists, and a holder's live status."""

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from fangkong.accounts.actors import Viewer
from fangkong.accounts.roles import Perm, Role
from fangkong.accounts.selectors import require_perm, role_rows_for, scope_for
from fangkong.core import links
from fangkong.core.errors import NotFound
from fangkong.core.paths import is_within
from fangkong.health.selectors import latest_declaration
from fangkong.orgs.models import OrgUnit, Person, UnitKind, place_related
from fangkong.quarantine.selectors import open_placement_for
from fangkong.tracking.rules import ABNORMAL, CONTACT
from fangkong.tracking.selectors import open_card

from .format import pass_hash
from .models import Pass, PassKey, PassLink, Revocation
from .verify import Verdict

# Who may verify at a gate: its guards and the admins over its unit.
GATE_ROLES = frozenset({Role.GUARD, Role.UNIT_ADMIN, Role.GROUP_ADMIN})


@dataclass
class PassFilter:
    query: str = ""
    kind: str = ""
    revoked: bool | None = None
    unit_path: str = ""


def passes_visible(user: Viewer, filters: PassFilter | None = None) -> QuerySet[Pass]:
    require_perm(user, Perm.VIEW_PEOPLE)
    rows = scope_for(user, Perm.VIEW_PEOPLE).filter(Pass.objects.all(), "unit_path")
    filters = filters or PassFilter()
    if filters.query:
        rows = rows.filter(
            Q(holder_display__icontains=filters.query)
            | Q(plate__icontains=filters.query.upper())
            | Q(person__name__icontains=filters.query)
            | Q(pass_id__startswith=filters.query.lower())
        )
    if filters.kind:
        rows = rows.filter(kind=filters.kind)
    if filters.revoked is not None:
        rows = rows.filter(revoked_at__isnull=not filters.revoked)
    if filters.unit_path:
        rows = rows.filter(unit_path__startswith=filters.unit_path)
    return rows.select_related("key", "unit").order_by("-issued_at", "-id")


def pass_get(user: Viewer, pk: Any) -> Pass:
    """One pass in the viewer's scope; 404 otherwise (its existence does not leak)."""
    rows = scope_for(user, Perm.VIEW_PEOPLE).filter(Pass.objects.all(), "unit_path")
    row = rows.select_related("key", "unit").filter(pk=pk).first()
    if row is None:
        raise NotFound()
    return row


def require_gatekeeper(user: Viewer, unit: OrgUnit) -> None:
    """Let through a guard or an admin over ``unit``; 403 if they may see it, else 404."""
    if user is not None and getattr(user, "is_superuser", False):
        return
    rows = role_rows_for(user) if getattr(user, "is_authenticated", False) else []  # type: ignore[arg-type]
    if any(role in GATE_ROLES and is_within(unit.path, path) for role, path in rows):
        return
    from fangkong.core.errors import PermissionDenied

    if scope_for(user, Perm.VIEW_UNITS).covers(unit.path):
        raise PermissionDenied()
    raise NotFound()


def keys_visible(user: Viewer) -> QuerySet[PassKey]:
    require_perm(user, Perm.MANAGE_UNITS)
    keys = PassKey.objects.select_related("unit")
    return scope_for(user, Perm.MANAGE_UNITS).filter(keys, "unit__path").order_by("-created_at")


def key_by_kid(kid: str) -> PassKey:
    key = PassKey.objects.filter(kid=kid.lower(), role=PassKey.Role.ISSUING).first()
    if key is None:
        raise NotFound()
    return key


def revocations_since(key: PassKey, since: int) -> list[str]:
    """The hashes revoked after list version ``since`` (all of them for 0), oldest first."""
    rows = Revocation.objects.filter(key=key, version__gt=since).order_by("version")
    return list(rows.values_list("pass_hash", flat=True))


class RevokedInDatabase:
    """The revocation set as the database holds it, for online verification."""

    def __contains__(self, pass_hash: object) -> bool:
        return isinstance(pass_hash, bytes) and (
            Revocation.objects.filter(pass_hash=pass_hash.hex()).exists()
        )


def key_unit_for(unit: OrgUnit, *, per: str) -> OrgUnit:
    """The unit whose issuing key signs passes of ``unit``: its enterprise, else its root;
    the root for every unit when keys are ``per="group"``."""
    ids = [int(part) for part in unit.path.strip("/").split("/")]
    if per != "group":
        enterprise = (
            OrgUnit.objects.filter(pk__in=ids, kind=UnitKind.ENTERPRISE).order_by("-depth").first()
        )
        if enterprise is not None:
            return enterprise
    return OrgUnit.objects.get(pk=ids[0])


def holder_colour(person: Person, today: dt.date | None = None) -> str:
    """Today's declaration's colour, else the latest one's, else green (never declared)."""
    declaration = latest_declaration(
        person, before=(today or timezone.localdate()) + dt.timedelta(days=1)
    )
    return declaration.status if declaration is not None else "green"


def holder_blocked(person: Person) -> str:
    """Why the holder may not pass whatever the colour: "placement", "card" or ""."""
    if open_placement_for(person.pk) is not None:
        return "placement"
    if open_card(person.pk, ABNORMAL) is not None or open_card(person.pk, CONTACT) is not None:
        return "card"
    return ""


def pass_of(verdict: Verdict) -> Pass | None:
    """The issued pass a verdict is about (with its holder), when its claims were trusted."""
    if verdict.claims is None:
        return None
    return (
        Pass.objects.select_related("person").filter(pass_id=verdict.claims.pass_id.hex()).first()
    )


def pass_by_hash(pass_hash_hex: str) -> Pass | None:
    """The issued pass whose id hashes to this (hex, as the gate's log and the lists carry
    it), with its holder; None for an unknown hash."""
    return Pass.objects.select_related("person").filter(pass_hash=pass_hash_hex.lower()).first()


def pass_id_hash(verdict: Verdict) -> str:
    """The pass id's hash as revocation lists carry it (hex), for the gate's log."""
    return pass_hash(verdict.claims.pass_id).hex() if verdict.claims is not None else ""


# ------------------------------------------------------------------ pass links

VALID, NOT_YET_VALID, EXPIRED, REVOKED = "valid", "not_yet_valid", "expired", "revoked"


def pass_state(row: Pass, now: dt.datetime) -> str:
    """Where a pass stands at ``now``: revoked, not yet valid, expired or valid."""
    if row.revoked_at is not None:
        return REVOKED
    if now < row.valid_from:
        return NOT_YET_VALID
    return EXPIRED if now >= row.valid_until else VALID


_LINK_SALT = "fangkong.passes.link"


def pass_link_token(link: PassLink) -> str:
    """The signed token that goes into a pass link's URL and QR code."""
    return links.link_token(_LINK_SALT, link.key)


def pass_link_from_token(token: str) -> PassLink:
    """The link behind a token, with its pass; a forged or unknown token is not found.

    A revoked or expired pass's link still opens: its page says so (and why)."""
    key = links.link_key(_LINK_SALT, token)
    rows = PassLink.objects.select_related(
        place_related("issued_pass__unit"), "issued_pass__key__unit"
    )
    link = rows.filter(key=key).first()
    if link is None:
        raise NotFound()
    return link


def pass_link_tokens(pass_hashes: Any) -> dict[str, str]:
    """The newest link's token of each pass, by the pass id's hash (one query for a list)."""
    rows = (
        PassLink.objects.filter(issued_pass__pass_hash__in=[h for h in pass_hashes if h])
        .order_by("created_at", "pk")
        .values_list("issued_pass__pass_hash", "key")
    )
    return {pass_hash: links.link_token(_LINK_SALT, key) for pass_hash, key in rows}
