"""A missing report's reminder reaches the group robot (a local stand-in endpoint), signed."""

import base64
import hashlib
import hmac

import pytest

from fangkong.notify.models import ChannelKind, Delivery, Event
from fangkong.notify.services import channel_create, subscription_create
from fangkong.notify.testing import RobotServer
from fangkong.reports import services

pytestmark = pytest.mark.django_db
SECRET = "SEC-community-robot"


def test_a_reminder_arrives_at_the_dingtalk_robot_at_the_deadline(
    org, at, django_capture_on_commit_callbacks
):
    with RobotServer() as robot:
        channel = channel_create(
            actor=None,
            unit=org.ent_b,
            name="山西铝业防控群",
            kind=ChannelKind.DINGTALK,
            webhook_url=robot.url(),
            secret=SECRET,
        )
        subscription_create(
            actor=None, channel=channel, unit=org.ent_b, event=Event.REPORT_REMINDER
        )
        with django_capture_on_commit_callbacks(execute=True):
            services.deadline_sweep(now=at("09:59"))
        assert robot.received == []
        with django_capture_on_commit_callbacks(execute=True):
            services.deadline_sweep(now=at("10:01"))
        received = list(robot.received)
    texts = [request.body["markdown"]["text"] for request in received]
    assert any("翠溪北区" in text for text in texts)
    for request in received:
        string_to_sign = f"{request.query['timestamp']}\n{SECRET}".encode()
        digest = hmac.new(SECRET.encode(), string_to_sign, hashlib.sha256).digest()
        assert request.query["sign"] == base64.b64encode(digest).decode()
    assert Delivery.objects.filter(status=Delivery.Status.SENT).count() == len(received)
