"""Every endpoint × every role × an object inside and outside the role's subtree.

Roles are held on enterprise A. Inside A a role either may act (2xx) or is refused
(403/404, nothing changes); anything in enterprise B answers 404 for every role, so no
object leaves its scope and not even its existence leaks.
"""

import datetime as dt
import functools
import io
from dataclasses import dataclass
from typing import Any

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone

from fangkong.accounts.roles import ROLE_PERMS, Perm, Role
from fangkong.checkpoints.tests import factories as checkpoints
from fangkong.evaluation.tests import factories as evaluation
from fangkong.health.tests.factories import raw_declaration
from fangkong.ledger import services as ledger
from fangkong.ledger.testing import register_test_kinds, unregister_test_kinds
from fangkong.notify.models import Event
from fangkong.notify.services import notify
from fangkong.orgs import importing
from fangkong.orgs.models import OrgUnit, Person, UnitKind
from fangkong.orgs.services import unit_create
from fangkong.passes.tests import factories as passes
from fangkong.quarantine.tests import factories as quarantine
from fangkong.rectification.tests import bulletin_matrix as rectification_bulletins
from fangkong.rectification.tests import factories as rectification
from fangkong.testing import valid_resident_id
from fangkong.travel.importing import template_workbook
from fangkong.travel.models import Itinerary
from fangkong.travel.services import card_file

pytestmark = pytest.mark.django_db


@functools.cache
def people_file(unit_code: str, seed: int) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    headers = importing.template_headers("people")
    sheet.append(headers)
    row = dict.fromkeys(headers, "")
    row.update({"姓名": "王芳", "证件号码": valid_resident_id(seed), "所属单位编码": unit_code})
    sheet.append([row[h] for h in headers])
    data = io.BytesIO()
    book.save(data)
    return data.getvalue()


@dataclass
class Side:
    enterprise: OrgUnit
    unit: OrgUnit  # a unit with a person in it
    empty: OrgUnit  # a unit without people
    person: Person
    job_id: int
    code: str
    notification_id: int  # in the inbox of every role's user on this side's enterprise


def make_side(org: Any, enterprise: OrgUnit, unit: OrgUnit, person: Person, seed: int) -> Side:
    empty = unit_create(
        actor=None,
        code=f"{enterprise.code}-EMPTY",
        name="空车间",
        kind=UnitKind.WORKSHOP,
        parent=enterprise,
    )
    Person.objects.create(
        name=person.name, id_number=person.id_number, unit=unit, unit_path=unit.path
    )  # a duplicate to merge
    job = importing.import_job_create(
        actor=org.user("group_admin", org.group),
        kind="people",
        scope_unit=enterprise,
        upload=SimpleUploadedFile("p.xlsx", people_file(unit.code, seed)),
    )
    importing.import_job_validate(job)
    notification = notify(
        event=Event.TEST,
        unit=unit,
        subject="测试",
        body="",
        to_users=[org.user(role, enterprise) for role in Role.values],
    )
    return Side(enterprise, unit, empty, person, job.pk, unit.code, notification.pk)


@pytest.fixture
def sides(org):
    register_test_kinds()
    yield {
        "in": make_side(org, org.ent_a, org.shop_a, org.person_a, 900),
        "out": make_side(org, org.ent_b, org.plant_b, org.person_b, 901),
    }
    unregister_test_kinds()  # later tests see only the real kinds (the zh-Hans crawl reads them)


def ledger_item(s: Side, state: str = "open") -> int:
    """Open (in the rolled-back savepoint) a test-kind ledger item about the side's person."""
    item, _ = ledger.item_open(
        actor=None,
        kind="testcase",
        subject=s.person,
        person=s.person,
        unit=s.unit,
        title="矩阵",
        open_key=f"matrix:{s.person.pk}",
    )
    if state in ("closing", "closed"):
        ledger.item_request_close(actor=None, item=item, reason="正常")
    if state == "closed":
        ledger.item_approve_close(actor=None, item=item)
    return item.pk


