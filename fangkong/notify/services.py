"""Every write of the notify app: notify() for other apps, channels, subscriptions, deliveries.

Deliveries are never sent inside the caller's transaction: ``notify`` records them and the
task queue sends them after commit; ``deliver_due`` (every minute) retries what failed.
"""

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django_q.tasks import async_task

from fangkong.accounts.actors import Actor, Viewer, acting_user, viewer_id
from fangkong.accounts.models import RoleAssignment, User
from fangkong.accounts.roles import Perm
from fangkong.accounts.selectors import require_perm
from fangkong.core.audit import audit_record, snapshot
from fangkong.core.errors import Conflict, InvalidInput, NotFound
from fangkong.core.models import AuditLog
from fangkong.core.paths import is_within
from fangkong.core.text import clean_cell
from fangkong.orgs.models import OrgUnit

from . import transports
from .masks import mask_secret, mask_url
from .models import Channel, ChannelKind, Delivery, Event, InboxItem, Notification, Subscription

MAX_ATTEMPTS = 6
# A claimed delivery is someone's for this long; if its worker dies it becomes due again.
CLAIM_LEASE = dt.timedelta(minutes=5)
DUE_BATCH = 200


def backoff(attempts: int) -> dt.timedelta:
    """Return the wait after the ``attempts``-th failure: 1, 2, 4, 8, 16 minutes."""
    return dt.timedelta(minutes=2 ** max(attempts - 1, 0))


# ------------------------------------------------------------------ notify


def notify(
    *,
    event: str,
    unit: OrgUnit,
    subject: str,
    body: str,
    link: str = "",
    to_roles: Iterable[str] = (),
    to_users: Iterable[User] = (),
) -> Notification:
    """Record one notification about ``unit`` and queue its deliveries.

    Inbox items go to every active user holding one of ``to_roles`` on exactly ``unit``
    plus the active ``to_users``. Each active subscription for ``event`` on ``unit``, or on
    an ancestor with include_subtree, adds one delivery to its channel; when one of those
    channels is an e-mail channel the recipients with an e-mail address are mailed too.
    Deliveries are sent by the task queue after the caller's transaction commits.
    """
    return _notify(
        event=event,
        unit=unit,
        subject=subject,
        body=body,
        link=link,
        to_roles=to_roles,
        to_users=to_users,
    )


@transaction.atomic
def _notify(
    *,
    event: str,
    unit: OrgUnit,
    subject: str,
    body: str,
    link: str,
    to_roles: Iterable[str],
    to_users: Iterable[User],
    extra_channels: Sequence[Channel] = (),
) -> Notification:
    # The sweep calls this once per missing report (thousands in a row): each lookup reads
    # only the columns it needs, with no join it can avoid.
    if event not in Event.values:
        raise InvalidInput(detail={"event": [_("Unknown event.")]})
    notification = Notification.objects.create(
        event=event, unit=unit, subject=subject[:200], body=body, link=link[:500]
    )
    recipients = _recipients(unit=unit, to_roles=to_roles, to_users=to_users)
    InboxItem.objects.bulk_create(
        [InboxItem(user_id=user_id, notification=notification) for user_id in recipients]
    )
    channels = {c.pk: c for c in _subscribed_channels(event=event, unit=unit)}
    channels.update({c.pk: c for c in extra_channels if c.is_active})
    deliveries = _channel_deliveries(notification, channels.values())
    if any(c.kind == ChannelKind.EMAIL for c in channels.values()):
        deliveries += _personal_emails(notification, recipients.values(), deliveries)
    if deliveries:
        Delivery.objects.bulk_create(deliveries)
        ids = [d.pk for d in deliveries]
        if None in ids:  # not every backend sets primary keys on bulk_create
            ids = list(notification.deliveries.values_list("pk", flat=True))
        transaction.on_commit(lambda: enqueue_delivery(ids))
    return notification


