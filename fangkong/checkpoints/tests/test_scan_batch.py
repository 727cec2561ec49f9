"""A scanner's batch (``POST /api/v1/checkpoints/scans``): each scan decided as one scan is,
stored exactly once by its client UUID, and the batch read and written with the same
number of queries whatever its size (issue 13: 500 queries for 100 scans made the gate's
uploads the slowest write of the platform)."""

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from fangkong.accounts.roles import Role
from fangkong.ledger.models import Item
from fangkong.orgs.services import person_create
from fangkong.testing import valid_resident_id

from .. import services
from ..models import GateEvent, Verdict
from .factories import make_gate

pytestmark = pytest.mark.django_db

URL = "/api/v1/checkpoints/scans"
PASS_HASH = "ab" * 32
# Statements of one batch, whatever its size: the log-in's session and user, the guard's
# roles, the checkpoints, the people, the visitors, the UUIDs sent before, the watch list,
# the sites' policies, one INSERT (on PostgreSQL from 20 rows, the ids drawn for a COPY),
# and the savepoint around the batch (the test runs inside a transaction) with its
# release. The fever threshold comes from the health catalogue's memo.
STATEMENTS_PER_BATCH = 12


@pytest.fixture
def gate(org):
    return make_gate(org.plant_a)


@pytest.fixture
def guard(org):
    return org.user(Role.GUARD, org.plant_a)


@pytest.fixture
def visitor(org, guard):
    return services.visitor_register(
        actor=guard,
        site=org.plant_a,
        name="王芳",
        id_number=valid_resident_id(77),
        purpose="送货",
        day=timezone.localdate(),
        walk_in=True,
    )


def scan(gate, **fields):
    return {
        "client_uuid": str(uuid.uuid4()),
        "checkpoint_id": gate.pk,
        "direction": "in",
        "verdict": "ok",
        **fields,
    }


@pytest.fixture
def neighbour(org):
    """A second worker of the guard's plant (a batch names people by id only in its scope)."""
    return person_create(
        actor=None, unit=org.plant_a, name="王强", id_number=valid_resident_id(5), phone=""
    )


def post(client, scans):
    response = client.post(URL, {"scans": scans}, content_type="application/json")
    assert response.status_code == 200, response.content
    return response.json()["results"]


def mixed(org, gate, visitor, count):
    """What a gate's scanner uploads: pass scans in and out, a refused pass, a vehicle, a
    visitor; entries with a temperature."""
    kinds = [
        {"person_id": org.person_a.pk, "pass_id_hash": PASS_HASH, "temperature": "36.5"},
        {"person_id": org.person_a.pk, "pass_id_hash": PASS_HASH, "direction": "out"},
        {"person_id": org.person_a.pk, "verdict": "revoked", "reason": "已吊销"},
        {"plate": "鲁C·12345", "driver": "张师傅", "disinfected": True, "cargo": "氧化铝"},
        {"visitor_id": visitor.pk, "temperature": "36.6"},
    ]
    return [scan(gate, **kinds[n % len(kinds)]) for n in range(count)]


def statements(queries):
    return len(queries.captured_queries)


def test_a_batch_costs_the_same_statements_whatever_its_size(client, org, gate, guard, visitor):
    services.watch_add(  # someone on the list, not in the batch: the list is read, not hit
        actor=None,
        unit=org.ent_a,
        id_number=valid_resident_id(88),
        name="",
        reason="x",
    )
    client.force_login(guard)
    post(client, mixed(org, gate, visitor, 2))  # the session's first read
    with CaptureQueriesContext(connection) as small:
        few = post(client, mixed(org, gate, visitor, 5))
    with CaptureQueriesContext(connection) as large:
        many = post(client, mixed(org, gate, visitor, 30))
    assert {r["status"] for r in few + many} == {"created"}
    assert GateEvent.objects.count() == 2 + 5 + 30
    assert statements(small) == statements(large) == STATEMENTS_PER_BATCH, [
        q["sql"][:80] for q in large.captured_queries
    ]