def duplicate_of(person: Person) -> int:
    return Person.objects.filter(id_number=person.id_number).exclude(pk=person.pk).get().pk


def tracking_card(side: Side, *, ready: bool = False) -> int:
    """Open (inside the case's savepoint) an abnormal card for the side's person."""
    from fangkong.tracking.tests.helpers import open_card_for

    return open_card_for(side.person, ready=ready).pk


def rectification_problem(side: Side) -> int:
    """Register (inside the case's savepoint) a problem of the side's unit; its item's id."""
    from fangkong.rectification.services import NewProblem, problem_register

    problem = problem_register(
        actor=None,
        new=NewProblem(
            title="矩阵问题",
            unit=side.unit,
            assigning_unit=side.enterprise,
            due_on=timezone.localdate() + dt.timedelta(days=60),
        ),
    )
    assert problem.item_id is not None
    return problem.item_id


def supervision_order(side: Side) -> int:
    """An order (inside the case's savepoint) of the side's enterprise on a problem."""
    from fangkong.ledger.models import Item
    from fangkong.rectification.supervision import order_issue

    order = order_issue(
        actor=None,
        item=Item.objects.get(pk=rectification_problem(side)),
        supervising_unit=side.enterprise,
        level="key",
        due_on=timezone.localdate() + dt.timedelta(days=30),
    )
    return order.pk


def travel_card(person: Person) -> int:
    """A returnee card of ``person`` (made inside the case's rolled-back savepoint)."""
    return card_file(actor=None, person=person, raw={"no_travel": True}).pk


def travel_itinerary(person: Person) -> int:
    row = Itinerary.objects.create(
        person=person, division_id="420102", from_day="2020-01-20", to_day="2020-01-22"
    )
    return row.pk


