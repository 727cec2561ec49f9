"""Checkpoints for the tests: a gate at plant A1 and helpers to record at it."""

import uuid
from typing import Any

from django.utils import timezone

from fangkong.testing import valid_resident_id

from ..models import Checkpoint
from ..services import checkpoint_create, post_create, scan_record, visitor_register


def make_gate(site: Any, *, code: str = "G1", name: str = "1号门") -> Checkpoint:
    return checkpoint_create(actor=None, site=site, code=code, name=name, zones=["A1"])


def scan(actor: Any, gate: Checkpoint, **fields: Any) -> Any:
    """Record a scan with verdict ok unless told otherwise; a fresh UUID unless given."""
    fields.setdefault("direction", "in")
    fields.setdefault("verdict_code", "ok")
    fields.setdefault("reason_message", "")
    fields.setdefault("client_uuid", uuid.uuid4())
    event, _created = scan_record(actor, checkpoint=gate, **fields)
    return event


# ------------------------------------------------------------------ permission matrix
# Built afresh inside each request's rolled-back savepoint (see quarantine's factories).


def matrix_gate(side: Any) -> Checkpoint:
    return make_gate(side.enterprise, code="MG")


def matrix_refusal(side: Any) -> int:
    event = scan(None, matrix_gate(side), person=side.person, verdict_code="expired")
    return int(event.pk)


def matrix_post(side: Any) -> int:
    return int(post_create(actor=None, checkpoint=matrix_gate(side), name="白班").pk)


def matrix_visitor(side: Any) -> int:
    """A visit at the side's enterprise for the whole of today, registered by the system
    (no host): only those who manage its checkpoints may cancel it."""
    visitor = visitor_register(
        actor=None,
        site=matrix_gate(side).site,
        name="王芳",
        id_number=valid_resident_id(992),
        purpose="设备检修",
        day=timezone.localdate(),
    )
    return int(visitor.pk)
