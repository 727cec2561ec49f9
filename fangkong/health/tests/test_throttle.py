"""Rate limits that stop attackers, not a plant's workforce.

A whole plant reaches the server through one NAT (or proxy) address, so a valid personal
link is limited per link; only tokens that open nothing are counted per address. Counts
live where every web process sees them.
"""

import os
import subprocess
import sys
import time
import uuid

import pytest
import time_machine
from django.core.cache.backends.locmem import LocMemCache
from django.http import HttpRequest
from django.test import RequestFactory
from django.urls import reverse

from fangkong.core import throttle
from fangkong.core.models import ThrottleBucket
from fangkong.core.network import address_key, client_address
from fangkong.core.tests.parallel import deployed_database, in_parallel
from fangkong.health import services
from fangkong.health.models import Declaration, PersonLink
from fangkong.health.selectors import link_token
from fangkong.orgs.models import Person
from fangkong.testing import make_id_pool

from .factories import ZIBO_ZHANGDIAN

PLANT_NAT = "203.0.113.7"


def _people_with_links(unit, count: int) -> list[str]:
    """Give ``count`` new people of ``unit`` a live link each; return the link URLs."""
    people = Person.objects.bulk_create(
        Person(name=f"工人{n}", id_number=id_number, unit=unit, unit_path=unit.path)
        for n, id_number in enumerate(make_id_pool(count))
    )
    links = PersonLink.objects.bulk_create(PersonLink(person=person) for person in people)
    return [reverse("health:link", args=[link_token(link)]) for link in links]


def _declaration() -> dict[str, str]:
    return {
        "uuid": str(uuid.uuid4()),
        "temperature": "36.5",
        "division": ZIBO_ZHANGDIAN,
        "whereabouts": "at_post",
        "contact": "none",
        "test_result": "none",
    }


# ------------------------------------------------------------------ per link, per address


@pytest.mark.volume
@pytest.mark.django_db
def test_a_plant_of_5000_declares_through_one_address_without_a_429(client, org):
    """5,000 phones behind one NAT address, each with its own link, all get an answer.

    A full declaration costs about 15 ms here, so 4,999 phones send the form without the
    temperature (the declaration's own 422 answers, after the throttle let them through)
    and the last one declares: the address was never blocked.
    """
    *urls, last = _people_with_links(org.plant_a, 5000)
    incomplete = {**_declaration(), "temperature": ""}
    codes = [
        client.post(url, incomplete, HTTP_ACCEPT="application/json", REMOTE_ADDR=PLANT_NAT)
        for url in urls
    ]
    assert {response.status_code for response in codes} == {422}
    assert codes[-1].json()["code"] == "invalid"
    declared = client.post(
        last, _declaration(), HTTP_ACCEPT="application/json", REMOTE_ADDR=PLANT_NAT
    )
    assert declared.status_code == 201 and Declaration.objects.count() == 1


@pytest.mark.django_db
def test_1000_forged_tokens_from_one_address_are_stopped(client, org):
    with time_machine.travel(time.time(), tick=False):  # all within one window
        _forge_1000(client, org)


