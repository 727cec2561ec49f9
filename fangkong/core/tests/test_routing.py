"""Reads that may lag go to the replica when one is configured; nothing changes without one.

The replica here is a second PostgreSQL database on the test server, a copy of the test
database taken by ``catch_up()``: until the next copy it lags behind the primary, as a
streaming replica does for a moment. A row that only the primary holds tells which of the
two a page read from.
"""

import io
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator

import openpyxl
import psycopg
import pytest
from django.conf import settings
from django.db import connection, connections, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext

from fangkong.core.models import AuditLog, CalendarNotice
from fangkong.core.routing import PIN_COOKIE, REPLICA, replica_reads
from fangkong.health.tests.factories import raw_declaration
from fangkong.orgs.services import person_create
from fangkong.reports.tests.conftest import declare
from fangkong.testing import valid_resident_id

from .test_settings import ROOT

ON_REPLICA = pytest.mark.django_db(transaction=True, databases=["default", REPLICA])

# The roll-up reads the day tallies, or for a large subtree their enterprise-level sums.
TALLIES = re.compile(r"health_(day|subtree)tally")


def _server(dbname: str) -> psycopg.Connection:
    primary = connections["default"].settings_dict
    return psycopg.connect(
        host=primary["HOST"] or None,
        port=primary["PORT"] or None,
        user=primary["USER"] or None,
        password=primary["PASSWORD"] or None,
        dbname=dbname,
        autocommit=True,
    )


@pytest.fixture(scope="module")
def replica_database(django_db_setup, django_db_blocker) -> Iterator[str]:
    """Add the ``replica`` alias, pointing at a second database of the test server."""
    with django_db_blocker.unblock():
        if connection.vendor != "postgresql":
            pytest.skip("a replica is a PostgreSQL deployment")
    primary = connections["default"].settings_dict
    name = f"{primary['NAME']}_replica"
    connections.settings[REPLICA] = {
        **primary,
        "NAME": name,
        "CONN_MAX_AGE": 0,
        "TEST": {**primary["TEST"], "MIRROR": "default"},  # never flushed as a database
    }
    yield name
    connections[REPLICA].close()
    del connections[REPLICA]
    del connections.settings[REPLICA]
    with django_db_blocker.unblock(), _server("postgres") as server:
        server.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def catch_up(replica_database, settings, reference_data):
    """Install the router and return a function that brings the replica up to date."""
    settings.DATABASE_ROUTERS = ["fangkong.core.routing.ReplicaRouter"]
    settings.MIDDLEWARE = ["fangkong.core.routing.replica_middleware", *settings.MIDDLEWARE]

    def copy_the_primary() -> None:
        primary = connections["default"].settings_dict["NAME"]
        connections.close_all()  # a template database must have no other sessions
        with _server("postgres") as server:
            server.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname IN (%s, %s) AND pid <> pg_backend_pid()",
                [primary, replica_database],
            )
            server.execute(f'DROP DATABASE IF EXISTS "{replica_database}"')
            server.execute(f'CREATE DATABASE "{replica_database}" TEMPLATE "{primary}"')

    return copy_the_primary


def _tables(queries: CaptureQueriesContext) -> str:
    return " ".join(query["sql"] for query in queries.captured_queries)


@ON_REPLICA
def test_the_rollup_reads_from_the_replica_and_a_declaration_writes_to_the_primary(
    client, org, login_as, catch_up
):
    catch_up()
    with CaptureQueriesContext(connections[REPLICA]) as declaring:
        declare(org.person_a, temperature="38.4")
    assert declaring.captured_queries == []
    login_as("viewer", org.group)  # a session the replica has not seen: read on the primary

    with (
        CaptureQueriesContext(connections[REPLICA]) as on_replica,
        CaptureQueriesContext(connections["default"]) as on_primary,
    ):
        page = client.get(f"/reports/rollup/?unit={org.group.pk}")
        api = client.get(f"/api/v1/rollup?unit={org.group.pk}").json()

    assert page.status_code == 200
    # The replica has not caught up with the declaration yet: its figures lag behind.
    assert page.context["data"].total.figures.declared == 0
    assert api["unit"]["declared"] == 0
    assert TALLIES.search(_tables(on_replica))
    assert "health_" not in _tables(on_primary)
    assert "django_session" in _tables(on_primary) and "django_session" not in _tables(on_replica)

    catch_up()
    page = client.get(f"/reports/rollup/?unit={org.group.pk}")
    assert page.context["data"].total.figures.declared == 1
    assert (
        client.get(f"/api/v1/rollup/trend?unit={org.group.pk}&days=1").json()[-1]["declared"] == 1
    )


