"""Real HTTP to a local stand-in robot: bodies, signatures and failures per platform."""

import base64
import hashlib
import hmac
import urllib.parse

from fangkong.notify import transports
from fangkong.notify.masks import mask_email, mask_secret, mask_target, mask_url

MESSAGE = transports.Message(
    subject="日报提醒", body="一车间尚未报告。", url="https://fk.example/r/1"
)
SECRET = "SEC0123456789abcdef"


def test_wecom_receives_markdown(robot):
    result = transports.send_wecom(url=robot.url(), message=MESSAGE)
    assert result.ok, result
    [request] = robot.received
    assert request.query == {"key": "test-key-0123456789"}
    assert request.body["msgtype"] == "markdown"
    content = request.body["markdown"]["content"]
    assert "**日报提醒**" in content and "一车间尚未报告。" in content and MESSAGE.url in content


def test_dingtalk_request_carries_a_sign_that_verifies(robot):
    timestamp = 1_700_000_000_123
    url = robot.url("/robot/send?access_token=tok")
    result = transports.send_dingtalk(
        url=url, secret=SECRET, message=MESSAGE, timestamp_ms=timestamp
    )
    assert result.ok, result
    [request] = robot.received
    assert request.query["access_token"] == "tok"
    assert request.query["timestamp"] == str(timestamp)
    # What DingTalk's server does: HMAC-SHA256 keyed by the secret over "timestamp\nsecret".
    expected = base64.b64encode(
        hmac.new(SECRET.encode(), f"{timestamp}\n{SECRET}".encode(), hashlib.sha256).digest()
    ).decode()
    assert request.query["sign"] == expected  # parse_qsl undid the URL encoding
    assert request.body["msgtype"] == "markdown"
    assert request.body["markdown"]["title"] == "日报提醒"


def test_dingtalk_sign_is_url_encoded():
    sign = transports.dingtalk_sign(SECRET, 1)
    assert urllib.parse.unquote_plus(sign) != sign or "%" not in sign
    assert "+" not in sign and "/" not in sign and "=" not in sign


def test_feishu_body_carries_a_sign_that_verifies(robot):
    robot.reply = (200, {"code": 0, "msg": "success", "data": {}})
    timestamp = 1_700_000_000
    result = transports.send_feishu(
        url=robot.url("/open-apis/bot/v2/hook/abc"),
        secret=SECRET,
        message=MESSAGE,
        timestamp_s=timestamp,
    )
    assert result.ok, result
    [request] = robot.received
    body = request.body
    assert body["timestamp"] == str(timestamp) and body["msg_type"] == "text"
    # What Feishu's server does: HMAC-SHA256 keyed by "timestamp\nsecret" over nothing.
    key = f"{timestamp}\n{SECRET}".encode()
    assert body["sign"] == base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()
    assert "日报提醒" in body["content"]["text"]


def test_feishu_without_secret_sends_no_sign_and_accepts_the_old_status_code(robot):
    robot.reply = (200, {"StatusCode": 0, "StatusMessage": "success"})
    result = transports.send_feishu(url=robot.url(), secret="", message=MESSAGE, timestamp_s=1)
    assert result.ok
    assert "sign" not in robot.received[0].body


def test_failures_say_why(robot):
    robot.reply = (500, {"errcode": 0})
    assert transports.send_wecom(url=robot.url(), message=MESSAGE).error == "HTTP 500"
    robot.reply = (200, {"errcode": 310000, "errmsg": "sign not match"})
    result = transports.send_dingtalk(
        url=robot.url(), secret=SECRET, message=MESSAGE, timestamp_ms=1
    )
    assert not result.ok and result.error == "errcode=310000 sign not match"
    robot.reply = (200, {"code": 19021, "msg": "sign match fail"})
    result = transports.send_feishu(url=robot.url(), secret=SECRET, message=MESSAGE, timestamp_s=1)
    assert not result.ok and "19021" in result.error
    robot.reply = (200, "<html>gateway</html>")
    assert transports.send_wecom(url=robot.url(), message=MESSAGE).error == "Not a JSON object"


def test_unreachable_endpoint_fails_fast():
    result = transports.send_wecom(url="http://127.0.0.1:9/send", message=MESSAGE)
    assert not result.ok and result.error
    assert not transports.send_wecom(url="file:///etc/passwd", message=MESSAGE).ok


def test_long_messages_are_clipped_for_wecom(robot):
    long = transports.Message(subject="s", body="很长" * 5000)
    assert transports.send_wecom(url=robot.url(), message=long).ok
    content = robot.received[0].body["markdown"]["content"]
    assert len(content.encode()) <= transports.WECOM_MAX_BYTES


def test_masks_hide_keys_secrets_and_addresses():
    url = (
        "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa"
    )
    assert "693a91f6-7xxx" not in mask_url(url) and mask_url(url).endswith("5aaa")
    feishu = "https://open.feishu.cn/open-apis/bot/v2/hook/0123456789abcdef0123"
    assert "456789abcdef" not in mask_url(feishu)
    assert mask_secret(SECRET) == "••••cdef" and mask_secret("") == ""
    assert mask_email("zhangwei@example.com") == "zh******@example.com"
    assert mask_target("a@b.cn, zhangwei@example.com").startswith("*@b.cn, zh")
