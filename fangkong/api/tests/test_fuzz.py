"""Fuzzing the API against its own OpenAPI document, in-process.

schemathesis generates requests from /api/v1/openapi.json, valid and invalid, for every
operation, and checks each answer: never a 5xx, a documented status code and content type,
and a body that matches the documented schema. It runs as a role with the widest scope
(group admin) and one with a narrow scope (a workshop's team leader). Hypothesis is
derandomised and the examples per operation are bounded, so a run is repeatable and short.
"""

import os
from contextlib import contextmanager
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from fangkong.accounts.services import api_token_create
from fangkong.health.services import declarations_submit
from fangkong.health.tests.factories import raw_declaration

pytestmark = [pytest.mark.django_db, pytest.mark.fuzz]

EXAMPLES = int(os.environ.get("FANGKONG_FUZZ_EXAMPLES", "12"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
]


def some_data(org: Any) -> None:
    """Declarations to list, so list operations have rows to serialise."""
    worker = org.user("grid_worker", org.group)
    for person in (org.person_a, org.person_b):
        declarations_submit(actor=worker, items=[raw_declaration(person, temperature="38.0")])


@contextmanager
def connections_kept_open():
    """Keep the test's database connection across requests, as Django's test client does.

    The WSGI handler closes "old" connections when a request starts and ends; on
    PostgreSQL that would end the test's transaction after the first request.
    """
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    try:
        yield
    finally:
        for signal in (request_started, request_finished):
            signal.connect(close_old_connections)


def fuzz(user: Any) -> list[str]:
    """Run every operation as ``user``; return one line per failing operation."""
    with connections_kept_open():
        return _fuzz(user)


def _fuzz(user: Any) -> list[str]:
    _token, key = api_token_create(actor=None, user=user, name="fuzz")
    headers = {"Authorization": f"Bearer {key}"}
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", get_wsgi_application())
    failures = []
    for result in schema.get_all_operations():
        operation = result.ok()  # type: ignore[union-attr]

        @given(
            case=operation.as_strategy(GenerationMode.POSITIVE)
            | operation.as_strategy(GenerationMode.NEGATIVE)
        )
        @settings(
            max_examples=EXAMPLES,
            derandomize=True,
            deadline=None,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def run(case: Any) -> None:
            response = case.call(headers=headers)
            case.validate_response(response, checks=CHECKS, headers=headers)

        try:
            run()
        except (Exception, BaseExceptionGroup) as exc:  # try every operation, list all failures
            failures.append(f"{operation.label}: {str(exc)[:600]}")
    return failures


def test_the_widest_role_finds_no_server_error_and_no_undocumented_answer(org):
    some_data(org)
    failures = fuzz(org.user("group_admin", org.group))
    assert not failures, "\n\n".join(failures)


def test_a_narrow_role_finds_no_server_error_and_no_undocumented_answer(org):
    some_data(org)
    failures = fuzz(org.user("reporter", org.shop_a))
    assert not failures, "\n\n".join(failures)