def _forge_1000(client, org) -> None:
    codes = [
        client.get(f"/health/d/forged-{n}:x/", REMOTE_ADDR=PLANT_NAT).status_code
        for n in range(1000)
    ]
    limit = throttle.limit_for("link_ip").requests
    assert codes[:limit] == [404] * limit
    assert codes[limit:] == [429] * (1000 - limit)
    page = client.get("/health/d/forged:x/", REMOTE_ADDR=PLANT_NAT, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert page.status_code == 429 and int(page["Retry-After"]) >= 1
    assert "请求过多" in page.content.decode()
    api = client.post(
        "/health/d/forged:x/",
        _declaration(),
        HTTP_ACCEPT="application/json",
        HTTP_ACCEPT_LANGUAGE="zh-hans",
        REMOTE_ADDR=PLANT_NAT,
    )
    assert api.status_code == 429
    assert api.json() == {"code": "throttled", "message": api.json()["message"], "detail": None}
    assert "请求过多" in api.json()["message"]
    # The attacker's neighbours behind the same address still declare.
    [url] = _people_with_links(org.plant_a, 1)
    ok = client.post(url, _declaration(), HTTP_ACCEPT="application/json", REMOTE_ADDR=PLANT_NAT)
    assert ok.status_code == 201


@pytest.mark.django_db
def test_one_link_is_limited_on_its_own_from_any_address(client, org):
    [url, other] = _people_with_links(org.plant_a, 2)
    limit = services.LINK_DECLARATIONS_A_DAY

    def declare(url: str, n: int) -> int:
        return client.post(
            url, _declaration(), HTTP_ACCEPT="application/json", REMOTE_ADDR=f"198.51.100.{n}"
        ).status_code

    codes = [declare(url, n) for n in range(limit + 1)]
    assert codes == [201] * limit + [429]
    assert declare(other, 1) == 201


@pytest.mark.django_db
def test_the_returnee_card_link_follows_the_same_rules(client, org, settings):
    settings.THROTTLE_LIMITS = {"link_ip": (2, 60), "link_token": (2, 300)}
    [url] = _people_with_links(org.plant_a, 1)
    card = reverse("travel:link", args=[url.rstrip("/").rsplit("/", 1)[-1]])
    forged = reverse("travel:link", args=["forged:x"])
    codes = [client.get(forged).status_code for _ in range(3)]
    assert codes == [404, 404, 429]
    assert [client.get(card).status_code for _ in range(3)] == [200, 200, 429]


# ------------------------------------------------------------------ the client's address


def _request(remote: str, forwarded: str | None = None) -> HttpRequest:
    request = RequestFactory().get("/", REMOTE_ADDR=remote)
    if forwarded is not None:
        request.META["HTTP_X_FORWARDED_FOR"] = forwarded
    return request


def test_forwarded_for_is_ignored_unless_the_proxy_is_trusted(settings):
    settings.TRUSTED_PROXIES = []
    assert client_address(_request("198.51.100.9", "1.2.3.4")) == "198.51.100.9"


def test_the_right_most_untrusted_address_is_the_client(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8", "192.0.2.1"]
    # The client forged the first entry; the trusted proxies wrote the rest.
    request = _request("10.0.0.2", "6.6.6.6, 203.0.113.7, 192.0.2.1")
    assert client_address(request) == "203.0.113.7"
    assert client_address(_request("10.0.0.2", "203.0.113.7")) == "203.0.113.7"
    assert client_address(_request("10.0.0.2")) == "10.0.0.2"
    assert client_address(_request("10.0.0.2", "not-an-address")) == "10.0.0.2"
    assert client_address(_request("10.0.0.2", "10.0.0.9, 192.0.2.1")) == "10.0.0.9"


def test_an_ipv6_client_is_counted_by_its_64_network():
    assert address_key("2001:db8:1:2:aaaa::1") == address_key("2001:db8:1:2:bbbb::2")
    assert address_key("2001:db8:1:3::1") != address_key("2001:db8:1:2::1")
    assert address_key("::ffff:203.0.113.7") == "203.0.113.7"
    assert address_key(None) == "unknown"


@pytest.mark.django_db
def test_behind_a_trusted_proxy_each_phone_has_its_own_address(client, settings):
    settings.TRUSTED_PROXIES = ["10.0.0.1"]
    settings.THROTTLE_LIMITS = {"link_ip": (2, 60)}

    def forged(forwarded: str) -> int:
        return client.get(
            "/health/d/forged:x/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=forwarded
        ).status_code

    assert [forged("203.0.113.7") for _ in range(3)] == [404, 404, 429]
    assert forged("198.51.100.2") == 404
    # Writing another address in front does not escape the count: the proxy appended the real one.
    assert forged("198.51.100.3, 203.0.113.7") == 429


# ------------------------------------------------------------------ shared, atomic counts


def _settings_cache_backend(**env: str) -> str:
    """Load the settings in a fresh interpreter with ``env``; return the cache backend."""
    environ = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    code = "from config import settings; print(settings.CACHES['default']['BACKEND'])"
    done = subprocess.run(
        [sys.executable, "-c", code],
        env={**environ, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


def test_the_default_cache_is_shared_by_every_process():
    assert _settings_cache_backend() == "django.core.cache.backends.db.DatabaseCache"
    redis = _settings_cache_backend(REDIS_URL="redis://cache.internal:6379/0")
    assert redis == "django.core.cache.backends.redis.RedisCache"


@pytest.mark.django_db(transaction=True)
def test_parallel_hits_are_all_counted_in_the_shared_table(tmp_path):
    def burst(_: int) -> list[int]:
        return [throttle.count("link_token", "one-link").hits for _ in range(20)]

    with deployed_database(tmp_path):
        seen = sorted(hit for hits in in_parallel(8, burst) for hit in hits)
        assert seen == list(range(1, 161))  # no hit lost, none counted twice
        assert ThrottleBucket.objects.get().hits == 160


def test_parallel_hits_are_all_counted_in_a_cache_with_atomic_incr():
    backend = LocMemCache("throttle-test", {})

    def burst(_: int) -> list[int]:
        return [throttle._count_in_cache(backend, "b", 60).hits for _ in range(20)]

    seen = sorted(hit for hits in in_parallel(8, burst) for hit in hits)
    assert seen == list(range(1, 161))


@pytest.mark.django_db
def test_a_window_starts_at_its_first_hit_and_ends_after_its_length():
    limit = throttle.Limit(2, 60)
    with time_machine.travel("2026-03-02 07:00:30 +08:00", tick=False) as clock:
        assert [throttle.hit("t", "k", limit) for _ in range(2)] == [0, 0]
        clock.shift(59)
        assert throttle.hit("t", "k", limit) == 1
        clock.shift(1)
        assert throttle.hit("t", "k", limit) == 0
        clock.shift(60)
        assert throttle.sweep() == 1 and not ThrottleBucket.objects.exists()