# (name, permission needed, request builder)
ENDPOINTS = [
    (
        "supervision orders",
        Perm.VIEW_PROBLEMS,
        lambda s: ("get", f"/rectification/supervision/orders?unit_id={s.unit.pk}", None),
    ),
    (
        "supervision issue",
        Perm.SUPERVISE,
        lambda s: (
            "post",
            "/rectification/supervision/orders",
            {
                "item_id": rectification_problem(s),
                "supervising_unit_id": s.enterprise.pk,
                "level": "key",
                "due_on": (timezone.localdate() + dt.timedelta(days=30)).isoformat(),
            },
        ),
    ),
    (
        "supervision end",
        Perm.SUPERVISE,
        lambda s: (
            "post",
            f"/rectification/supervision/orders/{supervision_order(s)}/end",
            {"reason": "已纳入考核"},
        ),
    ),
    ("unit get", Perm.VIEW_UNITS, lambda s: ("get", f"/units/{s.unit.pk}", None)),
    (
        "unit children",
        Perm.VIEW_UNITS,
        lambda s: ("get", f"/units/{s.enterprise.pk}/children", None),
    ),
    ("unit headcount", Perm.VIEW_UNITS, lambda s: ("get", f"/units/{s.unit.pk}/headcount", None)),
    (
        "unit create",
        Perm.MANAGE_UNITS,
        lambda s: (
            "post",
            "/units",
            {"code": f"N-{s.code}", "name": "新班组", "kind": "team", "parent_id": s.unit.pk},
        ),
    ),
    (
        "unit rename",
        Perm.MANAGE_UNITS,
        lambda s: ("patch", f"/units/{s.unit.pk}", {"name": "改名"}),
    ),
    (
        "unit move",
        Perm.MANAGE_UNITS,
        lambda s: ("post", f"/units/{s.empty.pk}/move", {"parent_id": s.unit.pk}),
    ),
    ("unit close", Perm.MANAGE_UNITS, lambda s: ("post", f"/units/{s.empty.pk}/close", {})),
    ("people list", Perm.VIEW_PEOPLE, lambda s: ("get", f"/people?unit_id={s.unit.pk}", None)),
    ("person get", Perm.VIEW_PEOPLE, lambda s: ("get", f"/people/{s.person.pk}", None)),
    (
        "person create",
        Perm.MANAGE_PEOPLE,
        lambda s: (
            "post",
            "/people",
            {"name": "赵强", "id_number": valid_resident_id(950), "unit_id": s.unit.pk},
        ),
    ),
    (
        "person update",
        Perm.MANAGE_PEOPLE,
        lambda s: ("patch", f"/people/{s.person.pk}", {"phone": "13700000000"}),
    ),
    (
        "person merge",
        Perm.MANAGE_PEOPLE,
        lambda s: (
            "post",
            f"/people/{s.person.pk}/merge",
            {"duplicate_id": duplicate_of(s.person)},
        ),
    ),
    ("import get", Perm.IMPORT, lambda s: ("get", f"/imports/{s.job_id}", None)),
    ("import rejected", Perm.IMPORT, lambda s: ("get", f"/imports/{s.job_id}/rejected", None)),
    ("import commit", Perm.IMPORT, lambda s: ("post", f"/imports/{s.job_id}/commit", {})),
    ("import create", Perm.IMPORT, lambda s: ("upload", "/imports", s)),
    # Everyone has an inbox; it holds only what was sent to the caller.
    ("inbox list", Perm.VIEW_UNITS, lambda s: ("get", f"/inbox?unit_id={s.unit.pk}", None)),
    (
        "inbox read",
        Perm.VIEW_UNITS,
        lambda s: ("post", f"/inbox/{s.notification_id}/read", {}),
    ),
    (
        "declare",
        Perm.DECLARE_FOR_OTHERS,
        lambda s: ("post", "/declarations", raw_declaration(s.person)),
    ),
    (
        "declare batch",
        Perm.DECLARE_FOR_OTHERS,
        lambda s: ("post", "/declarations/batch", {"items": [raw_declaration(s.person)]}),
    ),
    (
        "declarations list",
        Perm.VIEW_HEALTH,
        lambda s: ("get", f"/declarations?unit_id={s.unit.pk}", None),
    ),
    ("person health", Perm.VIEW_HEALTH, lambda s: ("get", f"/people/{s.person.pk}/health", None)),
    (
        "tracking card open",
        Perm.TRACK,
        lambda s: ("post", "/tracking/cards", {"person_id": s.person.pk, "reason": "发热"}),
    ),
    (
        "tracking card readiness",
        Perm.VIEW_HEALTH,
        lambda s: ("get", f"/tracking/cards/{tracking_card(s)}/readiness", None),
    ),
    (
        "tracking card close",
        Perm.TRACK,
        lambda s: (
            "post",
            f"/tracking/cards/{tracking_card(s, ready=True)}/close",
            {"reason": "连续正常"},
        ),
    ),
    (
        "tracking card escalate",
        Perm.TRACK,
        lambda s: ("post", f"/tracking/cards/{tracking_card(s)}/escalate", {"reason": "持续发热"}),
    ),
    (
        "tracking contacts",
        Perm.VIEW_HEALTH,
        lambda s: ("get", f"/tracking/contacts?case_id={s.person.pk}", None),
    ),
    (
        "tracking contact create",
        Perm.TRACK,
        lambda s: (
            "post",
            "/tracking/contacts",
            {
                "person_id": s.person.pk,
                "case_id": duplicate_of(s.person),
                "last_contact_day": str(timezone.localdate()),
                "relation": "colleague",
            },
        ),
    ),
    (
        "tracking case tree",
        Perm.VIEW_HEALTH,
        lambda s: ("get", f"/tracking/cases/{s.person.pk}/tree", None),
    ),
    # Ledger items (a test kind): people's health cases, so VIEW_HEALTH to see them.
    (
        "ledger list",
        Perm.VIEW_HEALTH,
        lambda s: ("get", f"/ledger/items?kind=testcase&unit_id={s.unit.pk}", None),
    ),
    ("ledger item", Perm.VIEW_HEALTH, lambda s: ("get", f"/ledger/items/{ledger_item(s)}", None)),
    (
        "ledger history",
        Perm.VIEW_HEALTH,
        lambda s: ("get", f"/ledger/items/{ledger_item(s)}/history", None),
    ),
    (
        "ledger counts",
        Perm.VIEW_ROLLUP,
        lambda s: ("get", f"/ledger/counts?kind=testcase&unit_id={s.enterprise.pk}", None),
    ),
    ("ledger today", Perm.TRACK, lambda s: ("get", f"/ledger/today?unit_id={s.unit.pk}", None)),
    (
        "ledger follow-up",
        Perm.TRACK,
        lambda s: ("post", f"/ledger/items/{ledger_item(s)}/follow-ups", {"text": "正常"}),
    ),
    (
        "ledger transition",
        Perm.TRACK,
        lambda s: ("post", f"/ledger/items/{ledger_item(s)}/transition", {"target": "following"}),
    ),
    (
        "ledger close",
        Perm.TRACK,
        lambda s: ("post", f"/ledger/items/{ledger_item(s)}/close", {"reason": "正常"}),
    ),
    (
        "ledger escalate",
        Perm.TRACK,
        lambda s: ("post", f"/ledger/items/{ledger_item(s)}/escalate", {"reason": "未好转"}),
    ),
    (
        "ledger approve",
        Perm.APPROVE_CLOSE,
        lambda s: ("post", f"/ledger/items/{ledger_item(s, 'closing')}/approve", {}),
    ),
    (
        "ledger reject",
        Perm.APPROVE_CLOSE,
        lambda s: (
            "post",
            f"/ledger/items/{ledger_item(s, 'closing')}/reject",
            {"reason": "再观察"},
        ),
    ),
    (
        "ledger reopen",
        Perm.APPROVE_CLOSE,
        lambda s: ("post", f"/ledger/items/{ledger_item(s, 'closed')}/reopen", {"reason": "复发"}),
    ),
    # Rectification problems: made by the system inside each case's savepoint, assigned by
    # the side's enterprise (where the roles are held) to a unit below it.
    (
        "problems list",
        Perm.VIEW_PROBLEMS,
        lambda s: ("get", f"/rectification/problems?unit_id={s.unit.pk}&state=", None),
    ),
    (
        "problem get",
        Perm.VIEW_PROBLEMS,
        lambda s: ("get", f"/rectification/problems/{rectification.matrix_problem(s).pk}", None),
    ),
    (
        "problem register",
        Perm.RECTIFY,
        lambda s: (
            "post",
            "/rectification/problems",
            {
                "title": "矩阵登记",
                "unit_id": s.unit.pk,
                "assigning_unit_id": s.enterprise.pk,
                "due_working_days": 10,
            },
        ),
    ),
    (
        "problem assign",
        Perm.ACCEPT_PROBLEMS,
        lambda s: (
            "post",
            f"/rectification/problems/{rectification.matrix_problem(s).pk}/assign",
            {"owner_ids": [rectification.matrix_owner(s.unit).pk]},
        ),
    ),
    (
        "problem progress",
        Perm.RECTIFY,
        lambda s: (
            "post",
            f"/rectification/problems/{rectification.matrix_problem(s, 'assigned').pk}/progress",
            {"note": "已更换一半"},
        ),
    ),
    (
        "problem submit",
        Perm.RECTIFY,
        lambda s: (
            "post",
            f"/rectification/problems/{rectification.matrix_problem(s, 'assigned').pk}/submit",
            {"measures": "更换灯具"},
        ),
    ),
    (
        "problem accept",
        Perm.ACCEPT_PROBLEMS,
        lambda s: (
            "post",
            f"/rectification/problems/{rectification.matrix_problem(s, 'submitted').pk}/accept",
            {},
        ),
    ),
    (
        "problem return",
        Perm.ACCEPT_PROBLEMS,
        lambda s: (
            "post",
            f"/rectification/problems/{rectification.matrix_problem(s, 'submitted').pk}/return",
            {"reason": "补充证据"},
        ),
    ),
    (
        "problem check",
        Perm.ACCEPT_PROBLEMS,
        lambda s: (
            "post",
            f"/rectification/problems/{rectification.matrix_problem(s, 'accepted').pk}/check",
            {"effective": True},
        ),
    ),
    (
        "problem close",
        Perm.ACCEPT_PROBLEMS,
        lambda s: (
            "post",
            f"/rectification/problems/{rectification.matrix_problem(s, 'checked').pk}/close",
            {"reason": "整改到位"},
        ),
    ),
    (
        "problem recur",
        Perm.ACCEPT_PROBLEMS,
        lambda s: (
            "post",
            f"/rectification/problems/{rectification.matrix_problem(s, 'closed').pk}/recur",
            {"reason": "复发"},
        ),
    ),
    (
        "problem saving",
        Perm.RECTIFY,
        lambda s: (
            "post",
            f"/rectification/problems/{rectification.matrix_problem(s).pk}/savings",
            {"label": "公车运行费用", "baseline": 100, "current": 60},
        ),
    ),
    # Quarantine: the objects are built inside each request's rolled-back savepoint.
    (
        "q site get",
        Perm.VIEW_ROLLUP,
        lambda s: ("get", f"/quarantine/sites/{quarantine.matrix_site(s).pk}", None),
    ),
    (
        "q site create",
        Perm.MANAGE_QUARANTINE,
        lambda s: ("post", "/quarantine/sites", {"unit_id": s.unit.pk, "name": "隔离点"}),
    ),
    (
        "q room create",
        Perm.MANAGE_QUARANTINE,
        lambda s: (
            "post",
            f"/quarantine/sites/{quarantine.matrix_site(s).pk}/rooms",
            {"number": "901", "capacity": 2},
        ),
    ),
    (
        "q room update",
        Perm.MANAGE_QUARANTINE,
        lambda s: ("patch", f"/quarantine/rooms/{quarantine.matrix_room(s).pk}", {"capacity": 3}),
    ),
    (
        "q placements list",
        Perm.VIEW_HEALTH,
        lambda s: ("get", f"/quarantine/placements?site_id={quarantine.matrix_site(s).pk}", None),
    ),
    (
        "q placement get",
        Perm.VIEW_HEALTH,
        lambda s: ("get", f"/quarantine/placements/{quarantine.matrix_placement(s).pk}", None),
    ),
    (
        "q placement create",
        Perm.MANAGE_QUARANTINE,
        lambda s: (
            "post",
            "/quarantine/placements",
            {"person_id": s.person.pk, "mode": "home", "level": "high", "address": "家中"},
        ),
    ),
    (
        "q placement move",
        Perm.MANAGE_QUARANTINE,
        lambda s: (
            "post",
            f"/quarantine/placements/{(move := quarantine.matrix_move(s))[0]}/move",
            {"room_id": move[1]},
        ),
    ),
    (
        "q check",
        Perm.TRACK,
        lambda s: (
            "post",
            f"/quarantine/placements/{quarantine.matrix_placement(s).pk}/checks",
            {"temperature": "36.6"},
        ),
    ),
    (
        "q test",
        Perm.TRACK,
        lambda s: (
            "post",
            f"/quarantine/placements/{quarantine.matrix_placement(s).pk}/tests",
            {"result": "negative"},
        ),
    ),
    (
        "q release",
        Perm.TRACK,
        lambda s: (
            "post",
            f"/quarantine/placements/{quarantine.matrix_placement(s).pk}/release",
            {"reason": "期满"},
        ),
    ),
    (
        "q release approve",
        Perm.APPROVE_CLOSE,
        lambda s: (
            "post",
            f"/quarantine/placements/{quarantine.matrix_placement(s, releasing=True).pk}"
            "/release/approve",
            {"note": ""},
        ),
    ),
    (
        "q release reject",
        Perm.APPROVE_CLOSE,
        lambda s: (
            "post",
            f"/quarantine/placements/{quarantine.matrix_placement(s, releasing=True).pk}"
            "/release/reject",
            {"reason": "复查"},
        ),
    ),
    (
        "q notice",
        Perm.VIEW_HEALTH,
        lambda s: (
            "get",
            f"/quarantine/placements/{quarantine.matrix_placement(s).pk}/notice.pdf",
            None,
        ),
    ),
    (
        "q trips list",
        Perm.VIEW_HEALTH,
        lambda s: ("get", f"/quarantine/trips?site_id={quarantine.matrix_site(s).pk}", None),
    ),
    (
        "q trip get",
        Perm.VIEW_HEALTH,
        lambda s: ("get", f"/quarantine/trips/{quarantine.matrix_trip(s).pk}", None),
    ),
    (
        "q trip create",
        Perm.MANAGE_QUARANTINE,
        lambda s: (
            "post",
            "/quarantine/trips",
            {
                "unit_id": s.enterprise.pk,
                "vehicle_plate": "鲁C12345",
                "driver_name": "刘师傅",
                "origin": "淄博北站",
                "destination": "隔离点",
                "departed_at": "2020-02-01T10:00:00+08:00",
                "person_ids": [s.person.pk],
            },
        ),
    ),
    (
        "travel itineraries",
        Perm.VIEW_HEALTH,
        lambda s: ("get", f"/people/{s.person.pk}/itineraries", None),
    ),
    (
        "travel itinerary add",
        Perm.DECLARE_FOR_OTHERS,
        lambda s: (
            "post",
            f"/people/{s.person.pk}/itineraries",
            {"division": "420102", "from_day": "2020-01-20", "transport": "train"},
        ),
    ),
    (
        "travel itinerary delete",
        Perm.DECLARE_FOR_OTHERS,
        lambda s: ("delete", f"/itineraries/{travel_itinerary(s.person)}", None),
    ),
    (
        "travel card file",
        Perm.DECLARE_FOR_OTHERS,
        lambda s: ("post", f"/people/{s.person.pk}/returnee-card", {"no_travel": True}),
    ),
    (
        "travel cards list",
        Perm.VIEW_HEALTH,
        lambda s: ("get", f"/returnee-cards?unit_id={s.unit.pk}", None),
    ),
    (
        "travel card get",
        Perm.VIEW_HEALTH,
        lambda s: ("get", f"/returnee-cards/{travel_card(s.person)}", None),
    ),
    (
        "travel card redecide",
        Perm.VIEW_HEALTH,
        lambda s: ("post", f"/returnee-cards/{travel_card(s.person)}/redecide", {}),
    ),
    (
        "travel unit rules",
        Perm.VIEW_UNITS,
        lambda s: ("get", f"/return-rules?unit_id={s.unit.pk}", None),
    ),
    (
        "travel rule override",
        Perm.MANAGE_RETURN_RULES,
        lambda s: (
            "post",
            "/return-rules",
            {"unit_id": s.unit.pk, "level": "high", "quarantine_days": 21},
        ),
    ),
    (
        "gate override",
        Perm.OVERRIDE_GATE,
        lambda s: (
            "post",
            f"/checkpoints/events/{checkpoints.matrix_refusal(s)}/override",
            {"reason": "厂长确认"},
        ),
    ),
    (
        "gate roster set",
        Perm.MANAGE_CHECKPOINTS,
        lambda s: ("put", f"/checkpoints/posts/{checkpoints.matrix_post(s)}/roster", {"slots": []}),
    ),
    (
        "gate walk-in visitor",
        Perm.RECORD_GATE,
        lambda s: (
            "post",
            "/checkpoints/visitors",
            {
                "site_id": checkpoints.matrix_gate(s).site_id,
                "name": "王芳",
                "id_number": valid_resident_id(991),
                "purpose": "送货",
                "day": timezone.localdate().isoformat(),
                "walk_in": True,
            },
        ),
    ),
    (
        "gate visit cancel",
        Perm.MANAGE_CHECKPOINTS,
        lambda s: (
            "post",
            f"/checkpoints/visitors/{checkpoints.matrix_visitor(s)}/cancel",
            {"reason": "改期"},
        ),
    ),
    (
        "gate manual entry",
        Perm.RECORD_GATE,
        lambda s: (
            "post",
            "/checkpoints/manual-entries",
            {
                "checkpoint_id": checkpoints.matrix_gate(s).pk,
                "direction": "in",
                "id_number": s.person.id_number,
            },
        ),
    ),
    (
        "passes list",
        Perm.VIEW_PEOPLE,
        lambda s: ("get", f"/passes?unit_id={passes.matrix_pass(s).unit_id}", None),
    ),
    ("pass get", Perm.VIEW_PEOPLE, lambda s: ("get", f"/passes/{passes.matrix_pass(s).pk}", None)),
    ("pass issue", Perm.MANAGE_PEOPLE, lambda s: ("post", "/passes", passes.matrix_issue(s))),
    (
        "pass revoke",
        Perm.MANAGE_PEOPLE,
        lambda s: ("post", f"/passes/{passes.matrix_pass(s).pk}/revoke", {"reason": "离职"}),
    ),
    (
        "pass key rotate",
        Perm.MANAGE_UNITS,
        lambda s: ("post", "/passes/keys/rotate", {"unit_id": s.enterprise.pk}),
    ),
    # Service evaluation: the objects are built inside each request's rolled-back savepoint.
    (
        "eval services",
        Perm.REGISTER_CASES,
        lambda s: (
            "get",
            f"/evaluation/services?unit_id={evaluation.matrix_service(s).offerings.get().unit_id}",
            None,
        ),
    ),
    (
        "eval case register",
        Perm.REGISTER_CASES,
        lambda s: (
            "post",
            "/evaluation/cases",
            {"service_id": evaluation.matrix_service(s).pk, "unit_id": s.unit.pk},
        ),
    ),
    (
        "eval cases mine",
        Perm.REGISTER_CASES,
        lambda s: ("get", f"/evaluation/cases?unit_id={s.unit.pk}", None),
    ),
    (
        "eval bad reviews list",
        Perm.VIEW_EVALUATION,
        lambda s: ("get", f"/evaluation/bad-reviews?unit_id={s.unit.pk}", None),
    ),
    (
        "eval bad review get",
        Perm.VIEW_EVALUATION,
        lambda s: ("get", f"/evaluation/bad-reviews/{evaluation.matrix_bad_review(s)}", None),
    ),
    (
        "eval callback",
        Perm.HANDLE_REVIEWS,
        lambda s: (
            "post",
            f"/evaluation/bad-reviews/{evaluation.matrix_bad_review(s)}/callbacks",
            {"how": "phone", "reached": True, "said": "已联系"},
        ),
    ),
    (
        "eval outcome",
        Perm.HANDLE_REVIEWS,
        lambda s: (
            "post",
            f"/evaluation/bad-reviews/{evaluation.matrix_bad_review(s, 'handling')}/outcome",
            {"outcome": "explained", "text": "系统故障"},
        ),
    ),
    (
        "eval appeal decide",
        Perm.DECIDE_APPEALS,
        lambda s: (
            "post",
            f"/evaluation/bad-reviews/{evaluation.matrix_bad_review(s, 'appealed')}/appeal",
            {"upheld": True, "note": "核实属误评"},
        ),
    ),
]

