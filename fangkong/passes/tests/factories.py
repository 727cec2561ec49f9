"""Passes for the tests: issued through the service, as an admin of the enterprise."""

import datetime as dt
from typing import Any

from django.utils import timezone

from fangkong.orgs.models import Person

from .. import services, trust
from ..models import Pass, PassKey
from ..verify import Policy, Verdict, verify

GATE = Policy(zones=frozenset({"A1"}))


def issue(org: Any, person: Person | None = None, **changes: Any) -> tuple[Pass, str]:
    person = person or org.person_a
    now = timezone.now()
    args: dict[str, Any] = {
        "kind": "person",
        "unit": person.unit,
        "holder_display": "张*",
        "zones": ["A1"],
        "valid_from": now - dt.timedelta(minutes=1),
        "valid_until": now + dt.timedelta(hours=12),
        "person": person,
    }
    args.update(changes)
    actor = changes.pop("actor", None) or org.user("unit_admin", org.group)
    args.pop("actor", None)
    return services.pass_issue(actor, **args)


def served_trust_list() -> trust.TrustList:
    """The trust list as a scanner gets it: served, then checked against the root key."""
    signed = services.trust_list_current()
    root = PassKey.objects.get(role=PassKey.Role.ROOT, retired_at=None)
    return trust.parse(signed.jws, bytes(root.public_point))


def scan(text: str, *, revoked: set[bytes] | None = None, policy: Policy = GATE) -> Verdict:
    """Verify offline as a scanner does, with the served lists and the current time."""
    return verify(
        text,
        trust_list=served_trust_list(),
        revoked=revoked or set(),
        now=timezone.now().timestamp(),
        policy=policy,
    )


# ------------------------------------------------------------------ permission matrix


def matrix_pass(side: Any) -> Pass:
    """A day pass of the side's person, issued by the system."""
    now = timezone.now()
    row, _text = services.pass_issue(
        None,
        kind="person",
        unit=side.person.unit,
        holder_display="王*",
        zones=[side.enterprise.code],
        valid_from=now,
        valid_until=now + dt.timedelta(hours=8),
        person=side.person,
    )
    return row


def matrix_issue(side: Any) -> dict[str, Any]:
    now = timezone.now()
    return {
        "kind": "person",
        "person_id": side.person.pk,
        "zones": [side.enterprise.code],
        "valid_from": now.isoformat(),
        "valid_until": (now + dt.timedelta(hours=8)).isoformat(),
    }
