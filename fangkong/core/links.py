"""Personal links: a random key kept in a row, and the key signed with the site's secret
(HMAC) in the URL. A forged token is refused before any read; deleting or revoking the row
kills the link; the holder of the row can show the same link again."""

import secrets

from django.core import signing

from .errors import NotFound


def new_link_key() -> str:
    """A random key (128 bits) for a link's row."""
    return secrets.token_urlsafe(16)


def link_token(salt: str, key: str) -> str:
    """The signed token of ``key`` that goes into a link's URL and QR code."""
    return signing.Signer(salt=salt).sign(key)


def link_key(salt: str, token: str) -> str:
    """The key inside a token signed with ``salt``; NotFound for a forged or foreign one."""
    try:
        return signing.Signer(salt=salt).unsign(token)
    except signing.BadSignature as exc:
        raise NotFound() from exc
