import pytest

from fangkong.accounts.services import api_token_create, api_token_revoke
from fangkong.core.models import AuditLog
from fangkong.orgs.models import Person

pytestmark = pytest.mark.django_db


def test_openapi_document_and_docs_page_are_served(client):
    schema = client.get("/api/v1/openapi.json").json()
    assert "/api/v1/units" in schema["paths"]
    assert "/api/v1/imports/{job_id}/commit" in schema["paths"]
    assert client.get("/api/v1/docs").status_code == 200


def test_validation_errors_have_one_body_with_a_chinese_message(client, org, login_as):
    login_as("unit_admin")
    response = client.post(
        "/api/v1/people",
        {"name": "王芳", "id_number": "110105194912310021", "unit_id": org.shop_a.pk},
        content_type="application/json",
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    body = response.json()
    assert response.status_code == 422
    assert body["code"] == "invalid"
    assert body["message"] == "部分字段填写有误。"
    assert "校验码" in body["detail"]["id_number"][0]
    assert not Person.objects.filter(name="王芳").exists()


def test_schema_errors_have_the_same_body(client, login_as):
    login_as("unit_admin")
    response = client.post("/api/v1/units", {"code": 1}, content_type="application/json")
    body = response.json()
    assert response.status_code == 422
    assert set(body) == {"code", "message", "detail"}
    assert {d["field"] for d in body["detail"]} >= {"name", "kind", "parent_id"}


def test_messages_follow_the_requested_language(client, org, login_as):
    login_as("viewer")
    response = client.get("/api/v1/units/999999", HTTP_ACCEPT_LANGUAGE="en")
    assert response.json()["message"] == "Not found."
    response = client.get("/api/v1/units/999999", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.json()["message"] == "未找到。"


def test_tokens_authenticate_until_revoked(client, org):
    user = org.user("viewer", org.ent_a)
    token, key = api_token_create(actor=user, user=user, name="门岗平板")
    headers = {"HTTP_AUTHORIZATION": f"Bearer {key}"}
    assert client.get(f"/api/v1/units/{org.ent_a.pk}", **headers).status_code == 200
    assert client.get("/api/v1/me", HTTP_X_API_TOKEN=key).json()["username"] == user.username
    api_token_revoke(actor=user, token=token)
    assert client.get(f"/api/v1/units/{org.ent_a.pk}", **headers).status_code == 401
    assert (
        client.get(
            f"/api/v1/units/{org.ent_a.pk}", HTTP_AUTHORIZATION="Bearer fk_forged"
        ).status_code
        == 401
    )


def test_people_are_masked_for_roles_without_sensitive_access(client, org, login_as):
    login_as("reporter")
    item = client.get("/api/v1/people").json()["items"][0]
    assert item["masked"] is True
    assert item["id_number"] == org.person_a.id_number[:4] + "*" * 10 + org.person_a.id_number[-4:]
    assert item["phone"] == "138****8001"
    assert not AuditLog.objects.filter(action="view_sensitive").exists()


def test_unmasked_views_are_recorded(client, org, login_as):
    user = login_as("tracker")
    item = client.get(f"/api/v1/people/{org.person_a.pk}").json()
    assert item["id_number"] == org.person_a.id_number and item["masked"] is False
    entry = AuditLog.objects.get(action="view_sensitive", object_id=str(org.person_a.pk))
    assert entry.actor == user
    client.get("/api/v1/people")
    assert AuditLog.objects.filter(action="view_sensitive", object_repr__startswith="list").exists()


def test_headcount_endpoint(client, org, login_as):
    login_as("viewer", org.group)
    body = client.get(f"/api/v1/units/{org.group.pk}/headcount").json()
    assert body["headcount"] == 2 and body["units"] == 8


def test_search_by_pinyin_initials(client, org, login_as):
    login_as("viewer", org.group)
    names = [u["name"] for u in client.get("/api/v1/units?q=sdly").json()["items"]]
    assert names == ["山东铝业有限公司"]


def test_an_unexpected_failure_answers_500_with_the_common_body(client, org, login_as, monkeypatch):
    from fangkong.orgs import selectors

    def broken(*args, **kwargs):
        raise RuntimeError("database on fire")

    monkeypatch.setattr(selectors, "subtree_headcount", broken)
    login_as("viewer")
    response = client.get(f"/api/v1/units/{org.ent_a.pk}/headcount")
    assert response.status_code == 500
    body = response.json()
    assert body["code"] == "server_error" and "fire" not in body["message"]
