"""notify(): who gets an inbox item, which channels get a delivery, and the retry schedule."""

import base64
import datetime as dt
import hashlib
import hmac

import pytest
from django.core import mail
from django.utils import timezone

from fangkong.accounts.models import RoleAssignment, User
from fangkong.notify import services, tasks
from fangkong.notify.models import ChannelKind, Delivery, Event, InboxItem
from fangkong.notify.services import MAX_ATTEMPTS, notify

pytestmark = pytest.mark.django_db

SECRET = "SECabcdef0123456789"


class Clock:
    """A controllable clock for functions that take ``now``."""

    def __init__(self) -> None:
        self.now = timezone.now()

    def advance(self, **delta: float) -> dt.datetime:
        self.now += dt.timedelta(**delta)
        return self.now


def channel(org, robot, *, kind=ChannelKind.WECOM, unit=None, secret="", **extra):
    return services.channel_create(
        actor=None,
        unit=unit or org.group,
        name=f"{kind} robot",
        kind=kind,
        webhook_url=robot.url() if kind != ChannelKind.EMAIL else "",
        secret=secret,
        **extra,
    )


def subscribe(org, ch, unit, *, event=Event.REPORT_REMINDER, include_subtree=True):
    return services.subscription_create(
        actor=None, channel=ch, unit=unit, event=event, include_subtree=include_subtree
    )


def remind(org, unit, **kwargs):
    return notify(
        event=Event.REPORT_REMINDER,
        unit=unit,
        subject="日报提醒",
        body="请在10:00前报告。",
        link="/reports/1/",
        **kwargs,
    )


def test_inbox_items_go_to_active_role_holders_on_exactly_that_unit(org):
    reporter = org.user("reporter", org.shop_a)
    also = org.user("unit_admin", org.shop_a)
    org.user("reporter", org.plant_a)  # the parent's reporter: not the unit's
    org.user("reporter", org.ent_b)  # elsewhere
    org.user("viewer", org.shop_a)  # another role
    gone = User.objects.create_user(username="gone", is_active=False)
    RoleAssignment.objects.create(user=gone, role="reporter", unit=org.shop_a)
    extra = org.user("tracker", org.ent_b)
    notification = remind(
        org, org.shop_a, to_roles=["reporter", "unit_admin"], to_users=[extra, reporter]
    )
    users = set(InboxItem.objects.filter(notification=notification).values_list("user", flat=True))
    assert users == {reporter.pk, also.pk, extra.pk}
    assert notification.event == Event.REPORT_REMINDER and notification.unit == org.shop_a


def test_deliveries_for_the_unit_and_ancestors_with_subtree_not_siblings(
    org, robot, django_capture_on_commit_callbacks
):
    on_unit = channel(org, robot)
    on_ancestor = channel(org, robot)
    ancestor_unit_only = channel(org, robot)
    on_sibling = channel(org, robot)
    other_event = channel(org, robot)
    inactive = channel(org, robot)
    subscribe(org, on_unit, org.shop_a, include_subtree=False)
    subscribe(org, on_ancestor, org.ent_a)
    subscribe(org, ancestor_unit_only, org.plant_a, include_subtree=False)
    subscribe(org, on_sibling, org.ent_b)
    subscribe(org, other_event, org.shop_a, event=Event.ABNORMAL_DECLARATION)
    subscribe(org, inactive, org.shop_a)
    services.channel_deactivate(actor=None, channel=inactive)
    with django_capture_on_commit_callbacks(execute=True):
        notification = remind(org, org.shop_a)
    deliveries = Delivery.objects.filter(notification=notification)
    assert {d.channel_id for d in deliveries} == {on_unit.pk, on_ancestor.pk}
    assert all(d.status == Delivery.Status.SENT and d.attempts == 1 for d in deliveries)
    assert len(robot.received) == 2


def test_a_notification_without_subscriptions_costs_four_statements(
    org, django_assert_num_queries, django_capture_on_commit_callbacks
):
    # The deadline sweep notifies thousands of units in a row: keep each call this cheap.
    org.user("reporter", org.shop_a)
    org.user("reporter", org.plant_a)
    # notification, role holders, inbox items, subscriptions; plus the savepoint pair.
    with django_capture_on_commit_callbacks() as callbacks, django_assert_num_queries(6):
        notification = remind(org, org.shop_a, to_roles=["reporter"])
    assert InboxItem.objects.filter(notification=notification).count() == 1
    assert not Delivery.objects.exists() and callbacks == []


def test_nothing_is_sent_before_the_transaction_commits(
    org, robot, django_capture_on_commit_callbacks
):
    subscribe(org, channel(org, robot), org.ent_a)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        remind(org, org.shop_a)
    assert robot.received == [] and len(callbacks) == 1
    assert Delivery.objects.get().status == Delivery.Status.PENDING
    callbacks[0]()
    assert len(robot.received) == 1
    assert Delivery.objects.get().status == Delivery.Status.SENT


def test_signed_robots_through_notify(org, robot, django_capture_on_commit_callbacks):
    subscribe(org, channel(org, robot, kind=ChannelKind.DINGTALK, secret=SECRET), org.ent_a)
    with django_capture_on_commit_callbacks(execute=True):
        remind(org, org.shop_a)
    [request] = robot.received
    string_to_sign = f"{request.query['timestamp']}\n{SECRET}".encode()
    digest = hmac.new(SECRET.encode(), string_to_sign, hashlib.sha256).digest()
    assert request.query["sign"] == base64.b64encode(digest).decode()
    assert "日报提醒" in request.body["markdown"]["text"]


