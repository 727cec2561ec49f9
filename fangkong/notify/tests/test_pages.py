"""The inbox, channel and delivery-log pages, and the inbox API."""

import csv
import io

import pytest
from django.urls import reverse

from fangkong.core.models import AuditLog
from fangkong.notify import services
from fangkong.notify.models import Channel, ChannelKind, Delivery, Event, InboxItem, Subscription
from fangkong.notify.services import notify

pytestmark = pytest.mark.django_db


def tell(org, user, subject="日报提醒", unit=None, link="/"):
    return notify(
        event=Event.REPORT_REMINDER,
        unit=unit or org.shop_a,
        subject=subject,
        body="请报告",
        link=link,
        to_users=[user],
    )


def robot_channel(org, robot, unit):
    return services.channel_create(
        actor=None,
        unit=unit,
        name="值班群",
        kind=ChannelKind.DINGTALK,
        webhook_url=robot.url("/robot/send?access_token=abcdef0123456789abcdef"),
        secret="SECsupersecretvalue1234",
    )


def test_inbox_lists_unread_first_and_marks_read(client, org, login_as):
    user = login_as("reporter", org.shop_a)
    old = tell(org, user, "旧的提醒")
    new = tell(org, user, "新的提醒", link="/people/")
    tell(org, org.user("reporter", org.ent_b), "别人的提醒")
    services.inbox_mark_read(user=user, notification_id=new.pk)
    page = client.get(reverse("notify:inbox")).content.decode()
    assert page.index("旧的提醒") < page.index("新的提醒") and "别人的提醒" not in page
    assert 'id="nav-inbox"' in page and ">1</span>" in page.split('id="nav-inbox"')[1][:200]
    client.post(reverse("notify:read", args=[old.pk]))
    assert not InboxItem.objects.filter(user=user, read_at__isnull=True).exists()
    tell(org, user, "第三条")
    client.post(reverse("notify:read_all"))
    assert not InboxItem.objects.filter(user=user, read_at__isnull=True).exists()


def test_open_marks_read_and_follows_only_local_links(client, org, login_as):
    user = login_as("reporter", org.shop_a)
    local = tell(org, user, link="/people/")
    foreign = tell(org, user, link="https://evil.example/")
    assert client.get(reverse("notify:open", args=[local.pk]))["Location"] == "/people/"
    assert client.get(reverse("notify:open", args=[foreign.pk]))["Location"] == reverse(
        "notify:inbox"
    )
    assert not InboxItem.objects.filter(user=user, read_at__isnull=True).exists()
    other = tell(org, org.user("reporter", org.ent_b))
    assert client.get(reverse("notify:open", args=[other.pk])).status_code == 404
    assert client.post(reverse("notify:read", args=[other.pk])).status_code == 404


def test_unread_badge_costs_one_query(client, org, login_as, django_assert_max_num_queries):
    user = login_as("window_staff", org.shop_a)
    tell(org, user)
    client.get(reverse("notify:inbox"))
    from fangkong.notify.context_processors import inbox

    class Request:
        pass

    request = Request()
    request.user = user
    with django_assert_max_num_queries(1):  # counted once however often a template asks
        unread = inbox(request)["inbox_unread"]
        assert unread() == 1 and unread() == 1


def test_list_pages_cost_the_same_queries_for_more_rows(client, org, robot, login_as):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    user = login_as("group_admin", org.group)
    pages = [reverse("notify:inbox"), reverse("notify:channels"), reverse("notify:deliveries")]

    def add_rows(count):
        for i in range(count):
            unit = org.shop_a if i % 2 else org.ent_b
            channel = robot_channel(org, robot, unit)
            services.subscription_create(
                actor=None, channel=channel, unit=unit, event=Event.REPORT_REMINDER
            )
            tell(org, user, f"提醒{i}", unit=unit)

    def queries():
        counts = []
        for url in pages:
            with CaptureQueriesContext(connection) as ctx:
                assert client.get(url).status_code == 200
            counts.append(len(ctx.captured_queries))
        return counts

    add_rows(1)
    few = queries()
    add_rows(12)
    assert queries() == few


def test_channel_pages_answer_403_or_404_by_scope(client, org, robot, login_as):
    in_a = robot_channel(org, robot, org.ent_a)
    in_b = robot_channel(org, robot, org.ent_b)
    login_as("reporter", org.ent_a)  # sees A, may not manage notifications
    assert client.get(reverse("notify:channels")).status_code == 403
    assert client.get(reverse("notify:channel", args=[in_a.pk])).status_code == 403
    assert client.get(reverse("notify:channel", args=[in_b.pk])).status_code == 404
    login_as("unit_admin", org.ent_a)
    page = client.get(reverse("notify:channels")).content.decode()
    assert in_a.name in page and f"/notify/channels/{in_b.pk}/" not in page
    assert client.get(reverse("notify:channel", args=[in_b.pk])).status_code == 404
    assert client.post(reverse("notify:channel_deactivate", args=[in_b.pk])).status_code == 404
    detail = client.get(reverse("notify:channel", args=[in_a.pk])).content.decode()
    assert "supersecret" not in detail and "abcdef0123456789abcdef" not in detail
    assert "••••1234" in detail


