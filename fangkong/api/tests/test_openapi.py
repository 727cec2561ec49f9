"""The OpenAPI document tells the truth: one schema per name, error answers, real formats."""

import re
from collections import Counter

import pytest
from ninja import Schema

from fangkong.api.api import ERROR_STATUSES, api

pytestmark = pytest.mark.django_db


def every_schema_class(base=Schema):
    for cls in base.__subclasses__():
        yield cls
        yield from every_schema_class(cls)


def test_no_two_api_schemas_share_a_component_name():
    ours = {cls for cls in every_schema_class() if cls.__module__.startswith("fangkong.")}
    names = Counter(cls.__name__ for cls in ours)
    assert [name for name, n in names.items() if n > 1] == []


def test_the_tracking_cards_are_documented_with_their_own_schema():
    components = api.get_openapi_schema()["components"]["schemas"]
    assert "TrackingCardOut" in components and "ReturneeCardOut" in components
    assert "kind" in components["TrackingCardOut"]["properties"]


def test_every_operation_documents_the_error_answers_with_the_error_schema():
    schema = api.get_openapi_schema()
    assert set(schema["components"]["schemas"]["Error"]["required"]) == {
        "code",
        "message",
        "detail",
    }
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            documented = {int(code) for code in operation["responses"]}
            assert set(ERROR_STATUSES) <= documented, (method, path)
            error = operation["responses"][422]["content"]["application/json"]["schema"]
            assert error == {"$ref": "#/components/schemas/Error"}


def test_a_local_time_is_not_documented_as_an_rfc3339_time():
    components = api.get_openapi_schema()["components"]["schemas"]
    deadline = components["BoardRowOut"]["properties"]["deadline"]
    assert deadline.get("format") != "time" and deadline["pattern"]


@pytest.mark.parametrize("body", ["true", "[]", "1", '"x"', "null"])
def test_a_body_that_is_not_an_object_is_refused(client, org, login_as, body):
    login_as("unit_admin")
    response = client.post("/api/v1/people", body, content_type="application/json")
    assert response.status_code in (400, 422)
    assert set(response.json()) == {"code", "message", "detail"}


def test_no_operation_takes_true_for_its_object_body(client, org, login_as):
    login_as("group_admin", org.group)
    accepted = []
    for path, methods in api.get_openapi_schema()["paths"].items():
        for method, operation in methods.items():
            content = operation.get("requestBody", {}).get("content", {})
            if "application/json" not in content:
                continue
            url = re.sub(r"\{[^}]+\}", "1", path)
            response = getattr(client, method)(url, "true", content_type="application/json")
            if response.status_code not in (400, 422):
                accepted.append(f"{method.upper()} {path} → {response.status_code}")
    assert accepted == [], "\n".join(accepted)
