"""The short middleware chain of the personal links and /healthz (core/lean.py)."""

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.test.utils import CaptureQueriesContext

from fangkong.core.lean import lean_chain
from fangkong.health import services
from fangkong.health.selectors import link_token

pytestmark = pytest.mark.django_db


def personal_link(org) -> str:
    link = services.link_issue(actor=org.user("grid_worker", org.group), person=org.person_a)
    return f"/health/d/{link_token(link)}/"


def test_a_signed_in_office_user_opening_a_personal_link_costs_no_session_read(
    client, org, login_as
):
    # The same phone may hold an office session: the link page neither reads it nor sets
    # a cookie (a session or CSRF cookie would let the page's answer vary per visitor).
    login_as("grid_worker", org.community)
    url = personal_link(org)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    assert not response.cookies
    assert "Cookie" not in response.get("Vary", "")
    assert not any("django_session" in q["sql"] for q in queries.captured_queries)
    # The office pages still see the session.
    assert client.get("/health/declare/").status_code == 200


def test_lean_pages_keep_the_language_the_frame_refusal_and_the_slash(client, org):
    url = personal_link(org)
    response = client.get(url, HTTP_ACCEPT_LANGUAGE="en")
    assert response["Content-Language"] == "en"
    assert response["X-Frame-Options"] == "DENY"
    assert client.get("/healthz")["Content-Language"] == "zh-hans"
    # Typed without its last slash, the link is redirected rather than lost.
    assert client.get(url[:-1]).status_code == 301


def test_a_middleware_with_view_hooks_cannot_be_lean():
    with pytest.raises(ImproperlyConfigured, match="cannot be lean"):
        lean_chain(["django.middleware.csrf.CsrfViewMiddleware"])
