"""The log-in lock-out: atomic under parallel guesses, and silent about who has an account."""

import threading
import time

import pytest
import time_machine
from django.contrib.auth.hashers import MD5PasswordHasher
from django.test import Client

from fangkong.accounts.models import User
from fangkong.core.models import AuditLog
from fangkong.core.tests.parallel import deployed_database, in_parallel

LOGIN = "/accounts/login/"


class CountingHasher(MD5PasswordHasher):
    """The test hasher, counting the password checks it makes."""

    algorithm = "counted_md5"
    checks = 0
    _lock = threading.Lock()

    def verify(self, password: str, encoded: str) -> bool:
        with CountingHasher._lock:
            CountingHasher.checks += 1
        return super().verify(password, encoded)


@pytest.fixture
def counted(settings):
    settings.PASSWORD_HASHERS = [f"{__name__}.CountingHasher"]
    CountingHasher.checks = 0
    return CountingHasher


def _wrong_password(username: str, address: str = "198.51.100.20"):
    def attempt(n: int) -> int:
        response = Client(REMOTE_ADDR=address).post(
            LOGIN, {"username": username, "password": f"wrong-{n}"}
        )
        return response.status_code

    return attempt


@pytest.mark.django_db(transaction=True)
def test_a_parallel_burst_of_41_wrong_passwords_gets_at_most_5_checks(counted, settings, tmp_path):
    user = User.objects.create_user(username="li.na", password="Right-pass-2020")
    with deployed_database(tmp_path):
        _burst_then_locked(user, counted, settings)


def _burst_then_locked(user, counted, settings) -> None:
    codes = in_parallel(41, _wrong_password("li.na"))
    assert set(codes) == {200}  # the form again, with an error; never a server error
    assert counted.checks <= settings.LOGIN_FAILURE_LIMIT
    failures = AuditLog.objects.filter(action="login_failed", object_id=str(user.pk)).count()
    assert failures <= settings.LOGIN_FAILURE_LIMIT
    assert AuditLog.objects.filter(action="locked", object_id=str(user.pk)).count() == 1
    user.refresh_from_db()
    assert user.is_locked
    # Locked: even the right password is not checked.
    checks = counted.checks
    browser = Client()
    page = browser.post(LOGIN, {"username": "li.na", "password": "Right-pass-2020"})
    assert page.status_code == 200 and "_auth_user_id" not in browser.session
    assert counted.checks == checks


@pytest.mark.django_db
def test_the_lock_out_reads_the_same_for_an_unknown_username(client, settings):
    User.objects.create_user(username="wang.fang", password="Right-pass-2020")

    def after_failures(username: str) -> tuple[int, str]:
        for n in range(settings.LOGIN_FAILURE_LIMIT):
            client.post(LOGIN, {"username": username, "password": f"wrong-{n}"})
        page = client.post(
            LOGIN, {"username": username, "password": "guess"}, HTTP_ACCEPT_LANGUAGE="zh-hans"
        )
        return page.status_code, str(page.context["form"].non_field_errors())

    settings.THROTTLE_LIMITS = {"login_ip": (100, 900)}
    with time_machine.travel(time.time(), tick=False):  # the same "locked until" minute
        known, unknown = after_failures("wang.fang"), after_failures("nobody.here")
    assert known == unknown
    assert known[0] == 200 and "锁定" in known[1]


@pytest.mark.django_db
def test_a_success_gives_the_attempts_back(client, settings):
    User.objects.create_user(username="zhao.lei", password="Right-pass-2020")
    for round_ in range(3):
        for n in range(settings.LOGIN_FAILURE_LIMIT - 1):
            client.post(LOGIN, {"username": "zhao.lei", "password": f"wrong-{round_}-{n}"})
        ok = client.post(LOGIN, {"username": "zhao.lei", "password": "Right-pass-2020"})
        assert ok.status_code == 302
        client.logout()


@pytest.mark.django_db
def test_failures_from_one_address_are_limited_whatever_the_username(client, settings):
    settings.THROTTLE_LIMITS = {"login_ip": (3, 900)}
    User.objects.create_user(username="sun.li", password="Right-pass-2020")
    for n in range(3):
        client.post(LOGIN, {"username": f"user-{n}", "password": "guess"})
    page = client.post(
        LOGIN, {"username": "sun.li", "password": "Right-pass-2020"}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert page.status_code == 200 and "_auth_user_id" not in client.session
    assert "from your network" in str(page.context["form"].non_field_errors())
    # Another address is not affected.
    other = Client(REMOTE_ADDR="198.51.100.30")
    done = other.post(LOGIN, {"username": "sun.li", "password": "Right-pass-2020"})
    assert done.status_code == 302