def _recipients(
    *, unit: OrgUnit, to_roles: Iterable[str], to_users: Iterable[User]
) -> dict[int, str]:
    """Return {user id: e-mail} of the active holders of the roles on exactly ``unit``
    and of the given active users, by user id.
    """
    roles = list(to_roles)
    users: dict[int, str] = {}
    if roles:
        holders = RoleAssignment.objects.filter(
            unit=unit, role__in=roles, user__is_active=True
        ).values_list("user_id", "user__email")
        users.update(holders)
    users.update((u.pk, u.email) for u in to_users if u.is_active)
    return dict(sorted(users.items()))


def _subscribed_channels(*, event: str, unit: OrgUnit) -> list[Channel]:
    """Active channels subscribed to ``event`` on ``unit`` or, with subtree, an ancestor."""
    # A path lists the ids of the unit's ancestors ("/1/5/9/"): no join to the units.
    ancestor_ids = [int(part) for part in unit.path.split("/") if part][:-1]
    channel_ids = set(
        Subscription.objects.filter(
            Q(unit_id=unit.pk) | Q(unit_id__in=ancestor_ids, include_subtree=True),
            event=event,
            is_active=True,
        ).values_list("channel_id", flat=True)
    )
    if not channel_ids:  # the usual case: one light query and done
        return []
    return list(Channel.objects.filter(pk__in=channel_ids, is_active=True).select_related("unit"))


def _channel_deliveries(notification: Notification, channels: Iterable[Channel]) -> list[Delivery]:
    now = timezone.now()
    deliveries = []
    for channel in sorted(channels, key=lambda c: c.pk):
        if channel.kind == ChannelKind.EMAIL:
            if not channel.email_addresses:
                continue  # an e-mail channel without a list only mails the recipients
            target = ", ".join(channel.email_addresses)
        else:
            target = channel.webhook_url
        deliveries.append(
            Delivery(
                notification=notification,
                channel=channel,
                kind=channel.kind,
                target=target[:1000],
                scope_path=channel.unit.path,
                next_attempt_at=now,
            )
        )
    return deliveries


def _personal_emails(
    notification: Notification, addresses: Iterable[str], already: Iterable[Delivery]
) -> list[Delivery]:
    """One e-mail delivery per recipient address not already on a channel's list."""
    now = timezone.now()
    listed = {
        address.strip().lower()
        for delivery in already
        if delivery.kind == ChannelKind.EMAIL
        for address in delivery.target.split(",")
    }
    deliveries = []
    for raw in addresses:
        address = (raw or "").strip()
        if address and address.lower() not in listed:
            listed.add(address.lower())
            deliveries.append(
                Delivery(
                    notification=notification,
                    channel=None,
                    kind=ChannelKind.EMAIL,
                    target=address,
                    scope_path=notification.unit.path,
                    next_attempt_at=now,
                )
            )
    return deliveries


def enqueue_delivery(delivery_ids: list[int]) -> None:
    """Queue an immediate attempt for these deliveries (call after commit)."""
    async_task("fangkong.notify.tasks.deliver", delivery_ids, task_name="notify-deliver")


# ------------------------------------------------------------------ sending


def _due(now: dt.datetime) -> Q:
    return Q(status__in=[Delivery.Status.PENDING, Delivery.Status.FAILED], next_attempt_at__lte=now)


def delivery_claim(*, delivery_id: int, now: dt.datetime) -> Delivery | None:
    """Take a due delivery for one attempt, or return None if it is not due or taken.

    One conditional UPDATE counts the attempt and pushes the next attempt a lease ahead,
    so a second worker's UPDATE no longer matches: no delivery is ever sent twice at once.
    """
    claimed = Delivery.objects.filter(_due(now), pk=delivery_id).update(
        attempts=F("attempts") + 1, next_attempt_at=now + CLAIM_LEASE
    )
    if not claimed:
        return None
    return Delivery.objects.select_related("notification", "channel").get(pk=delivery_id)


def _absolute(link: str) -> str:
    """Make a site-relative link absolute for messages read outside the site."""
    if link.startswith("/") and not link.startswith("//"):
        return settings.SITE_URL.rstrip("/") + link if settings.SITE_URL else ""
    return link if link.startswith(("http://", "https://")) else ""


