"""Pages of the notify app: the inbox, channels with their subscriptions, the delivery log."""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from fangkong.accounts.roles import Perm
from fangkong.accounts.selectors import scope_for
from fangkong.core.errors import ApplicationError, NotFound
from fangkong.core.exports import Export
from fangkong.core.pagination import MappedQuerySet
from fangkong.core.web import page_context, renders_app_errors
from fangkong.orgs.selectors import unit_get_by_code

from . import selectors, services
from .forms import (
    ChannelCreateForm,
    ChannelEditForm,
    DeliveryFilterForm,
    SubscriptionForm,
    split_addresses,
)
from .masks import mask_secret, mask_target, mask_url
from .models import Channel, Delivery

EXPORT_LIMIT = 100_000

# ------------------------------------------------------------------ inbox


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    """The user's notifications, unread first."""
    unread_only = request.GET.get("unread") == "1"
    items = selectors.inbox_items(request.user, unread_only=unread_only)
    return render(
        request,
        "notify/inbox.html",
        {**page_context(request, items, 30), "unread_only": unread_only},
    )


@login_required
@renders_app_errors
def inbox_open(request: HttpRequest, notification_id: int) -> HttpResponse:
    """Mark a notification read and go to the object it is about."""
    item = selectors.inbox_item_get(request.user, notification_id)
    services.inbox_mark_read(user=request.user, notification_id=item.notification_id)
    link = item.notification.link
    if link and url_has_allowed_host_and_scheme(link, allowed_hosts={request.get_host()}):
        return redirect(link)
    return redirect("notify:inbox")


@login_required
@require_POST
@renders_app_errors
def inbox_read(request: HttpRequest, notification_id: int) -> HttpResponse:
    services.inbox_mark_read(user=request.user, notification_id=notification_id)
    return redirect("notify:inbox")


@login_required
@require_POST
def inbox_read_all(request: HttpRequest) -> HttpResponse:
    count = services.inbox_mark_all_read(user=request.user)
    messages.success(request, _("%(count)d notifications marked read.") % {"count": count})
    return redirect("notify:inbox")


# ------------------------------------------------------------------ channels


def _channel_row(channel: Channel) -> dict[str, Any]:
    return {
        "channel": channel,
        "target": ", ".join(channel.email_addresses) if channel.kind == "email" else "",
        "webhook": mask_url(channel.webhook_url),
        "secret": mask_secret(channel.secret),
    }


def _unit_for(request: HttpRequest, form: Any) -> Any:
    try:
        return unit_get_by_code(request.user, form.cleaned_data["unit_code"], Perm.MANAGE_NOTIFY)
    except NotFound:
        form.add_error("unit_code", _("No unit with this code in your scope."))
        return None


@login_required
@renders_app_errors
def channels(request: HttpRequest) -> HttpResponse:
    """The channels the user manages; create one."""
    query = request.GET.get("q", "").strip()
    listed = selectors.channels_managed(request.user, query=query)
    form = ChannelCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid() and (unit := _unit_for(request, form)):
        data = form.cleaned_data
        try:
            channel = services.channel_create(
                actor=request.user,
                unit=unit,
                name=data["name"],
                kind=data["kind"],
                webhook_url=data["webhook_url"],
                secret=data["secret"],
                email_addresses=split_addresses(data["email_addresses"]),
            )
        except ApplicationError as exc:
            form.add_error(None, exc.as_text())
        else:
            messages.success(request, _("The channel was created."))
            return redirect("notify:channel", channel_id=channel.pk)
    return render(
        request,
        "notify/channels.html",
        {
            **page_context(request, MappedQuerySet(listed, _channel_row), 50),
            "form": form,
            "query": query,
        },
    )


@login_required
@renders_app_errors
def channel_detail(request: HttpRequest, channel_id: int) -> HttpResponse:
    """Edit a channel, list and add its subscriptions, send a test, deactivate."""
    channel = selectors.channel_get(request.user, channel_id)
    initial = {
        "name": channel.name,
        "email_addresses": "\n".join(channel.email_addresses),
        "is_active": channel.is_active,
    }
    form = ChannelEditForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.channel_update(
                actor=request.user,
                channel=channel,
                name=data["name"],
                webhook_url=data["webhook_url"],
                secret=data["secret"],
                clear_secret=data["clear_secret"],
                email_addresses=split_addresses(data["email_addresses"]),
                is_active=data["is_active"],
            )
        except ApplicationError as exc:
            form.add_error(None, exc.as_text())
        else:
            messages.success(request, _("The channel was saved."))
            return redirect("notify:channel", channel_id=channel.pk)
    return render(
        request,
        "notify/channel.html",
        {
            **_channel_row(channel),
            "form": form,
            "subscription_form": SubscriptionForm(initial={"unit_code": channel.unit.code}),
            "subscriptions": selectors.subscriptions_of(channel),
            "recent": selectors.deliveries_visible(request.user).filter(channel=channel)[:10],
        },
    )