def test_each_scan_of_a_batch_is_decided_as_a_single_scan_is(
    client, org, gate, guard, visitor, neighbour, django_capture_on_commit_callbacks
):
    services.watch_add(
        actor=None, unit=org.ent_a, id_number=neighbour.id_number, name="", reason="闯卡记录"
    )
    services.policy_update(
        actor=None, site=org.plant_a, admit_colours=["green"], outsiders_banned=True
    )
    other_site = make_gate(org.plant_b, code="G2")
    repeated = scan(gate, person_id=org.person_a.pk, direction="out")
    scans = [
        scan(gate, person_id=org.person_a.pk, pass_id_hash=PASS_HASH, temperature="36.4"),
        scan(gate, person_id=neighbour.pk),  # on the watch list
        scan(gate, visitor_id=visitor.pk),  # outsiders banned here
        scan(gate, person_id=org.person_a.pk, temperature="38.2"),  # a fever
        scan(gate, person_id=999_999),
        scan(other_site, person_id=org.person_b.pk),  # not the guard's site
        scan(gate, plate="XYZ"),
        repeated,
        repeated,  # the same scan twice in one upload
        {**repeated, "direction": "in"},  # its UUID with other content
    ]
    client.force_login(guard)
    with django_capture_on_commit_callbacks(execute=True):
        results = post(client, scans)
    assert [r["status"] for r in results] == [
        *["created"] * 4,
        *["rejected"] * 3,
        "created",
        "duplicate",
        "rejected",
    ]
    ok, watched, banned, fever = results[:4]
    assert (ok["admitted"], ok["verdict"]) == (True, "ok")
    # A guard reads a watch-list refusal as neutral, without its reason.
    assert (watched["admitted"], watched["verdict"]) == (False, "refused")
    assert "闯卡记录" not in watched["reason"]
    assert (banned["verdict"], bool(banned["reason"])) == (Verdict.OUTSIDERS_BANNED, True)
    assert fever["verdict"] == Verdict.FEVER and "38.2" in fever["reason"]
    card = Item.objects.get(kind="abnormal", is_open=True)
    assert card.person_id == org.person_a.pk and "1号门" in card.title
    unknown, elsewhere, bad_plate = (r["error"] for r in results[4:7])
    assert "person_id" in unknown["detail"]
    assert elsewhere["code"] == "not_found"
    assert "plate" in bad_plate["detail"]
    assert results[8]["id"] == results[7]["id"]
    assert results[9]["error"]["code"] == "key_reused"
    stored = GateEvent.objects.count()
    assert stored == 5

    again = post(client, scans)
    assert [r["status"] for r in again] == [
        *["duplicate"] * 4,
        *["rejected"] * 3,
        "duplicate",
        "duplicate",
        "rejected",
    ]
    assert [r["id"] for r in again[:4]] == [r["id"] for r in results[:4]]
    assert GateEvent.objects.count() == stored
    assert Item.objects.filter(kind="abnormal").count() == 1


def test_an_admin_who_may_override_reads_why_a_batch_scan_was_refused(client, org, gate, neighbour):
    services.watch_add(
        actor=None, unit=org.ent_a, id_number=neighbour.id_number, name="", reason="闯卡记录"
    )
    client.force_login(org.user(Role.UNIT_ADMIN, org.ent_a))
    [result] = post(client, [scan(gate, person_id=neighbour.pk)])
    assert (result["verdict"], result["reason"]) == (Verdict.WATCH_LIST, "闯卡记录")


def test_a_batch_answers_bad_input_in_the_users_language(client, org, gate, guard):
    client.force_login(guard)
    [result] = post(client, [scan(gate, person_id=org.person_a.pk, direction="sideways")])
    assert result["status"] == "rejected"
    assert result["error"]["message"] == "方向须为进或出。"
    too_many = client.post(
        URL,
        {"scans": [scan(gate, person_id=org.person_a.pk)] * (services.BATCH_LIMIT + 1)},
        content_type="application/json",
    )
    assert too_many.status_code == 422
    assert not GateEvent.objects.exists()
