"""The 台账 list, its export, a problem's page with its actions, and registration by form."""

import csv
import datetime as dt
import hashlib
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from fangkong.core.models import AuditLog
from fangkong.rectification import services
from fangkong.rectification.ledger_kind import ASSIGNED, IN_PROGRESS, SUBMITTED
from fangkong.rectification.models import Colour, Problem, Source

from . import factories as f
from .helpers import travel

pytestmark = pytest.mark.django_db

LIST = "/rectification/"


@pytest.fixture(autouse=True)
def _wednesday_morning():
    """The problems are dated back from 10:00 on Wednesday 18 November 2026."""
    with travel("2026-11-18", "10:00"):
        yield


def _count(response) -> int:
    return response.context["page_obj"].paginator.count


def test_the_list_shows_the_problems_in_scope_with_their_colour_in_words(client, org, login_as):
    red = f.overdue(org, title="食堂排水沟堵塞")
    f.problem(org, title="路灯修复")
    f.problem(org, title="山西的问题", unit=org.plant_b, assigning=org.ent_b)
    login_as("viewer", org.ent_a)
    response = client.get(LIST)
    assert response.status_code == 200
    body = response.content.decode()
    assert _count(response) == 2
    assert "食堂排水沟堵塞" in body and "路灯修复" in body and "山西的问题" not in body
    assert red.colour == Colour.RED
    assert 'class="badge red colour-red"' in body  # a badge with its word, not colour alone
    # The count by colour links to the list narrowed to it, and counts its rows.
    reds = response.context["colour_counts"][0]
    assert reds["colour"] == "red" and reds["n"] == 1
    assert _count(client.get(LIST + reds["url"])) == 1


def test_the_filters_narrow_the_list(client, org, login_as):
    f.overdue(org, title="食堂排水沟堵塞", ref="督查〔2026〕7号")
    f.problem(org, title="路灯修复", target=698, source=Source.MEETING)
    f.problem(org, title="车间照明", unit=org.shop_a)
    login_as("supervisor", org.ent_a)
    cases = {
        "?q=排水沟": 1,
        "?q=督查": 1,  # the reference too
        "?overdue=1": 1,
        "?overdue=0": 2,
        "?colour=red": 1,
        "?source=meeting": 1,
        "?unit=A1W1": 1,
        "?unit=A1": 3,
        "?state=registered": 3,
        "?state=closed": 0,
        "?state=": 3,
    }
    for query, expected in cases.items():
        response = client.get(LIST + query)
        assert response.status_code == 200, query
        assert _count(response) == expected, query


def test_bad_filters_are_a_clear_answer_never_a_500(client, org, login_as):
    login_as("viewer", org.ent_a)
    for outside_or_unknown in ("B1", "NOPE"):  # refused at the field, the page kept
        refused = client.get(LIST + f"?unit={outside_or_unknown}")
        assert refused.status_code == 200
        assert "您管辖的单位中没有这个代码。" in refused.content.decode()
    assert client.get(LIST + "?opened_from=99999-01-01&page=abc").status_code == 200
    login_as("guard", org.ent_a)
    assert client.get(LIST).status_code == 403


def test_the_list_costs_the_same_queries_however_long(
    client, org, login_as, django_assert_max_num_queries
):
    login_as("supervisor", org.ent_a)
    f.problem(org, target=10)
    with django_assert_max_num_queries(14) as small:
        assert client.get(LIST).status_code == 200
    for n in range(12):
        made = f.problem(org, title=f"问题{n}", target=5, unit=org.shop_a if n % 2 else None)
        f.assign(org, made)
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert client.get(LIST).status_code == 200