def test_email_channel_mails_its_list_and_the_recipients(
    org, robot, settings, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.SITE_URL = "https://fk.example"
    reporter = org.user("reporter", org.shop_a)
    reporter.email = "reporter@example.com"
    reporter.save()
    org.user("unit_admin", org.shop_a)  # no address: inbox only
    email = channel(
        org,
        robot,
        kind=ChannelKind.EMAIL,
        email_addresses=["duty@example.com", "REPORTER@example.com"],
    )
    subscribe(org, email, org.ent_a)
    with django_capture_on_commit_callbacks(execute=True):
        remind(org, org.shop_a, to_roles=["reporter", "unit_admin"])
    deliveries = Delivery.objects.order_by("pk")
    assert [(d.channel_id, d.target) for d in deliveries] == [
        (email.pk, "duty@example.com, REPORTER@example.com")
    ]  # the reporter's address is on the list already: one mail, not two
    assert [m.to for m in mail.outbox] == [["duty@example.com", "REPORTER@example.com"]]
    assert "https://fk.example/reports/1/" in mail.outbox[0].body
    mail.outbox.clear()
    email.email_addresses = []
    email.save()
    with django_capture_on_commit_callbacks(execute=True):
        remind(org, org.shop_a, to_roles=["reporter", "unit_admin"])
    assert [m.to for m in mail.outbox] == [["reporter@example.com"]]
    direct = Delivery.objects.get(channel=None)
    assert direct.status == Delivery.Status.SENT and direct.scope_path == org.shop_a.path


def test_no_email_to_recipients_without_an_email_channel(org, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    reporter = org.user("reporter", org.shop_a)
    reporter.email = "reporter@example.com"
    reporter.save()
    remind(org, org.shop_a, to_roles=["reporter"])
    assert not Delivery.objects.exists() and mail.outbox == []


def test_failures_back_off_then_die_and_a_retry_succeeds_when_the_server_recovers(
    org, robot, django_capture_on_commit_callbacks
):
    subscribe(org, channel(org, robot), org.ent_a)
    robot.reply = (500, {"errcode": 0})
    remind(org, org.shop_a)  # on_commit not run: the clock drives every attempt
    clock = Clock()
    delivery = Delivery.objects.get()
    waits = []
    for attempt in range(1, MAX_ATTEMPTS + 1):
        assert services.deliveries_send_due(now=clock.now) == 0
        delivery.refresh_from_db()
        assert delivery.attempts == attempt and delivery.last_error == "HTTP 500"
        if attempt < MAX_ATTEMPTS:
            assert delivery.status == Delivery.Status.FAILED
            waits.append(delivery.next_attempt_at - clock.now)
            due_at = clock.now + waits[-1]  # not due a second early, due on time
            assert services.deliveries_send_due(now=due_at - dt.timedelta(seconds=1)) == 0
            assert Delivery.objects.get().attempts == attempt
            clock.now = due_at
    assert waits == [dt.timedelta(minutes=m) for m in (1, 2, 4, 8, 16)]
    assert delivery.status == Delivery.Status.DEAD and delivery.next_attempt_at is None
    assert len(robot.received) == MAX_ATTEMPTS
    assert services.deliveries_send_due(now=clock.advance(days=1)) == 0  # dead stays dead

    robot.reply = (200, {"errcode": 0, "errmsg": "ok"})
    admin = org.user("group_admin", org.group)
    with django_capture_on_commit_callbacks(execute=True):
        services.delivery_retry(actor=admin, delivery=delivery)
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.SENT and delivery.attempts == 1
    assert delivery.sent_at is not None and delivery.last_error == ""


def test_recovery_within_the_retry_schedule(org, robot):
    subscribe(org, channel(org, robot), org.ent_a)
    robot.reply = (200, {"errcode": 93000, "errmsg": "invalid webhook url"})
    remind(org, org.shop_a)
    clock = Clock()
    services.deliveries_send_due(now=clock.now)
    delivery = Delivery.objects.get()
    assert delivery.status == Delivery.Status.FAILED and "93000" in delivery.last_error
    robot.reply = (200, {"errcode": 0})
    assert services.deliveries_send_due(now=clock.advance(minutes=1)) == 1
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.SENT and delivery.attempts == 2


def test_a_delivery_is_claimed_once(org, robot):
    subscribe(org, channel(org, robot), org.ent_a)
    remind(org, org.shop_a)
    clock = Clock()
    delivery = Delivery.objects.get()
    first = services.delivery_claim(delivery_id=delivery.pk, now=clock.now)
    second = services.delivery_claim(delivery_id=delivery.pk, now=clock.now)
    assert first is not None and second is None
    # A worker that died mid-send loses its claim after the lease.
    assert services.delivery_claim(delivery_id=delivery.pk, now=clock.advance(minutes=6))


def test_periodic_job_is_registered_and_sends_due_deliveries(org, robot):
    from fangkong.core.schedules import PERIODIC_JOBS

    assert ("fangkong.notify.tasks.deliver_due", 1) in PERIODIC_JOBS
    subscribe(org, channel(org, robot), org.ent_a)
    remind(org, org.shop_a)
    assert tasks.deliver_due() == 1
    assert len(robot.received) == 1


def test_unknown_event_is_refused(org):
    from fangkong.core.errors import InvalidInput

    with pytest.raises(InvalidInput):
        notify(event="nope", unit=org.shop_a, subject="x", body="")


def test_subscription_unit_must_lie_in_the_channel_owner_subtree(org, robot):
    from fangkong.core.errors import Conflict, InvalidInput

    ch = channel(org, robot, unit=org.ent_a)
    with pytest.raises(InvalidInput):
        subscribe(org, ch, org.ent_b)
    subscribe(org, ch, org.shop_a)
    with pytest.raises(Conflict):
        subscribe(org, ch, org.shop_a)
