"""Show secrets, webhook keys and addresses without giving them away."""

import urllib.parse

from fangkong.core.text import mask_middle


def mask_secret(secret: str) -> str:
    """Show that a secret is set and its last four characters, never more."""
    if not secret:
        return ""
    return "••••" + secret[-4:] if len(secret) > 8 else "••••"


def _mask_token(value: str) -> str:
    return mask_middle(value, keep_start=4, keep_end=4) if len(value) > 8 else "****"


def mask_url(url: str) -> str:
    """Hide the robot key in a webhook URL: query values and a long last path segment."""
    if not url:
        return ""
    parts = urllib.parse.urlsplit(url)
    query = "&".join(
        f"{key}={_mask_token(value)}"
        for key, value in urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    )
    head, _sep, last = parts.path.rpartition("/")
    path = f"{head}/{_mask_token(last)}" if len(last) >= 16 else parts.path
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, path, query, ""))


def mask_email(address: str) -> str:
    local, at, domain = address.partition("@")
    if not at:
        return _mask_token(address)
    return mask_middle(local, keep_start=2, keep_end=0) + "@" + domain


def mask_target(target: str) -> str:
    """Mask a delivery target: a webhook URL or comma-separated e-mail addresses."""
    if target.startswith(("http://", "https://")):
        return mask_url(target)
    return ", ".join(mask_email(a.strip()) for a in target.split(",") if a.strip())
