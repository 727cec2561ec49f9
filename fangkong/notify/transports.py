"""Send one message to a group robot or by e-mail. Pure I/O: no database access here.

Each sender returns a ``SendResult``; it raises nothing for a refused or failed push, so the
caller records the reason and schedules the retry.

Protocols (as documented by each platform):

- WeCom group robot: POST {"msgtype": "markdown", "markdown": {"content"}}; the key is in the
  URL; success is ``errcode == 0``.
- DingTalk custom robot with 加签: ``sign = urlencode(base64(HMAC-SHA256(key=secret,
  msg=f"{timestamp_ms}\\n{secret}")))`` appended with the timestamp to the URL; success is
  ``errcode == 0``.
- Feishu custom bot with 签名校验: ``sign = base64(HMAC-SHA256(key=f"{timestamp_s}\\n{secret}",
  msg=b""))`` in the body with the timestamp; success is ``code == 0`` (older: StatusCode 0).
"""

import base64
import hashlib
import hmac
import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.core.mail import EmailMessage, get_connection

HTTP_TIMEOUT_SECONDS = 5
EXCERPT_CHARS = 500
# WeCom refuses markdown content over 4096 bytes; DingTalk allows 20,000.
WECOM_MAX_BYTES = 4000
DINGTALK_MAX_BYTES = 19000
FEISHU_MAX_BYTES = 29000


@dataclass(frozen=True)
class Message:
    subject: str
    body: str
    url: str = ""  # absolute link to the object, or ""


@dataclass(frozen=True)
class SendResult:
    ok: bool
    error: str = ""
    response: str = ""


def _clip(text: str, max_bytes: int) -> str:
    """Cut ``text`` to at most ``max_bytes`` of UTF-8 without splitting a character."""
    data = text.encode()
    if len(data) <= max_bytes:
        return text
    return data[: max_bytes - 3].decode(errors="ignore") + "…"


def markdown_text(message: Message) -> str:
    """Render the message as the Markdown the WeCom and DingTalk robots show."""
    parts = [f"**{message.subject}**"]
    if message.body:
        parts.append(message.body)
    if message.url:
        parts.append(f"[{message.url}]({message.url})")
    return "\n\n".join(parts)


def plain_text(message: Message) -> str:
    parts = [message.subject]
    if message.body:
        parts.append(message.body)
    if message.url:
        parts.append(message.url)
    return "\n\n".join(parts)


# ------------------------------------------------------------------ signing


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """Return DingTalk's URL-encoded 加签 signature for ``timestamp_ms``."""
    string_to_sign = f"{timestamp_ms}\n{secret}".encode()
    digest = hmac.new(secret.encode(), string_to_sign, hashlib.sha256).digest()
    return urllib.parse.quote_plus(base64.b64encode(digest))


def dingtalk_signed_url(url: str, secret: str, timestamp_ms: int) -> str:
    """Append ``timestamp`` and ``sign`` to a DingTalk webhook URL."""
    separator = "&" if urllib.parse.urlsplit(url).query else "?"
    sign = dingtalk_sign(secret, timestamp_ms)
    return f"{url}{separator}timestamp={timestamp_ms}&sign={sign}"


def feishu_sign(secret: str, timestamp_s: int) -> str:
    """Return Feishu's 签名校验 signature: the HMAC key is the string to sign, the message empty."""
    string_to_sign = f"{timestamp_s}\n{secret}".encode()
    digest = hmac.new(string_to_sign, b"", hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


# ------------------------------------------------------------------ HTTP


def _post_json(url: str, payload: dict[str, Any]) -> tuple[SendResult, dict[str, Any]]:
    """POST JSON; return a failed result for network errors, non-2xx or a non-JSON answer."""
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        return SendResult(ok=False, error="URL must start with http:// or https://"), {}
    request = urllib.request.Request(  # noqa: S310 (scheme checked above)
        url,
        data=json.dumps(payload, ensure_ascii=False).encode(),
        headers={"Content-Type": "application/json; charset=utf-8"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT_SECONDS) as response:  # noqa: S310
            text = response.read(64 * 1024).decode(errors="replace")
    except urllib.error.HTTPError as exc:
        text = exc.read(2000).decode(errors="replace") if exc.fp else ""
        return SendResult(ok=False, error=f"HTTP {exc.code}", response=text[:EXCERPT_CHARS]), {}
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        return SendResult(ok=False, error=f"{exc.__class__.__name__}: {reason}"[:500]), {}
    try:
        body = json.loads(text)
    except ValueError:
        body = None
    if not isinstance(body, dict):
        return SendResult(ok=False, error="Not a JSON object", response=text[:EXCERPT_CHARS]), {}
    return SendResult(ok=True, response=text[:EXCERPT_CHARS]), body


def _judge(result: SendResult, body: dict[str, Any], *code_keys: str) -> SendResult:
    """Turn a 2xx answer into success only when the platform's own code says 0."""
    if not result.ok:
        return result
    for key in code_keys:
        if key in body:
            if body[key] in (0, "0"):
                return result
            message = body.get("errmsg") or body.get("msg") or body.get("StatusMessage") or ""
            return SendResult(
                ok=False, error=f"{key}={body[key]} {message}".strip(), response=result.response
            )
    return SendResult(ok=False, error="No result code in the answer", response=result.response)


def send_wecom(*, url: str, message: Message) -> SendResult:
    payload = {
        "msgtype": "markdown",
        "markdown": {"content": _clip(markdown_text(message), WECOM_MAX_BYTES)},
    }
    return _judge(*_post_json(url, payload), "errcode")


def send_dingtalk(*, url: str, secret: str, message: Message, timestamp_ms: int) -> SendResult:
    if secret:
        url = dingtalk_signed_url(url, secret, timestamp_ms)
    payload = {
        "msgtype": "markdown",
        "markdown": {
            "title": message.subject[:100],
            "text": _clip(markdown_text(message), DINGTALK_MAX_BYTES),
        },
    }
    return _judge(*_post_json(url, payload), "errcode")


def send_feishu(*, url: str, secret: str, message: Message, timestamp_s: int) -> SendResult:
    payload: dict[str, Any] = {
        "msg_type": "text",
        "content": {"text": _clip(plain_text(message), FEISHU_MAX_BYTES)},
    }
    if secret:
        payload = {"timestamp": str(timestamp_s), "sign": feishu_sign(secret, timestamp_s)} | (
            payload
        )
    return _judge(*_post_json(url, payload), "code", "StatusCode")


# ------------------------------------------------------------------ e-mail


def send_email(*, addresses: Sequence[str], message: Message) -> SendResult:
    """Send through Django's configured e-mail backend (SMTP in production)."""
    if not addresses:
        return SendResult(ok=False, error="No address")
    try:
        connection = get_connection()  # the SMTP backend honours EMAIL_TIMEOUT
        sent = EmailMessage(
            subject=message.subject.replace("\n", " ")[:200],
            body=plain_text(message),
            to=list(addresses),
            connection=connection,
        ).send()
    except Exception as exc:  # SMTP, DNS and socket errors all mean "retry later"
        return SendResult(ok=False, error=f"{exc.__class__.__name__}: {exc}"[:500])
    if not sent:
        return SendResult(ok=False, error="The mail server accepted nothing")
    return SendResult(ok=True, response=f"accepted for {len(addresses)} address(es)")
