"""Django's own error answers (no page at an address, an expired form, a server error)
come in the user's language, as the app's other errors do, never Django's English pages."""

import json
import threading

import pytest
from django.db import OperationalError, connection, transaction
from django.test import Client, RequestFactory, override_settings
from django.urls import path

from config import urls as site_urls
from fangkong.core.audit import audit_record
from fangkong.core.models import AuditLog
from fangkong.core.views import server_error

from .parallel import in_parallel

pytestmark = pytest.mark.django_db


def broken(request):
    raise RuntimeError("a bug")


# The site's addresses and error handlers, and one view with a bug.
urlpatterns = [*site_urls.urlpatterns, path("broken/", broken)]
handler400, handler403 = site_urls.handler400, site_urls.handler403
handler404, handler500 = site_urls.handler404, site_urls.handler500


def test_an_address_nothing_serves_answers_the_error_page_in_chinese(client):
    page = client.get("/no-such-page/")
    assert page.status_code == 404
    text = page.content.decode()
    assert "页面不存在：地址可能输错了，或已经失效。" in text
    assert 'lang="zh-hans"' in text and "Not Found" not in text
    english = client.get("/no-such-page/", HTTP_ACCEPT_LANGUAGE="en")
    assert "This page does not exist" in english.content.decode()


def test_a_phone_asking_for_json_gets_the_error_body(client):
    answer = client.get("/health/d/no-such/thing", HTTP_ACCEPT="application/json")
    assert answer.status_code == 404
    assert answer.json()["code"] == "not_found"
    assert answer.json()["message"] == "页面不存在：地址可能输错了，或已经失效。"
    # The address may be a personal link with a typo: kept out of caches and referrers.
    assert answer["Cache-Control"] == "private, no-store"
    assert answer["Referrer-Policy"] == "no-referrer" and "noindex" in answer["X-Robots-Tag"]


def test_a_form_sent_after_its_page_expired_says_what_to_do(org):
    client = Client(enforce_csrf_checks=True)
    client.force_login(org.user("unit_admin", org.group))
    answer = client.post("/accounts/logout/")  # no CSRF token: the page's form had expired
    assert answer.status_code == 403
    text = answer.content.decode()
    assert "表单已过期，请返回并刷新页面后重新提交。" in text
    assert "CSRF verification" not in text and "Forbidden" not in text


@override_settings(ROOT_URLCONF=__name__)
def test_a_server_error_is_a_page_in_the_users_language():
    client = Client(raise_request_exception=False)
    page = client.get("/broken/")
    assert page.status_code == 500
    text = page.content.decode()
    assert "出错了" in text and "已记录" in text
    assert "Server Error" not in text and "a bug" not in text
    english = client.get("/broken/", HTTP_ACCEPT_LANGUAGE="en")
    assert "Something went wrong" in english.content.decode()


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's lock timeout")
def test_a_write_that_waited_too_long_for_a_row_lock_is_told_to_send_again():
    # A row held by another transaction past lock_timeout: PostgreSQL undoes the write
    # (55P03), which is "busy, send it again", as SQLite's "database is locked" is.
    row = audit_record(actor=None, action="held")
    held, answered = threading.Event(), threading.Event()
    answers = []

    def hold() -> None:
        with transaction.atomic():
            AuditLog.objects.select_for_update().get(pk=row.pk)
            held.set()
            answered.wait(5)

    def write() -> None:
        held.wait(5)
        try:
            with transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute("SET LOCAL lock_timeout = '50ms'")
                AuditLog.objects.filter(pk=row.pk).update(action="changed")
        except OperationalError:
            request = RequestFactory().post("/", HTTP_ACCEPT="application/json")
            answers.append(server_error(request))
        answered.set()

    in_parallel(2, lambda n: hold() if n == 0 else write())
    [answer] = answers
    assert answer.status_code == 503 and answer["Retry-After"] == "2"
    assert json.loads(answer.content)["code"] == "busy"
    assert AuditLog.objects.get(pk=row.pk).action == "held"
