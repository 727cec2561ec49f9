"""Private keys at rest: AES-256-GCM with a key from the environment.

``PASS_KEY_ENCRYPTION_KEY`` holds 32 random bytes in base64. Without it (development and
tests) a key is derived from SECRET_KEY and a warning is logged once: see
docs/operations.md. Nothing outside this module sees a private key's bytes.
"""

import base64
import hashlib
import logging
import os
from functools import cache

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    load_der_private_key,
)
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

logger = logging.getLogger(__name__)
ENV_NAME = "PASS_KEY_ENCRYPTION_KEY"


@cache
def _encryption_key() -> bytes:
    given = os.environ.get(ENV_NAME, "")
    if given:
        key = base64.b64decode(given)
        if len(key) != 32:
            raise ImproperlyConfigured(f"{ENV_NAME} must be 32 bytes in base64")
        return key
    if getattr(settings, "PRODUCTION", False):
        raise ImproperlyConfigured(f"{ENV_NAME} must be set in production")
    logger.warning(
        "%s is not set: pass keys are encrypted with a key derived from SECRET_KEY", ENV_NAME
    )
    return hashlib.sha256(b"fangkong-pass-keys:" + settings.SECRET_KEY.encode()).digest()


def seal(private_key: ec.EllipticCurvePrivateKey, kid: str) -> bytes:
    """Encrypt the key (PKCS#8 DER); the key id is bound as associated data."""
    der = private_key.private_bytes(Encoding.DER, PrivateFormat.PKCS8, NoEncryption())
    nonce = os.urandom(12)
    return nonce + AESGCM(_encryption_key()).encrypt(nonce, der, kid.encode())


def unseal(sealed: bytes, kid: str) -> ec.EllipticCurvePrivateKey:
    sealed = bytes(sealed)
    der = AESGCM(_encryption_key()).decrypt(sealed[:12], sealed[12:], kid.encode())
    key = load_der_private_key(der, password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    return key
