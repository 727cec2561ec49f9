"""Rate limits whose counts every web process shares.

A limit allows ``requests`` hits per window of ``seconds``; the window starts at the first
hit and the count starts again after it. Who is counted is the caller's choice: the
personal-link pages count a valid link per link (a whole plant may declare through one NAT
address) and only the tokens that open nothing per address; the log-in counts attempts
per username and failures per address (``accounts.backends``).

Where the counts live:

- With Redis configured (``REDIS_URL``), in the cache: Redis ``INCR`` is atomic.
- Otherwise in the ``ThrottleBucket`` table, with one ``INSERT … ON CONFLICT DO UPDATE SET
  hits = hits + 1 … RETURNING`` per hit (PostgreSQL, and SQLite from 3.35). The database
  cache is not used for counting: its ``incr()`` reads the value and writes back the sum,
  so two processes that read the same count both write count + 1 and a hit is lost (and
  every write also counts the whole cache table). The upsert is one statement: PostgreSQL
  queues concurrent upserts of one key on its row lock, SQLite runs one writer at a time.
"""

import hashlib
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import BaseCache, cache
from django.core.cache.backends.memcached import BaseMemcachedCache
from django.core.cache.backends.redis import RedisCache
from django.db import connections, router
from django.http import HttpRequest

from .models import ThrottleBucket
from .network import address_key, client_address


@dataclass(frozen=True)
class Limit:
    requests: int
    seconds: int


@dataclass(frozen=True)
class Count:
    """The hits in the current window (this one included) and when the window ends."""

    hits: int
    expires: int  # Unix seconds

    def wait(self) -> int:
        """Seconds until the window ends (at least 1, for Retry-After)."""
        return max(1, int(self.expires - time.time()))


DEFAULT_LIMITS = {
    "link_token": Limit(30, 300),  # one valid personal link (page views and declarations)
    "link_ip": Limit(100, 60),  # tokens that open no link, per client address
    "divisions_ip": Limit(600, 60),  # the public place search, per client address
    "login_ip": Limit(60, 900),  # failed log-ins per client address, whatever the username
}


def limit_for(name: str, default: Limit | None = None) -> Limit:
    """Return the limit called ``name``; settings.THROTTLE_LIMITS overrides the defaults
    (``DEFAULT_LIMITS``, or an app's own ``default`` for a name of its own)."""
    configured = getattr(settings, "THROTTLE_LIMITS", {}).get(name)
    if configured:
        return Limit(*configured)
    return default if default is not None else DEFAULT_LIMITS[name]


def _bucket(name: str, key: str) -> str:
    # Keys may be long or hold personal data (a username); the table only needs them apart.
    return f"{name}:{hashlib.sha256(key.encode()).hexdigest()[:40]}"


def _counts_in_cache(backend: BaseCache) -> bool:
    return isinstance(backend, RedisCache | BaseMemcachedCache)


def count(name: str, key: str, limit: Limit | None = None) -> Count:
    """Count one hit against ``name`` for ``key`` and return the window's count."""
    limit = limit or limit_for(name)
    bucket = _bucket(name, key)
    if _counts_in_cache(cache):
        return _count_in_cache(cache, bucket, limit.seconds)
    return _count_in_table(bucket, limit.seconds)


def hit(name: str, key: str, limit: Limit | None = None) -> int:
    """Count one request; return 0 if it is within the limit, else the seconds to wait."""
    limit = limit or limit_for(name)
    counted = count(name, key, limit)
    return 0 if counted.hits <= limit.requests else counted.wait()


def hit_address(name: str, request: HttpRequest | None, limit: Limit | None = None) -> int:
    """Count one request against ``name`` for the client's address (see ``hit``)."""
    return hit(name, address_key(client_address(request)), limit)


def peek(name: str, key: str) -> Count | None:
    """Return the current window's count without counting, or None when there is none."""
    bucket = _bucket(name, key)
    if _counts_in_cache(cache):
        hits, expires = cache.get(bucket), cache.get(f"{bucket}:expires")
        return Count(hits, expires) if hits is not None and expires is not None else None
    row = ThrottleBucket.objects.filter(key=bucket, expires__gt=int(time.time())).first()
    return Count(row.hits, row.expires) if row else None


def exhausted(name: str, key: str, limit: Limit | None = None) -> Count | None:
    """Return the current count if no hit is left in the window, else None."""
    limit = limit or limit_for(name)
    current = peek(name, key)
    return current if current is not None and current.hits >= limit.requests else None


def forget(name: str, key: str) -> None:
    """Start counting ``key`` from zero (a successful log-in forgets the attempts before it)."""
    bucket = _bucket(name, key)
    if _counts_in_cache(cache):
        cache.delete_many([bucket, f"{bucket}:expires"])
    else:
        ThrottleBucket.objects.filter(key=bucket).delete()


def sweep() -> int:
    """Delete the windows that have ended (a periodic job); return how many."""
    deleted, _ = ThrottleBucket.objects.filter(expires__lte=int(time.time())).delete()
    return deleted


def _count_in_table(bucket: str, seconds: int) -> Count:
    now = int(time.time())
    connection = connections[router.db_for_write(ThrottleBucket)]
    table = connection.ops.quote_name(ThrottleBucket._meta.db_table)
    key = connection.ops.quote_name("key")
    # A window that has ended starts again at 1 in the same statement, so no hit can fall
    # between "it expired" and "start a new one". Only quoted names are interpolated.
    sql = (
        f"INSERT INTO {table} ({key}, hits, expires) VALUES (%s, 1, %s) "  # noqa: S608
        f"ON CONFLICT ({key}) DO UPDATE SET "
        f"hits = CASE WHEN {table}.expires <= %s THEN 1 ELSE {table}.hits + 1 END, "
        f"expires = CASE WHEN {table}.expires <= %s THEN excluded.expires "
        f"ELSE {table}.expires END "
        f"RETURNING hits, expires"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [bucket, now + seconds, now, now])
        hits, expires = cursor.fetchone()
    return Count(int(hits), int(expires))


def _count_in_cache(backend: BaseCache, bucket: str, seconds: int) -> Count:
    now = int(time.time())
    # add() is atomic (SET NX): the first hit of a window fixes its end and its count.
    backend.add(f"{bucket}:expires", now + seconds, seconds)
    if backend.add(bucket, 1, seconds):
        hits = 1
    else:
        try:
            hits = backend.incr(bucket)
        except ValueError:  # the window ended between add() and incr()
            backend.set(bucket, 1, seconds)
            hits = 1
    expires = backend.get(f"{bucket}:expires") or now + seconds
    return Count(int(hits), int(expires))
