"""An abnormal declaration reaches the unit's people and the robots subscribed above it."""

import pytest

from fangkong.health import services
from fangkong.health.models import Declaration
from fangkong.ledger.models import Item
from fangkong.notify.models import ChannelKind, Event, InboxItem
from fangkong.notify.services import channel_create, subscription_create
from fangkong.notify.testing import RobotServer
from fangkong.tracking.rules import ABNORMAL

from .factories import raw_declaration

pytestmark = pytest.mark.django_db


def test_a_fever_notifies_the_unit_reporter_and_the_enterprise_robot(
    org, django_capture_on_commit_callbacks
):
    reporter = org.user("reporter", org.shop_a)
    with RobotServer() as robot:
        channel = channel_create(
            actor=None,
            unit=org.ent_a,
            name="山东铝业防控群",
            kind=ChannelKind.WECOM,
            webhook_url=robot.url(),
        )
        subscription_create(
            actor=None, channel=channel, unit=org.ent_a, event=Event.ABNORMAL_DECLARATION
        )
        with django_capture_on_commit_callbacks(execute=True):
            services.declarations_submit(
                actor=org.user("grid_worker", org.group),
                items=[raw_declaration(org.person_a, temperature="38.6")],
            )
        [request] = robot.received
    content = request.body["markdown"]["content"]
    assert "发热 1" in content and org.person_a.name not in content
    item = InboxItem.objects.get(user=reporter)
    assert item.notification.event == Event.ABNORMAL_DECLARATION


def test_a_green_declaration_notifies_nobody(org, django_capture_on_commit_callbacks):
    org.user("reporter", org.shop_a)
    with django_capture_on_commit_callbacks(execute=True):
        services.declarations_submit(
            actor=org.user("grid_worker", org.group), items=[raw_declaration(org.person_a)]
        )
    assert not InboxItem.objects.exists()


def test_a_notice_that_fails_after_the_commit_leaves_the_declaration_and_its_card(
    org, monkeypatch, django_capture_on_commit_callbacks, caplog
):
    """The unit's notice is written after the commit: its failure is logged, and the
    submit's answer, the declaration and the card stand."""

    def broken_notify(**kwargs):
        raise RuntimeError("the inbox is unavailable")

    monkeypatch.setattr(services, "notify", broken_notify)
    with django_capture_on_commit_callbacks(execute=True):
        [stored] = services.declarations_submit(
            actor=org.user("grid_worker", org.group),
            items=[raw_declaration(org.person_a, temperature="38.6")],
        )
    assert stored.created and Declaration.objects.filter(pk=stored.declaration.pk).exists()
    assert Item.objects.filter(kind=ABNORMAL, person=org.person_a, is_open=True).exists()
    assert "the inbox is unavailable" in caplog.text
    assert not InboxItem.objects.exists()