def _send(delivery: Delivery, now: dt.datetime) -> transports.SendResult:
    notification = delivery.notification
    message = transports.Message(
        subject=notification.subject, body=notification.body, url=_absolute(notification.link)
    )
    channel = delivery.channel
    if delivery.kind == ChannelKind.EMAIL:
        addresses = [a.strip() for a in delivery.target.split(",") if a.strip()]
        return transports.send_email(addresses=addresses, message=message)
    secret = channel.secret if channel is not None else ""
    if delivery.kind == ChannelKind.WECOM:
        return transports.send_wecom(url=delivery.target, message=message)
    if delivery.kind == ChannelKind.DINGTALK:
        return transports.send_dingtalk(
            url=delivery.target,
            secret=secret,
            message=message,
            timestamp_ms=int(now.timestamp() * 1000),
        )
    if delivery.kind == ChannelKind.FEISHU:
        return transports.send_feishu(
            url=delivery.target, secret=secret, message=message, timestamp_s=int(now.timestamp())
        )
    return transports.SendResult(ok=False, error=f"Unknown channel kind {delivery.kind}")


def delivery_attempt(*, delivery_id: int, now: dt.datetime | None = None) -> Delivery | None:
    """Claim and send one delivery, then record the outcome and the next attempt."""
    now = now or timezone.now()
    delivery = delivery_claim(delivery_id=delivery_id, now=now)
    if delivery is None:
        return None
    try:
        result = _send(delivery, now)
    except Exception as exc:  # a bug in a sender must not leave the row claimed for nothing
        result = transports.SendResult(ok=False, error=f"{exc.__class__.__name__}: {exc}"[:500])
    _record(delivery, result, now)
    return delivery


def _record(delivery: Delivery, result: transports.SendResult, now: dt.datetime) -> None:
    delivery.response_excerpt = result.response[:500]
    if result.ok:
        delivery.status, delivery.sent_at = Delivery.Status.SENT, now
        delivery.next_attempt_at, delivery.last_error = None, ""
    elif delivery.attempts >= MAX_ATTEMPTS:
        delivery.status, delivery.next_attempt_at = Delivery.Status.DEAD, None
        delivery.last_error = result.error
    else:
        delivery.status = Delivery.Status.FAILED
        delivery.next_attempt_at = now + backoff(delivery.attempts)
        delivery.last_error = result.error
    delivery.save(
        update_fields=["status", "sent_at", "next_attempt_at", "last_error", "response_excerpt"]
    )


