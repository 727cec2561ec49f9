"""Every read of the notify app, scoped to the caller."""

import datetime as dt
from typing import Any

from django.db.models import F, Q, QuerySet
from django.utils import timezone

from fangkong.accounts.actors import Viewer, viewer_id
from fangkong.accounts.roles import Perm
from fangkong.accounts.selectors import require_perm, scope_for
from fangkong.core.errors import NotFound, PermissionDenied
from fangkong.core.paths import subtree_q
from fangkong.orgs.models import OrgUnit, place_related

from .models import Channel, Delivery, InboxItem, Subscription


def inbox_items(
    user: Viewer, *, unread_only: bool = False, unit: OrgUnit | None = None
) -> QuerySet[InboxItem]:
    """Return the user's inbox, unread first, newest first; optionally about one subtree."""
    items = InboxItem.objects.filter(user_id=viewer_id(user)).select_related(
        place_related("notification__unit")
    )
    if unread_only:
        items = items.filter(read_at__isnull=True)
    if unit is not None:
        items = items.filter(subtree_q("notification__unit__path", unit.path))
    return items.order_by(
        F("read_at").asc(nulls_first=True), "-notification__created_at", "-notification_id"
    )


def inbox_item_get(user: Viewer, notification_id: Any) -> InboxItem:
    """Return the user's inbox item for a notification; NotFound if it is not theirs."""
    try:
        return InboxItem.objects.select_related("notification").get(
            user_id=viewer_id(user), notification_id=int(notification_id)
        )
    except (InboxItem.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None


def inbox_unread_count(user: Viewer) -> int:
    """Count the user's unread items (one query over the (user, read_at) index)."""
    return InboxItem.objects.filter(user_id=viewer_id(user), read_at__isnull=True).count()


# ------------------------------------------------------------------ channels


def _manage_scope(user: Viewer) -> Any:
    scope = scope_for(user, Perm.MANAGE_NOTIFY)
    if scope.is_empty:
        raise PermissionDenied()
    return scope


def channels_managed(
    user: Viewer, *, query: str = "", include_inactive: bool = True
) -> QuerySet[Channel]:
    """Return the channels owned by units where the user manages notifications."""
    channels = _manage_scope(user).filter(Channel.objects.select_related("unit"), "unit__path")
    if not include_inactive:
        channels = channels.filter(is_active=True)
    if query:
        channels = channels.filter(Q(name__icontains=query) | Q(unit__name__icontains=query))
    return channels.order_by("-is_active", "unit__path", "name", "pk")


def channel_get(user: Viewer, channel_id: Any) -> Channel:
    """Return a channel the user manages; 403 if its unit is only visible, else 404."""
    try:
        channel = Channel.objects.select_related("unit").get(pk=int(channel_id))
    except (Channel.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None
    require_perm(user, Perm.MANAGE_NOTIFY, channel.unit.path)
    return channel


def subscriptions_of(channel: Channel) -> QuerySet[Subscription]:
    return (
        Subscription.objects.filter(channel=channel, is_active=True)
        .select_related("unit")
        .order_by("unit__path", "event")
    )


def subscription_get(user: Viewer, subscription_id: Any) -> Subscription:
    try:
        subscription = Subscription.objects.select_related("channel__unit", "unit").get(
            pk=int(subscription_id)
        )
    except (Subscription.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None
    channel_get(user, subscription.channel_id)
    return subscription


# ------------------------------------------------------------------ deliveries


def deliveries_visible(user: Viewer) -> QuerySet[Delivery]:
    """Return the deliveries of channels (or direct e-mail) in the user's notify scope."""
    return _manage_scope(user).filter(
        Delivery.objects.select_related("notification", "channel"), "scope_path"
    )


def deliveries_filtered(
    deliveries: QuerySet[Delivery],
    *,
    status: str = "",
    event: str = "",
    channel_id: int | None = None,
    since: dt.date | None = None,
    until: dt.date | None = None,
    query: str = "",
) -> QuerySet[Delivery]:
    """Narrow deliveries by status, event, channel, a day range (inclusive) and text."""
    if status:
        deliveries = deliveries.filter(status=status)
    if event:
        deliveries = deliveries.filter(notification__event=event)
    if channel_id:
        deliveries = deliveries.filter(channel_id=channel_id)
    tz = timezone.get_current_timezone()
    if since:
        deliveries = deliveries.filter(created_at__gte=dt.datetime.combine(since, dt.time.min, tz))
    if until:
        end = dt.datetime.combine(until + dt.timedelta(days=1), dt.time.min, tz)
        deliveries = deliveries.filter(created_at__lt=end)
    if query:
        deliveries = deliveries.filter(
            Q(notification__subject__icontains=query)
            | Q(last_error__icontains=query)
            | Q(channel__name__icontains=query)
        )
    return deliveries.order_by("-created_at", "-pk")


def delivery_get(user: Viewer, delivery_id: Any) -> Delivery:
    try:
        return deliveries_visible(user).get(pk=int(delivery_id))
    except (Delivery.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None