def test_the_export_writes_the_filtered_rows_and_is_audited(client, org, login_as):
    f.overdue(org, title="食堂排水沟堵塞")
    f.problem(org, title="=HYPERLINK(1)", target=698)
    login_as("supervisor", org.ent_a)
    response = client.get(reverse("rectification:export") + "?format=csv&state=open")
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert len(rows) == 3
    titles = {row[3] for row in rows[1:]}
    assert titles == {"食堂排水沟堵塞", "'=HYPERLINK(1)"}  # formulas neutralised
    lamps = next(row for row in rows if "HYPERLINK" in row[3])
    assert "修复路灯 0/698盏" in lamps
    audit = AuditLog.objects.filter(action=AuditLog.Action.EXPORT).latest("id")
    assert audit.object_type == "rectification.problem"
    # Filtered: only the red one.
    response = client.get(reverse("rectification:export") + "?format=csv&colour=red")
    assert len(list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))) == 2


def test_the_problem_page_shows_targets_evidence_savings_and_history(client, org, login_as):
    made = f.problem(org, target=698)
    owner = f.owner_of(org)
    f.assign(org, made, owner)
    target = made.targets.get()
    photo = SimpleUploadedFile("lamp.png", b"\x89PNG lamp", content_type="image/png")
    services.problem_progress(
        actor=owner, problem=made, done={target.pk: 349}, files=[photo], note="已修复一半"
    )
    services.saving_record(
        actor=owner, problem=made, label="公车运行费用", baseline=100000, current=60000
    )
    login_as("viewer", org.ent_a)
    response = client.get(reverse("rectification:problem", args=[made.pk]))
    assert response.status_code == 200
    body = response.content.decode()
    assert "50%" in body  # 349 of 698
    assert hashlib.sha256(b"\x89PNG lamp").hexdigest() in body
    assert "40.0%" in body  # vehicle costs 40 % lower
    assert "已修复一半" in body
    assert response.context["actions"] == set()  # a viewer only reads
    evidence = made.evidence.get()
    download = client.get(reverse("rectification:evidence", args=[evidence.pk]))
    assert download.status_code == 200 and download.content == b"\x89PNG lamp"
    login_as("viewer", org.ent_b)
    assert client.get(reverse("rectification:problem", args=[made.pk])).status_code == 404
    assert client.get(reverse("rectification:evidence", args=[evidence.pk])).status_code == 404


def _post(client, made, action, data):
    return client.post(reverse("rectification:action", args=[made.pk, action]), data)


def test_a_refused_report_keeps_what_was_typed_and_says_why_at_the_field(client, org, login_as):
    made = f.problem(org, target=698)
    f.assign(org, made)
    target = made.targets.get()
    login_as("unit_admin", org.plant_a)
    response = _post(client, made, "progress", {"note": "今天修了很多", f"done_{target.pk}": "700"})
    assert response.status_code == 422
    form = response.context["forms"]["progress"]
    assert form.errors[f"done_{target.pk}"]
    body = response.content.decode()
    assert "今天修了很多" in body and 'value="700"' in body
    assert f'id="progress-done_{target.pk}-error"' in body
    target.refresh_from_db()
    assert target.done == 0