def test_manage_a_channel_through_the_pages(
    client, org, robot, login_as, django_capture_on_commit_callbacks
):
    admin = login_as("unit_admin", org.ent_a)
    response = client.post(
        reverse("notify:channels"),
        {
            "name": "山东铝业值班群",
            "kind": "wecom",
            "unit_code": "A",
            "webhook_url": robot.url(),
        },
    )
    channel = Channel.objects.get(name="山东铝业值班群")
    assert response["Location"] == reverse("notify:channel", args=[channel.pk])
    assert channel.unit == org.ent_a and channel.created_by == admin
    refused = client.post(
        reverse("notify:channels"),
        {"name": "x", "kind": "wecom", "unit_code": "B", "webhook_url": robot.url()},
    )
    assert refused.status_code == 200 and "errorlist" in refused.content.decode()
    bad = client.post(
        reverse("notify:channels"),
        {"name": "x", "kind": "dingtalk", "unit_code": "A", "webhook_url": "not a url"},
    )
    assert bad.status_code == 200 and Channel.objects.count() == 1

    client.post(
        reverse("notify:subscription_add", args=[channel.pk]),
        {"unit_code": "A1", "event": Event.REPORT_REMINDER, "include_subtree": "on"},
    )
    subscription = Subscription.objects.get()
    assert subscription.unit == org.plant_a and subscription.include_subtree

    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("notify:channel_test", args=[channel.pk]))
    assert len(robot.received) == 1
    assert Delivery.objects.get().notification.event == Event.TEST
    assert InboxItem.objects.filter(user=admin).exists()

    client.post(
        reverse("notify:channel", args=[channel.pk]),
        {"name": "改名了", "webhook_url": "", "is_active": "on"},
    )
    channel.refresh_from_db()
    assert channel.name == "改名了" and channel.webhook_url == robot.url()  # blank kept it

    client.post(reverse("notify:subscription_delete", args=[subscription.pk]))
    assert not Subscription.objects.exists()
    client.post(reverse("notify:channel_deactivate", args=[channel.pk]))
    channel.refresh_from_db()
    assert not channel.is_active
    actions = list(
        AuditLog.objects.filter(object_type="notify.channel").values_list("action", flat=True)
    )
    assert sorted(actions) == ["close", "create", "update"]
    assert all("abcdef" not in str(e.after) for e in AuditLog.objects.all())


def test_delivery_log_filters_exports_and_retries(
    client, org, robot, login_as, django_capture_on_commit_callbacks
):
    channel = robot_channel(org, robot, org.ent_a)
    services.subscription_create(
        actor=None, channel=channel, unit=org.ent_a, event=Event.REPORT_REMINDER
    )
    hidden = robot_channel(org, robot, org.ent_b)
    services.subscription_create(
        actor=None, channel=hidden, unit=org.ent_b, event=Event.REPORT_REMINDER
    )
    robot.reply = (500, {})
    with django_capture_on_commit_callbacks(execute=True):
        tell(org, org.user("reporter", org.shop_a), "A的提醒")
        tell(org, org.user("reporter", org.plant_b), "B的提醒", unit=org.plant_b)
    login_as("unit_admin", org.ent_a)
    page = client.get(reverse("notify:deliveries")).content.decode()
    assert "A的提醒" in page and "B的提醒" not in page
    assert "abcdef0123456789abcdef" not in page
    assert (
        "A的提醒"
        not in client.get(reverse("notify:deliveries"), {"status": "sent"}).content.decode()
    )
    assert "A的提醒" in client.get(reverse("notify:deliveries"), {"q": "HTTP 500"}).content.decode()
    export = client.get(reverse("notify:deliveries"), {"format": "csv", "status": "failed"})
    rows = list(csv.reader(io.StringIO(export.content.decode("utf-8-sig"))))
    assert len(rows) == 2 and rows[1][2] == "A的提醒"
    assert AuditLog.objects.filter(action="export", object_type="notify.delivery").exists()

    delivery = Delivery.objects.get(channel=channel)
    other = Delivery.objects.get(channel=hidden)
    assert client.post(reverse("notify:delivery_retry", args=[other.pk])).status_code == 404
    robot.reply = (200, {"errcode": 0})
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("notify:delivery_retry", args=[delivery.pk]))
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.SENT
    assert AuditLog.objects.filter(object_type="notify.delivery", action="update").exists()


def test_nav_shows_channels_and_jobs_by_permission(client, org, login_as):
    login_as("reporter", org.ent_a)
    page = client.get(reverse("notify:inbox")).content.decode()
    assert reverse("notify:channels") not in page and reverse("jobs") not in page
    login_as("unit_admin", org.ent_a)
    page = client.get(reverse("notify:inbox")).content.decode()
    assert reverse("notify:channels") in page and reverse("jobs") not in page
    login_as("group_admin", org.group)
    assert reverse("jobs") in client.get(reverse("notify:inbox")).content.decode()


def test_inbox_api(client, org, login_as):
    user = login_as("reporter", org.shop_a)
    first = tell(org, user, "第一条")
    tell(org, user, "第二条", unit=org.plant_a)
    other = tell(org, org.user("reporter", org.ent_b))
    items = client.get("/api/v1/inbox").json()["items"]
    assert [i["subject"] for i in items] == ["第二条", "第一条"]
    only = client.get(f"/api/v1/inbox?unit_id={org.shop_a.pk}").json()["items"]
    assert [i["subject"] for i in only] == ["第一条"]
    response = client.post(f"/api/v1/inbox/{first.pk}/read")
    assert response.status_code == 200 and response.json()["unread"] == 1
    assert client.get("/api/v1/inbox?unread=true").json()["count"] == 1
    assert client.post(f"/api/v1/inbox/{other.pk}/read").status_code == 404
    assert client.get(f"/api/v1/inbox?unit_id={org.ent_b.pk}").status_code == 404
