"""A small fixed-window rate limiter on Django's cache, for the pages without a login.

The personal link page is public: anything that knows a token (or guesses at tokens) may
call it. Counting per token stops one link from being hammered; counting per client
address stops a flood of forged tokens. The per-address limit is generous because a whole
plant may reach the server through one NAT address at 7 am.
"""

import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest


@dataclass(frozen=True)
class Limit:
    requests: int
    seconds: int


DEFAULT_LIMITS = {
    "link_token": Limit(30, 300),
    "link_ip": Limit(600, 60),
    "divisions_ip": Limit(600, 60),
}


def limit_for(name: str) -> Limit:
    """Return the limit called ``name``; settings.HEALTH_THROTTLE overrides the defaults."""
    configured = getattr(settings, "HEALTH_THROTTLE", {}).get(name)
    return Limit(*configured) if configured else DEFAULT_LIMITS[name]


def client_address(request: HttpRequest) -> str:
    return str(request.META.get("REMOTE_ADDR") or "unknown")


def hit(name: str, key: str) -> int:
    """Count one request against ``name`` for ``key``; return 0 if allowed, else seconds to wait."""
    limit = limit_for(name)
    now = time.time()
    window = int(now // limit.seconds)
    bucket = f"throttle:{name}:{key}:{window}"
    # add() is a no-op when the bucket exists, so concurrent first hits do not reset it.
    cache.add(bucket, 0, limit.seconds + 1)
    try:
        count = cache.incr(bucket)
    except ValueError:  # expired between add() and incr()
        cache.set(bucket, 1, limit.seconds + 1)
        count = 1
    if count <= limit.requests:
        return 0
    return max(1, int((window + 1) * limit.seconds - now))