@login_required
@require_POST
@renders_app_errors
def channel_deactivate(request: HttpRequest, channel_id: int) -> HttpResponse:
    channel = selectors.channel_get(request.user, channel_id)
    services.channel_deactivate(actor=request.user, channel=channel)
    messages.success(request, _("The channel was deactivated."))
    return redirect("notify:channel", channel_id=channel.pk)


@login_required
@require_POST
@renders_app_errors
def channel_test(request: HttpRequest, channel_id: int) -> HttpResponse:
    channel = selectors.channel_get(request.user, channel_id)
    services.channel_send_test(actor=request.user, channel=channel)
    messages.success(
        request, _("A test message was queued; its delivery shows below within a minute.")
    )
    return redirect("notify:channel", channel_id=channel.pk)


@login_required
@require_POST
@renders_app_errors
def subscription_add(request: HttpRequest, channel_id: int) -> HttpResponse:
    channel = selectors.channel_get(request.user, channel_id)
    form = SubscriptionForm(request.POST)
    if form.is_valid() and (unit := _unit_for(request, form)):
        try:
            services.subscription_create(
                actor=request.user,
                channel=channel,
                unit=unit,
                event=form.cleaned_data["event"],
                include_subtree=form.cleaned_data["include_subtree"],
            )
        except ApplicationError as exc:
            messages.error(request, exc.as_text())
        else:
            messages.success(request, _("The subscription was added."))
    else:
        problems = [str(m) for errors in form.errors.values() for m in errors]
        messages.error(request, "；".join(problems))
    return redirect("notify:channel", channel_id=channel.pk)


@login_required
@require_POST
@renders_app_errors
def subscription_delete(request: HttpRequest, subscription_id: int) -> HttpResponse:
    subscription = selectors.subscription_get(request.user, subscription_id)
    services.subscription_delete(actor=request.user, subscription=subscription)
    messages.success(request, _("The subscription was removed."))
    return redirect("notify:channel", channel_id=subscription.channel_id)


# ------------------------------------------------------------------ delivery log


def _delivery_row(delivery: Delivery) -> dict[str, Any]:
    return {"delivery": delivery, "target": mask_target(delivery.target)}


@login_required
@renders_app_errors
def deliveries(request: HttpRequest) -> HttpResponse:
    """The delivery log: filter, search, page, export; retry what failed."""
    visible = selectors.deliveries_visible(request.user)
    form = DeliveryFilterForm(request.GET or None)
    form.fields["channel"].choices = [  # type: ignore[attr-defined]
        ("", _("All")),
        *((c.pk, c.name) for c in selectors.channels_managed(request.user)),
    ]
    data = form.cleaned_data if form.is_valid() else {}
    rows = selectors.deliveries_filtered(
        visible,
        status=data.get("status") or "",
        event=data.get("event") or "",
        channel_id=data.get("channel"),
        since=data.get("since"),
        until=data.get("until"),
        query=(data.get("q") or "").strip(),
    )
    if request.GET.get("format") in ("xlsx", "csv"):
        return _deliveries_export(request, rows)
    return render(
        request,
        "notify/deliveries.html",
        {**page_context(request, MappedQuerySet(rows, _delivery_row), 50), "form": form},
    )


def _deliveries_export(request: HttpRequest, rows: Any) -> HttpResponse:
    # The delivery log is read where the user manages notifications: that is what it exports.
    export = Export(
        request,
        object_type="notify.delivery",
        scope=scope_for(request.user, Perm.MANAGE_NOTIFY),
    )
    headers = [
        _("Created"),
        _("Event"),
        _("Subject"),
        _("Channel"),
        _("Kind"),
        _("Target"),
        _("Status"),
        _("Attempts"),
        _("Next attempt"),
        _("Sent at"),
        _("Last error"),
    ]

    def when(value: Any) -> str:
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S") if value else ""

    data = (
        [
            when(d.created_at),
            d.notification.get_event_display(),
            d.notification.subject,
            d.channel.name if d.channel else _("Recipient's e-mail"),
            d.get_kind_display(),
            mask_target(d.target),
            d.get_status_display(),
            d.attempts,
            when(d.next_attempt_at),
            when(d.sent_at),
            d.last_error,
        ]
        for d in rows[:EXPORT_LIMIT].iterator(chunk_size=2000)
    )
    return export.response(
        name="deliveries", headers=headers, rows=data, label="delivery log export"
    )


@login_required
@require_POST
@renders_app_errors
def delivery_retry(request: HttpRequest, delivery_id: int) -> HttpResponse:
    delivery = selectors.delivery_get(request.user, delivery_id)
    try:
        services.delivery_retry(actor=request.user, delivery=delivery)
    except ApplicationError as exc:
        messages.error(request, exc.as_text())
    else:
        messages.success(request, _("The delivery was queued again."))
    back = request.POST.get("next", "")
    if back and url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        return redirect(back)
    return redirect("notify:deliveries")
