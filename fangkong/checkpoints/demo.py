"""Demo checkpoints: five posts at one plant with a week's rotation from 07:30, the `guard`
account on today's post, a visitor pre-registered for today (with her pass and visitor
link), a second plant with outsiders banned, one watch-list entry, a few lines in today's
gate log, and three of today's passes for the main gate as QR images (one of them revoked)
to show the guard's scanner.

Deterministic: the same units (by code), people (the plant's first, by id) and numbers.
"""

import datetime as dt
import uuid
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from fangkong.accounts.models import RoleAssignment, User
from fangkong.accounts.roles import Role
from fangkong.core.masking import name_masked
from fangkong.core.paths import subtree_q
from fangkong.orgs.models import OrgUnit, Person
from fangkong.orgs.validators import resident_id_check_char
from fangkong.passes import format as fmt
from fangkong.passes import selectors as passes_selectors
from fangkong.passes import services as passes
from fangkong.passes.daily import day_bounds
from fangkong.passes.selectors import pass_link_tokens

from . import services
from .models import Direction, Verdict, Visitor

PLANT, BANNED = "SDLY-P1", "SDLY-P2"
CHECKPOINTS = [
    # (code, name, zones, mobile)
    ("G1", "1号门（东门）", ["P1"], False),
    ("G2", "2号门（南门）", ["P1"], False),
    ("G3", "物流门", ["P1", "P1-WL"], False),
    ("G4", "北门", ["P1"], False),
    ("M1", "流动岗", ["P1"], True),
]
DEMO_UUID = uuid.UUID("6b1f6f0e-5d1c-4c53-9c0e-000000000000")


def _resident_id(first17: str) -> str:
    return first17 + resident_id_check_char(first17)


@transaction.atomic
def seed_checkpoints() -> dict[str, int]:
    plant = OrgUnit.objects.filter(code=PLANT).first()
    banned = OrgUnit.objects.filter(code=BANNED).first()
    if plant is None or banned is None:
        return {"checkpoints": 0}
    services.policy_update(actor=None, site=plant, admit_colours=["green"])
    services.policy_update(actor=None, site=banned, admit_colours=["green"], outsiders_banned=True)
    points = [
        services.checkpoint_create(
            actor=None, site=plant, code=code, name=name, zones=zones, is_mobile=mobile
        )
        for code, name, zones, mobile in CHECKPOINTS
    ]
    services.checkpoint_create(actor=None, site=banned, code="G1", name="1号门", zones=["P2"])
    guard = User.objects.filter(username="guard").first()
    if guard is not None:
        # The demo guard (of checkpoint CK1) also stands at both plants' gates.
        for site in (plant, banned):
            RoleAssignment.objects.get_or_create(user=guard, role=Role.GUARD, unit=site)
    today = timezone.localdate()
    monday = today - dt.timedelta(days=today.weekday())
    for point in points:
        post = services.post_create(
            actor=None,
            checkpoint=point,
            name="白班",
            starts_at=dt.time(7, 30),
            hours=12,
            period_days=7,
            anchor=monday,
        )
        if guard is not None and point.code == "G1":
            services.roster_set(
                actor=None, post=post, assignments=dict.fromkeys(range(7), guard), audit=False
            )
    host = User.objects.filter(username="unit_admin").first()
    # Her pass and visitor link are issued with the registration. Seeded in the evening,
    # the visit runs to midnight, so that the guard can still scan it.
    late = timezone.localtime().time() >= dt.time(17, 0)
    services.visitor_register(
        actor=host,
        site=plant,
        name="王芳",
        id_number=_resident_id("37030319850612002"),
        phone="13705330088",
        plate="鲁C8M123",
        purpose="设备检修（电解槽控制柜）",
        day=today,
        start=dt.time(8, 0),
        end=None if late else dt.time(18, 0),
    )
    services.watch_add(
        actor=None,
        unit=plant.parent or plant,
        id_number=_resident_id("37030319790304003"),
        name="赵某",
        reason="2022年违规闯卡，经督办组决定禁止进入厂区",
    )
    _gate_log(points[0], guard, plant)
    return {"checkpoints": len(points) + 1}


def _gate_log(gate: Any, guard: User | None, plant: OrgUnit) -> None:
    """A few entries this morning at the main gate: three workers in, one of them out."""
    workers = list(
        Person.objects.filter(subtree_q("unit_path", plant.path), is_active=True).order_by("pk")[:3]
    )
    start = dt.datetime.combine(
        timezone.localdate(), dt.time(7, 40), timezone.get_current_timezone()
    )
    moves = [(w, Direction.IN, i * 3) for i, w in enumerate(workers)]
    moves += [(workers[0], Direction.OUT, 30)] if workers else []
    for index, (person, direction, minutes) in enumerate(moves):
        at = start + dt.timedelta(minutes=minutes)
        if at > timezone.now():
            continue
        services.scan_record(
            guard,
            checkpoint=gate,
            direction=direction,
            verdict_code=Verdict.OK,
            reason_message="",
            person=person,
            temperature="36.4",
            client_uuid=uuid.UUID(int=DEMO_UUID.int + index),
            at=at,
        )


def demo_visitor_link() -> tuple[Visitor, str] | None:
    """The demo's pre-registered visitor (the latest) and her visitor link's path."""
    visitor = (
        Visitor.objects.filter(site__code=PLANT, source=Visitor.Source.PRE_REGISTERED)
        .exclude(pass_id_hash="")
        .order_by("-day", "-pk")
        .first()
    )
    if visitor is None:
        return None
    token = pass_link_tokens([visitor.pass_id_hash]).get(visitor.pass_id_hash)
    return (visitor, reverse("passes:link", args=[token])) if token else None


def seed_gate_passes() -> list[Path]:
    """Today's passes of three workers of the demo plant, valid at its gates, saved as QR
    images (``MEDIA_ROOT/demo-gate/``) to choose in the scanner's photo fallback: two that
    admit and one revoked, which the scanner refuses offline from the lists of its sync."""
    plant = OrgUnit.objects.filter(code=PLANT).first()
    if plant is None:
        return []
    start, end = day_bounds(timezone.localdate())
    workers = Person.objects.filter(subtree_q("unit_path", plant.path), is_active=True)
    chosen = [
        person
        for person in workers.order_by("pk")[:50]
        if not passes_selectors.holder_blocked(person)
        and passes_selectors.holder_colour(person) == "green"
    ][:3]
    directory = Path(settings.MEDIA_ROOT) / "demo-gate"
    directory.mkdir(parents=True, exist_ok=True)
    files = []
    for number, person in enumerate(chosen, start=1):
        row, text = passes.pass_issue(
            None,
            kind="person",
            unit=person.unit,
            holder_display=name_masked(person.name),
            zones=[plant.code],
            valid_from=start,
            valid_until=end,
            person=person,
        )
        label = "admits"
        if number == len(chosen):
            passes.pass_revoke(None, row, "演示：已离职")
            label = "revoked"
        path = directory / f"pass-{number}-{label}.png"
        fmt.qr(text).save(str(path), scale=4, border=4)
        files.append(path)
    return files
