"""Project-wide test fixtures: a small org tree, people, and one user per role."""

import datetime as dt
import os

import pytest

from fangkong.core.memo import forget_all
from fangkong.testing import CHROMIUM, CHROMIUM_ARGS, PHONE, OrgFixture, build_org


@pytest.fixture(autouse=True)
def _uploads_in_a_temporary_directory(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _memos_forgotten():
    """Each test starts from the database: a memo may hold a rolled-back test's rows."""
    forget_all()


@pytest.fixture(autouse=True)
def _in_the_default_language():
    """Each test starts in the site's language: a request in English leaves English active
    in its thread (the locale middleware does not switch back), and a later test in the
    same worker would read its messages in English."""
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture
def org(db) -> OrgFixture:
    return build_org()


@pytest.fixture
def login_as(client, org):
    """Log the test client in as a user holding ``role`` on ``unit`` (enterprise A by default)."""

    def login(role: str, unit=None):
        user = org.user(role, unit or org.ent_a)
        client.force_login(user)
        return user

    return login


@pytest.fixture(scope="session", autouse=True)
def _end_stray_postgres_sessions(django_db_setup, django_db_blocker):
    """Let the test database be dropped: end sessions a live-server thread left open."""
    yield
    from django.db import connection

    with django_db_blocker.unblock():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )


@pytest.fixture
def reference_data(transactional_db):
    """Put back the divisions, symptoms, rules, evaluation profiles and tags: a transactional
    test empties every table."""
    from fangkong.core.divisions import load_divisions
    from fangkong.evaluation import defaults as evaluation_defaults
    from fangkong.evaluation.models import Profile, TagSet
    from fangkong.health.defaults import install_defaults
    from fangkong.health.models import HealthRule, Symptom

    load_divisions()
    install_defaults(Symptom, HealthRule)
    evaluation_defaults.install_defaults(Profile, TagSet)
    forget_all()  # loaded in bulk: no signal told the memos


@pytest.fixture
def phone(monkeypatch):
    """A Chromium page the size of a phone, in Chinese.

    Playwright's sync API runs an event loop in this thread; Django's ORM calls from the
    test body would otherwise be refused as "async unsafe".
    """
    from playwright.sync_api import sync_playwright

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport=PHONE, locale="zh-CN", is_mobile=True)
            context.set_default_timeout(15_000)
            yield context.new_page()
        finally:
            browser.close()


def pytest_configure(config):
    config.addinivalue_line("markers", "browser: drives Chromium against a live server")
    config.addinivalue_line("markers", "fuzz: schemathesis against the OpenAPI document")
    config.addinivalue_line("markers", "volume: thousands of requests; run once, on SQLite")
    _travel_to_the_fixed_instant()


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.path.name == "test_browser.py":
            item.add_marker(pytest.mark.browser)


def _travel_to_the_fixed_instant():
    """Run the whole session at FANGKONG_TEST_NOW (ISO 8601 with offset), the clock ticking.

    `make test` runs the suite again at awkward instants (before and after midnight, either
    side of a holiday) to prove that no test depends on the hour or the date.
    """
    instant = os.environ.get("FANGKONG_TEST_NOW")
    if not instant:
        return
    import time_machine

    time_machine.travel(dt.datetime.fromisoformat(instant), tick=True).start()