@ON_REPLICA
def test_after_a_write_the_browser_reads_on_the_primary_for_a_few_seconds(
    client, org, login_as, catch_up
):
    login_as("group_admin", org.group)
    stranger = Client()
    stranger.force_login(org.user("viewer", org.group))
    catch_up()
    answer = client.post(
        "/api/v1/declarations", raw_declaration(org.person_a), content_type="application/json"
    )
    assert answer.status_code == 201, answer.content
    assert answer.cookies[PIN_COOKIE]["max-age"] == settings.REPLICA_PIN_SECONDS

    mine = client.get(f"/reports/rollup/?unit={org.group.pk}")
    assert mine.context["data"].total.figures.declared == 1  # what I just filed shows
    theirs = stranger.get(f"/reports/rollup/?unit={org.group.pk}")
    assert theirs.context["data"].total.figures.declared == 0  # others read the replica
    assert PIN_COOKIE not in theirs.cookies  # a read does not pin


@ON_REPLICA
def test_a_block_that_wrote_or_runs_in_a_transaction_reads_on_the_primary(catch_up):
    catch_up()
    CalendarNotice.objects.create(year=2031)  # not on the replica yet
    with replica_reads():
        assert not CalendarNotice.objects.filter(year=2031).exists()  # the lagging replica
    with transaction.atomic(), replica_reads():
        assert CalendarNotice.objects.filter(year=2031).exists()
    with replica_reads(), CaptureQueriesContext(connections[REPLICA]) as on_replica:
        CalendarNotice.objects.create(year=2032)
        years = set(CalendarNotice.objects.values_list("year", flat=True))
    assert years == {2031, 2032}  # read-your-writes
    assert on_replica.captured_queries == []


@ON_REPLICA
def test_exports_and_people_lists_read_the_replica_and_audit_on_the_primary(
    client, org, login_as, catch_up
):
    login_as("group_admin", org.group)
    catch_up()
    newcomer = person_create(
        actor=None, unit=org.shop_a, name="迟到者", id_number=valid_resident_id(3), phone=""
    )
    exported = client.get("/people/export/?format=xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(exported.content)).active
    names = {row[0] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert org.person_a.name in names and newcomer.name not in names
    assert AuditLog.objects.filter(action=AuditLog.Action.EXPORT).count() == 1

    page = client.get(f"/people/?q={newcomer.name}")
    assert page.status_code == 200 and not page.context["rows"]
    listed = client.get("/api/v1/people").json()["items"]
    assert newcomer.pk not in {row["id"] for row in listed}
    catch_up()
    assert [p for p, _shown in client.get(f"/people/?q={newcomer.name}").context["rows"]] == [
        newcomer
    ]


@pytest.mark.django_db
def test_without_a_replica_every_query_goes_to_the_only_database(client, org, login_as):
    assert list(settings.DATABASES) == ["default"]
    assert settings.DATABASE_ROUTERS == []
    assert "fangkong.core.routing.replica_middleware" not in settings.MIDDLEWARE
    declare(org.person_a)
    login_as("viewer", org.group)
    with CaptureQueriesContext(connection) as queries:
        page = client.get(f"/reports/rollup/?unit={org.group.pk}")
    assert page.context["data"].total.figures.declared == 1
    assert TALLIES.search(_tables(queries))


def _settings_with(**env: str) -> dict:
    code = (
        "import json; from config import settings as s; print(json.dumps({'aliases': "
        "list(s.DATABASES), 'routers': s.DATABASE_ROUTERS, 'middleware': s.MIDDLEWARE[0], "
        "'replica': s.DATABASES.get('replica', {}).get('NAME')}))"
    )
    environment = {k: v for k, v in os.environ.items() if k != "DATABASE_REPLICA_URL"}
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**environment, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout)


def test_the_replica_url_adds_the_alias_the_router_and_the_middleware(tmp_path):
    sqlite = {"DATABASE_URL": "sqlite:///" + str(tmp_path / "only.sqlite3")}
    assert _settings_with(**sqlite) == {
        "aliases": ["default"],
        "routers": [],
        "middleware": "django.middleware.security.SecurityMiddleware",
        "replica": None,
    }
    replicated = _settings_with(
        DATABASE_URL="postgres://fangkong@primary:5432/fangkong",
        DATABASE_REPLICA_URL="postgres://fangkong@standby:5432/fangkong",
    )
    assert replicated == {
        "aliases": ["default", "replica"],
        "routers": ["fangkong.core.routing.ReplicaRouter"],
        "middleware": "fangkong.core.routing.replica_middleware",
        "replica": "fangkong",
    }
