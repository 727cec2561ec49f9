"""/api/v1/rectification/problems: the list, one problem, registration and every step."""

import datetime as dt

import pytest

from fangkong.rectification.models import Problem

from . import factories as f
from .helpers import travel

pytestmark = pytest.mark.django_db

API = "/api/v1/rectification/problems"
IN_TEN_DAYS = "2026-11-28"
IN_A_MONTH = "2026-12-18"


@pytest.fixture(autouse=True)
def _wednesday_morning():
    """The problems are dated back from 10:00 on Wednesday 18 November 2026."""
    with travel("2026-11-18", "10:00"):
        yield


def _post(client, url, payload):
    return client.post(url, payload, content_type="application/json")


def test_register_then_work_a_problem_to_close_out(client, org, login_as):
    owner = f.owner_of(org)
    supervisor = login_as("supervisor", org.ent_a)
    response = _post(
        client,
        API,
        {
            "title": "路灯不亮",
            "unit_id": org.plant_a.pk,
            "assigning_unit_id": org.ent_a.pk,
            "source": "audit",
            "source_ref": "审计〔2026〕9号",
            "severity": "serious",
            "due_on": IN_A_MONTH,
            "effect_check_days": 1,
            "targets": [{"label": "路灯", "unit_of_measure": "盏", "quantity": "698"}],
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    pid, target = body["id"], body["targets"][0]
    assert body["state"] == "registered" and target["target"] == "698.00"
    url = f"{API}/{pid}"

    response = _post(client, f"{url}/assign", {"owner_ids": [owner.pk]})
    assert response.status_code == 200 and response.json()["owner_ids"] == [owner.pk]
    client.force_login(owner)
    response = _post(
        client, f"{url}/progress", {"done": [{"target_id": target["id"], "done": 698}]}
    )
    assert response.status_code == 200 and response.json()["targets"][0]["percent"] == 100
    response = _post(client, f"{url}/submit", {"measures": "更换灯具"})
    assert response.json()["state"] == "submitted"
    assert _post(client, f"{url}/accept", {}).status_code == 403  # the owner never accepts

    client.force_login(supervisor)
    assert _post(client, f"{url}/return", {"reason": "补充照片"}).json()["state"] == "in_progress"
    client.force_login(owner)
    _post(client, f"{url}/submit", {"measures": "更换灯具"})
    client.force_login(supervisor)
    accepted = _post(client, f"{url}/accept", {"note": "合格"}).json()
    assert accepted["state"] == "accepted" and accepted["on_time"] is True
    early = _post(client, f"{url}/check", {"effective": True})
    assert early.status_code == 409 and early.json()["code"] == "conflict"
    problem = Problem.objects.get(pk=pid)
    problem.accepted_at -= dt.timedelta(days=2)
    problem.save(update_fields=["accepted_at"])
    assert _post(client, f"{url}/check", {"effective": True}).json()["state"] == "checked"
    closed = _post(client, f"{url}/close", {"reason": "整改到位"}).json()
    assert closed["state"] == "closed" and not closed["is_open"]
    assert closed["close_reason"] == "整改到位"
    saving = _post(
        client, f"{url}/savings", {"label": "公车运行费用", "baseline": 100, "current": 60}
    )
    assert saving.status_code == 201 and saving.json()["saved_percent"] == "40.0"
    reopened = _post(client, f"{url}/recur", {"reason": "又坏了", "due_on": IN_TEN_DAYS}).json()
    assert (
        reopened["is_open"] and reopened["recurrences"] == 1 and reopened["due_on"] == IN_TEN_DAYS
    )
    detail = client.get(url).json()
    assert detail["savings"][0]["label"] == "公车运行费用" and detail["close_reason"] == ""


def test_the_list_filters_and_pages(client, org, login_as):
    f.overdue(org, title="食堂排水沟堵塞")
    f.problem(org, title="路灯修复", unit=org.shop_a)
    f.problem(org, title="山西的问题", unit=org.plant_b, assigning=org.ent_b)
    login_as("viewer", org.ent_a)
    rows = client.get(API).json()
    assert rows["count"] == 2
    assert {r["title"] for r in rows["items"]} == {"食堂排水沟堵塞", "路灯修复"}
    assert client.get(f"{API}?overdue=true").json()["count"] == 1
    assert client.get(f"{API}?colour=red").json()["items"][0]["overdue"] is True
    assert client.get(f"{API}?unit_id={org.shop_a.pk}").json()["count"] == 1
    assert client.get(f"{API}?q=排水").json()["count"] == 1
    assert client.get(f"{API}?unit_id={org.plant_b.pk}").status_code == 404
    assert client.get(f"{API}?page=0").status_code == 422


def test_bad_input_is_refused_at_its_field(client, org, login_as):
    login_as("supervisor", org.ent_a)
    base = {"title": "路灯", "unit_id": org.plant_a.pk, "assigning_unit_id": org.ent_a.pk}
    cases = [
        {**base, "severity": "catastrophic"},
        {**base, "due_on": "2100-01-01"},
        {**base, "title": "长" * 201},
        {**base, "targets": [{"label": "灯", "quantity": "-1"}]},
        {**base, "targets": [{"label": "灯", "quantity": "NaN"}]},
        {**base, "due_working_days": 0},
        {**base, "due_on": IN_A_MONTH, "due_working_days": 3},
    ]
    for payload in cases:
        response = _post(client, API, payload)
        assert response.status_code == 422, payload
        assert set(response.json()) == {"code", "message", "detail"}
    assert not Problem.objects.exists()
    made = f.problem(org, target=10)
    response = _post(
        client, f"{API}/{made.pk}/assign", {"owner_ids": [f.owner_of(org, org.plant_b).pk]}
    )
    assert response.status_code == 422 and "owner_ids" in response.json()["detail"]
    assert _post(client, f"{API}/{made.pk}/submit", {"measures": "x"}).status_code == 409
    assert client.get(f"{API}/{2**63}").status_code == 422
