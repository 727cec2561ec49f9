"""Django's own error answers (no page at an address, an expired form, a server error)
come in the user's language, as the app's other errors do, never Django's English pages."""

import pytest
from django.test import Client, override_settings
from django.urls import path

from config import urls as site_urls

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
