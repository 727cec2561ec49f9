"""The client's address, seen through the reverse proxies the operator trusts.

Behind a TLS proxy or load balancer ``REMOTE_ADDR`` is the proxy. The proxy appends the
address it received the request from to ``X-Forwarded-For``; everything to the left of
that was written by the client and may be forged. So the header is read only when the
request comes from a proxy listed in ``settings.TRUSTED_PROXIES``, from the right, and the
first address that is not a trusted proxy is the client.
"""

import ipaddress
from functools import lru_cache

from django.conf import settings
from django.http import HttpRequest

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def _networks(entries: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(entry, strict=False) for entry in entries)


@lru_cache(maxsize=4096)  # every request parses its proxy's address, and few are seen
def _parsed(text: str) -> Address | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def _is_trusted(address: Address, networks: tuple[Network, ...]) -> bool:
    return any(address in network for network in networks)


def client_address(request: HttpRequest | None) -> str | None:
    """Return the client's IP address, or None when the request has none."""
    if request is None:
        return None
    remote = request.META.get("REMOTE_ADDR") or None
    networks = _networks(tuple(getattr(settings, "TRUSTED_PROXIES", ())))
    proxy = _parsed(remote) if remote else None
    if proxy is None or not _is_trusted(proxy, networks):
        return remote
    hops = [hop for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
    client = None
    for hop in reversed(hops):
        client = _parsed(hop)
        if client is None:  # no proxy writes this: the header cannot be believed
            return remote
        if not _is_trusted(client, networks):
            break
    return str(client) if client is not None else remote


def address_key(address: str | None) -> str:
    """Return the throttle key of an address: an IPv6 client owns a whole /64, so count that."""
    parsed = _parsed(address) if address else None
    if parsed is None:
        return address or "unknown"
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return str(parsed)