def test_the_life_of_a_problem_from_its_page(client, org, login_as):
    made = f.problem(org, target=10, effect_check_days=1)
    owner = f.owner_of(org)
    supervisor = login_as("supervisor", org.ent_a)
    page = client.get(reverse("rectification:problem", args=[made.pk]))
    candidates = dict(page.context["forms"]["assign"].fields["owners"].choices)
    assert owner.pk in candidates and supervisor.pk in candidates
    response = _post(client, made, "assign", {"owners": [owner.pk], "responsible_name": "王工"})
    assert response.status_code == 302
    made.item.refresh_from_db()
    assert made.item.state == ASSIGNED

    client.force_login(owner)
    target = made.targets.get()
    files = [
        SimpleUploadedFile("a.png", b"a", content_type="image/png"),
        SimpleUploadedFile("b.png", b"b", content_type="image/png"),
    ]
    response = _post(
        client, made, "progress", {"note": "换灯", f"done_{target.pk}": "10", "files": files}
    )
    assert response.status_code == 302
    assert made.evidence.count() == 2
    page = client.get(response["Location"])
    assert "100%" in page.content.decode()  # the result of the action is visible
    response = _post(client, made, "submit", {"measures": ""})
    assert response.status_code == 422 and response.context["forms"]["submit"].errors["measures"]
    response = _post(client, made, "submit", {"measures": "更换灯具", "root_cause": "老化"})
    assert response.status_code == 302
    made.item.refresh_from_db()
    assert made.item.state == SUBMITTED
    # The owner may not accept: the page does not offer it, and the service refuses.
    assert "accept" not in client.get(response["Location"]).context["actions"]
    assert _post(client, made, "accept", {}).status_code == 403

    client.force_login(supervisor)
    response = _post(client, made, "return", {"reason": ""})
    assert response.status_code == 422 and response.context["forms"]["return"].errors["reason"]
    assert _post(client, made, "return", {"reason": "照片不清晰"}).status_code == 302
    made.item.refresh_from_db()
    assert made.item.state == IN_PROGRESS
    services.problem_submit(actor=owner, problem=made, measures="更换灯具")
    assert _post(client, made, "accept", {"note": "验收合格"}).status_code == 302
    # The check comes a day after the acceptance: today it is refused with its day.
    response = _post(client, made, "check", {"effective": "1"})
    assert response.status_code == 409
    assert "2026-11-19" in str(response.context["forms"]["check"].non_field_errors())
    made.refresh_from_db()
    made.accepted_at -= dt.timedelta(days=2)
    made.save(update_fields=["accepted_at"])
    assert _post(client, made, "check", {"effective": "1"}).status_code == 302
    assert _post(client, made, "close", {"reason": "整改到位"}).status_code == 302
    made.item.refresh_from_db()
    assert not made.item.is_open
    response = _post(client, made, "recur", {"reason": "又坏了", "due_on": "1999-01-01"})
    assert response.status_code == 422 and response.context["forms"]["recur"].errors["due_on"]
    assert _post(client, made, "recur", {"reason": "又坏了"}).status_code == 302
    made.refresh_from_db()
    made.item.refresh_from_db()
    assert made.item.is_open and made.recurrences == 1
    response = _post(client, made, "saving", {"label": "电费", "baseline": "0", "current": "1"})
    assert response.status_code == 422 and response.context["forms"]["saving"].errors["baseline"]
    assert _post(client, made, "nonsense", {}).status_code == 404


def test_registering_by_form_keeps_what_was_typed_when_refused(client, org, login_as):
    login_as("supervisor", org.ent_a)
    new = reverse("rectification:new")
    page = client.get(new)
    assert page.status_code == 200
    due = "2026-12-18"
    data = {
        "source": "audit",
        "source_ref": "审计〔2026〕9号",
        "title": "路灯不亮",
        "severity": "serious",
        "problem_class": "deadline",
        "unit_code": "B1",  # not below the assigning unit, and outside the scope
        "assigning_unit": str(org.ent_a.pk),
        "due_on": due,
        "target_0_label": "路灯",
        "target_0_uom": "盏",
        "target_0_qty": "698",
        "target_1_label": "卫生间",  # a target without its quantity
    }
    response = client.post(new, data)
    assert response.status_code == 422
    assert response.context["form"].errors["target_1_qty"]
    assert 'value="路灯不亮"' in response.content.decode()
    data["target_1_label"] = ""
    response = client.post(new, data)
    assert response.status_code == 422
    assert response.context["form"].errors["unit_code"]
    data["unit_code"] = "A1W1"
    response = client.post(new, data)
    assert response.status_code == 302
    made = Problem.objects.get(title="路灯不亮")
    assert made.item.unit == org.shop_a and made.targets.get().target == 698
    assert response["Location"] == reverse("rectification:problem", args=[made.pk])
    login_as("viewer", org.ent_a)
    assert client.get(new).status_code == 403
