"""The health lists and pages read a fixed number of queries, however many rows they show.

A household of 15 people with five days of declarations each: a query per row (or per
person) would blow every budget below.
"""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from fangkong.core.models import AuditLog
from fangkong.health import services
from fangkong.health.models import PersonLink
from fangkong.orgs.services import person_create
from fangkong.testing import valid_resident_id

from .factories import raw_declaration

pytestmark = pytest.mark.django_db

SIZE = 15
DAYS = 5


@pytest.fixture
def household(org):
    """Fill the household with people who declared (by proxy) on each of the last days."""
    admin = org.user("group_admin", org.group)
    people = [
        person_create(
            actor=admin, unit=org.household, name=f"住户{n}", id_number=valid_resident_id(100 + n)
        )
        for n in range(SIZE)
    ]
    worker = org.user("grid_worker", org.community)
    today = timezone.localdate()
    for back in range(DAYS - 1, -1, -1):
        day = (today - dt.timedelta(days=back)).isoformat()
        services.declarations_submit(
            actor=worker, items=[raw_declaration(p, day=day, temperature="37.8") for p in people]
        )
    return people


@pytest.fixture
def admin_client(client, org, login_as):
    login_as("group_admin", org.group)
    return client


def get_ok(client, url, **params):
    response = client.get(url, params)
    assert response.status_code == 200
    return response


def test_declarations_list_and_export(admin_client, household, django_assert_max_num_queries):
    with django_assert_max_num_queries(8):
        page = get_ok(admin_client, reverse("health:declarations"), day="").content.decode()
    assert page.count("住户") == 50  # a full page
    with django_assert_max_num_queries(9):
        export = get_ok(admin_client, reverse("health:declarations_export"), day="", format="csv")
    assert export.content.decode("utf-8-sig").count("住户") == SIZE * DAYS


def test_declarations_api_list(admin_client, household, django_assert_max_num_queries):
    with django_assert_max_num_queries(7):
        body = get_ok(admin_client, "/api/v1/declarations").json()
    assert body["count"] == SIZE * DAYS and len(body["items"]) == 50


def test_proxy_screen(admin_client, org, household, django_assert_max_num_queries):
    with django_assert_max_num_queries(13):
        page = get_ok(admin_client, reverse("health:proxy", args=[org.household.pk]))
    assert page.content.decode().count("data-declared") == SIZE


def test_qr_sheet_issue_and_print(admin_client, org, household, django_assert_max_num_queries):
    url = reverse("health:qr_sheet", args=[org.household.pk])
    with django_assert_max_num_queries(15):
        assert admin_client.post(url).status_code == 302
    assert PersonLink.objects.filter(revoked_at__isnull=True).count() == SIZE
    entry = AuditLog.objects.get(object_type="health.personlink", action="create")
    assert sorted(entry.after["people"]) == sorted(p.pk for p in household)
    assert entry.scope_path == org.household.path
    with django_assert_max_num_queries(11):
        page = get_ok(admin_client, url).content.decode()
    assert page.count("data:image/svg+xml") == SIZE


def test_person_page(admin_client, org, household, django_assert_max_num_queries):
    person = household[0]
    services.link_issue(actor=org.user("grid_worker", org.community), person=person)
    with django_assert_max_num_queries(10):
        page = get_ok(admin_client, reverse("health:person", args=[person.pk])).content.decode()
    assert page.count('class="badge yellow"') == DAYS and "data:image/svg+xml" in page