def deliveries_send_due(*, now: dt.datetime | None = None, limit: int = DUE_BATCH) -> int:
    """Attempt every delivery that is due at ``now`` (oldest first); return how many sent."""
    now = now or timezone.now()
    ids = list(
        Delivery.objects.filter(_due(now))
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    sent = 0
    for delivery_id in ids:
        delivery = delivery_attempt(delivery_id=delivery_id, now=now)
        sent += delivery is not None and delivery.status == Delivery.Status.SENT
    return sent


@transaction.atomic
def delivery_retry(*, actor: Actor, delivery: Delivery, now: dt.datetime | None = None) -> Delivery:
    """Send a failed or dead delivery again now; a dead one starts its retry schedule over."""
    require_perm(actor, Perm.MANAGE_NOTIFY, delivery.scope_path)
    if delivery.status not in (Delivery.Status.FAILED, Delivery.Status.DEAD):
        raise Conflict(_("Only failed deliveries can be retried."))
    before = snapshot(delivery, exclude=["target"])
    if delivery.status == Delivery.Status.DEAD:
        delivery.attempts = 0
    delivery.status, delivery.next_attempt_at = Delivery.Status.PENDING, now or timezone.now()
    delivery.save(update_fields=["status", "attempts", "next_attempt_at"])
    audit_record(
        actor=actor,
        action=AuditLog.Action.UPDATE,
        obj=delivery,
        scope_path=delivery.scope_path,
        before=before,
        after=snapshot(delivery, exclude=["target"]) | {"retry": True},
    )
    delivery_id = delivery.pk
    transaction.on_commit(lambda: enqueue_delivery([delivery_id]))
    return delivery


# ------------------------------------------------------------------ channels


def _clean_addresses(addresses: Iterable[str]) -> list[str]:
    cleaned: list[str] = []
    bad: list[str] = []
    for raw in addresses:
        address = clean_cell(raw)
        if not address:
            continue
        try:
            validate_email(address)
        except ValidationError:
            bad.append(address)
        else:
            if address.lower() not in {a.lower() for a in cleaned}:
                cleaned.append(address)
    if bad:
        raise InvalidInput(
            detail={
                "email_addresses": [_("Not an e-mail address: %(list)s") % {"list": ", ".join(bad)}]
            }
        )
    return cleaned


def _clean_channel(
    *, name: str, kind: str, webhook_url: str, email_addresses: Iterable[str]
) -> tuple[str, str, list[str]]:
    name, webhook_url = clean_cell(name), clean_cell(webhook_url)
    errors: dict[str, list[str]] = {}
    if not name:
        errors["name"] = [_("The name is required.")]
    if kind not in ChannelKind.values:
        errors["kind"] = [_("Unknown channel kind.")]
    addresses: list[str] = []
    if kind == ChannelKind.EMAIL:
        webhook_url = ""
        addresses = _clean_addresses(email_addresses)
    else:
        try:
            URLValidator(schemes=["http", "https"])(webhook_url)
        except ValidationError:
            errors["webhook_url"] = [_("Enter the robot's webhook URL (https://…).")]
    if errors:
        raise InvalidInput(detail=errors)
    return name, webhook_url, addresses


def channel_snapshot(channel: Channel) -> dict[str, Any]:
    """Return the channel for the audit log with its key and secret masked."""
    return snapshot(channel, exclude=["secret", "webhook_url"]) | {
        "webhook_url": mask_url(channel.webhook_url),
        "secret": mask_secret(channel.secret),
    }


@transaction.atomic
def channel_create(
    *,
    actor: Actor,
    unit: OrgUnit,
    name: str,
    kind: str,
    webhook_url: str = "",
    secret: str = "",
    email_addresses: Iterable[str] = (),
) -> Channel:
    """Create a channel owned by ``unit``."""
    require_perm(actor, Perm.MANAGE_NOTIFY, unit.path)
    name, webhook_url, addresses = _clean_channel(
        name=name, kind=kind, webhook_url=webhook_url, email_addresses=email_addresses
    )
    channel = Channel.objects.create(
        name=name,
        kind=kind,
        unit=unit,
        webhook_url=webhook_url,
        secret=secret.strip() if kind in (ChannelKind.DINGTALK, ChannelKind.FEISHU) else "",
        email_addresses=addresses,
        created_by=acting_user(actor),
    )
    audit_record(
        actor=actor,
        action=AuditLog.Action.CREATE,
        obj=channel,
        scope_path=unit.path,
        after=channel_snapshot(channel),
    )
    return channel


@transaction.atomic
def channel_update(
    *,
    actor: Actor,
    channel: Channel,
    name: str,
    webhook_url: str = "",
    secret: str = "",
    clear_secret: bool = False,
    email_addresses: Iterable[str] = (),
    is_active: bool = True,
) -> Channel:
    """Change a channel. A blank URL or secret keeps the stored one (pages never show them)."""
    require_perm(actor, Perm.MANAGE_NOTIFY, channel.unit.path)
    name, webhook_url, addresses = _clean_channel(
        name=name,
        kind=channel.kind,
        webhook_url=webhook_url or channel.webhook_url,
        email_addresses=email_addresses,
    )
    before = channel_snapshot(channel)
    channel.name, channel.webhook_url, channel.email_addresses = name, webhook_url, addresses
    if clear_secret:
        channel.secret = ""
    elif secret.strip() and channel.kind in (ChannelKind.DINGTALK, ChannelKind.FEISHU):
        channel.secret = secret.strip()
    channel.is_active = is_active
    channel.save(
        update_fields=[
            "name",
            "webhook_url",
            "email_addresses",
            "secret",
            "is_active",
            "updated_at",
        ]
    )
    audit_record(
        actor=actor,
        action=AuditLog.Action.UPDATE,
        obj=channel,
        scope_path=channel.unit.path,
        before=before,
        after=channel_snapshot(channel),
    )
    return channel


@transaction.atomic
def channel_deactivate(*, actor: Actor, channel: Channel) -> Channel:
    """Stop pushing to a channel; its history and subscriptions stay."""
    require_perm(actor, Perm.MANAGE_NOTIFY, channel.unit.path)
    if not channel.is_active:
        raise Conflict(_("The channel is already inactive."))
    before = channel_snapshot(channel)
    channel.is_active = False
    channel.save(update_fields=["is_active", "updated_at"])
    audit_record(
        actor=actor,
        action=AuditLog.Action.CLOSE,
        obj=channel,
        scope_path=channel.unit.path,
        before=before,
        after=channel_snapshot(channel),
    )
    return channel


def channel_send_test(*, actor: Actor, channel: Channel) -> Notification:
    """Send a test message to ``channel`` (and to the actor's inbox) through ``notify``."""
    require_perm(actor, Perm.MANAGE_NOTIFY, channel.unit.path)
    if not channel.is_active:
        raise Conflict(_("The channel is inactive."))
    return _notify(
        event=Event.TEST,
        unit=channel.unit,
        subject=_("Test message from fangkong"),
        body=_("Channel “%(name)s” of %(unit)s works. Sent by %(user)s.")
        % {"name": channel.name, "unit": channel.unit.name, "user": actor},
        link="",
        to_roles=(),
        to_users=[actor] if isinstance(actor, User) else [],
        extra_channels=[channel],
    )


# ------------------------------------------------------------------ subscriptions


@transaction.atomic
def subscription_create(
    *, actor: Actor, channel: Channel, unit: OrgUnit, event: str, include_subtree: bool = True
) -> Subscription:
    """Push ``event`` about ``unit`` to ``channel``; the unit must lie in the channel's subtree."""
    require_perm(actor, Perm.MANAGE_NOTIFY, channel.unit.path)
    require_perm(actor, Perm.MANAGE_NOTIFY, unit.path)
    if event not in Event.values:
        raise InvalidInput(detail={"event": [_("Unknown event.")]})
    if not is_within(unit.path, channel.unit.path):
        raise InvalidInput(
            detail={"unit": [_("The unit must belong to the channel's owner unit.")]}
        )
    existing = Subscription.objects.filter(unit=unit, event=event, channel=channel).first()
    if existing is not None and existing.is_active:
        raise Conflict(_("This subscription already exists."))
    before = snapshot(existing) if existing else None
    subscription = existing or Subscription(unit=unit, event=event, channel=channel)
    subscription.include_subtree, subscription.is_active = include_subtree, True
    subscription.save()
    audit_record(
        actor=actor,
        action=AuditLog.Action.CREATE if before is None else AuditLog.Action.UPDATE,
        obj=subscription,
        scope_path=unit.path,
        before=before,
        after=snapshot(subscription),
    )
    return subscription


@transaction.atomic
def subscription_delete(*, actor: Actor, subscription: Subscription) -> None:
    """Remove a subscription (past deliveries stay in the log)."""
    require_perm(actor, Perm.MANAGE_NOTIFY, subscription.channel.unit.path)
    before = snapshot(subscription)
    audit_record(
        actor=actor,
        action=AuditLog.Action.DELETE,
        obj=subscription,
        scope_path=subscription.unit.path,
        before=before,
    )
    subscription.delete()


# ------------------------------------------------------------------ inbox


def inbox_mark_read(*, user: Viewer, notification_id: int, now: dt.datetime | None = None) -> None:
    """Mark one notification read in ``user``'s inbox; NotFound if it is not there.

    Read markers are the user's own state, not shared data: they are not audited.
    """
    item = InboxItem.objects.filter(
        user_id=viewer_id(user), notification_id=notification_id
    ).first()
    if item is None:
        raise NotFound()
    if item.read_at is None:
        item.read_at = now or timezone.now()
        item.save(update_fields=["read_at"])


def inbox_mark_all_read(*, user: Viewer, now: dt.datetime | None = None) -> int:
    """Mark everything in ``user``'s inbox read; return how many items changed."""
    return InboxItem.objects.filter(user_id=viewer_id(user), read_at__isnull=True).update(
        read_at=now or timezone.now()
    )