ENDPOINTS += rectification_bulletins.ENDPOINTS

# Group-wide objects with no subtree (the risk-area list, the group rules): allowed by the
# permission held anywhere (None: every signed-in user), else 403.
GROUP_WIDE_ENDPOINTS = [
    ("risk areas list", None, ("get", "/risk-areas", None)),
    (
        "risk area set",
        Perm.MANAGE_OUTBREAK,
        (
            "post",
            "/risk-areas",
            {"division": "420100", "level": "high", "effective_from": "2020-01-23"},
        ),
    ),
    ("risk areas import", Perm.MANAGE_OUTBREAK, ("risk_import", "/risk-areas/import", None)),
    ("group rules list", None, ("get", "/return-rules", None)),
    (
        "group rule save",
        Perm.MANAGE_OUTBREAK,
        ("post", "/return-rules", {"level": "high", "quarantine_days": 14}),
    ),
]


def send(client, method: str, url: str, payload: Any):
    url = "/api/v1" + url
    if method == "get":
        return client.get(url)
    if method == "risk_import":
        return client.post(url, {"file": SimpleUploadedFile("areas.xlsx", template_workbook())})
    if method == "upload":
        return client.post(
            url,
            {
                "kind": "people",
                "unit_id": payload.enterprise.pk,
                "file": SimpleUploadedFile("p.xlsx", people_file(payload.code, 960)),
            },
        )
    return getattr(client, method)(url, payload, content_type="application/json")


def check_case(client, sides, role: str, perm: Perm, build, where: str) -> str | None:
    """Send one request inside a savepoint that is rolled back; return a failure or None."""
    with transaction.atomic():
        method, url, payload = build(sides[where])
        response = send(client, method, url, payload)
        transaction.set_rollback(True)
    body = response.json() if response["Content-Type"].startswith("application/json") else {}
    status = response.status_code
    if where == "out":
        ok = status == 404 and body.get("code") == "not_found"
    elif perm in ROLE_PERMS[role]:
        ok = status in (200, 201)
    else:
        ok = status in (403, 404) and set(body) == {"code", "message", "detail"}
    return None if ok else f"{where}-scope {url} → {status} {response.content[:200]!r}"


@pytest.mark.parametrize("role", Role.values)
def test_permission_matrix(client, org, sides, login_as, role):
    """Every endpoint against an in-scope and an out-of-scope object, for this role."""
    login_as(role, org.ent_a)
    failures = [
        f"{name}: {failure}"
        for name, perm, build in ENDPOINTS
        for where in ("in", "out")
        if (failure := check_case(client, sides, role, perm, build, where))
    ]
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("role", Role.values)
def test_group_wide_endpoints_follow_the_permission_held_anywhere(client, org, login_as, role):
    login_as(role, org.ent_a)
    failures = []
    for name, perm, (method, url, payload) in GROUP_WIDE_ENDPOINTS:
        with transaction.atomic():
            response = send(client, method, url, payload)
            transaction.set_rollback(True)
        if perm is None or perm in ROLE_PERMS[role]:
            ok = response.status_code in (200, 201)
        else:
            ok = response.status_code == 403 and set(response.json()) == {
                "code",
                "message",
                "detail",
            }
        if not ok:
            failures.append(f"{name}: {url} → {response.status_code} {response.content[:200]!r}")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("role", Role.values)
def test_lists_never_show_objects_outside_the_scope(client, org, sides, login_as, role):
    login_as(role, org.ent_a)
    units = client.get("/api/v1/units?q=&page=1").json()["items"]
    assert units and all(u["path"].startswith(org.ent_a.path) for u in units)
    people = client.get("/api/v1/people").json()["items"]
    assert all(p["unit_id"] != org.plant_b.pk for p in people)
    duplicates = client.get("/api/v1/people/duplicates").json()
    assert all(p["unit_id"] != org.plant_b.pk for group in duplicates for p in group)
    jobs = client.get("/api/v1/imports").json()["items"]
    assert all(j["unit_id"] == org.ent_a.pk for j in jobs)


def test_anonymous_callers_get_401_with_the_error_body(client, org):
    response = client.get(f"/api/v1/units/{org.ent_a.pk}")
    assert response.status_code == 401
    assert set(response.json()) == {"code", "message", "detail"}
