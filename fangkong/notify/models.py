"""Notifications: what happened (Notification), who reads it in the app (InboxItem), where
it is pushed (Channel, chosen per unit and event by Subscription) and each push (Delivery).
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from fangkong.core.models import TimeStampedModel


class Event(models.TextChoices):
    """What a notification is about. Subscriptions pick events; later issues add members."""

    REPORT_REMINDER = "report_reminder", _("Daily report reminder")
    REPORT_ESCALATION = "report_escalation", _("Daily report overdue")
    ABNORMAL_DECLARATION = "abnormal_declaration", _("Abnormal health declaration")
    ITEM_OPENED = "item_opened", _("Ledger item opened")
    ITEM_DUE_SOON = "item_due_soon", _("Ledger item due soon")
    ITEM_OVERDUE = "item_overdue", _("Ledger item overdue")
    ITEM_ESCALATED = "item_escalated", _("Ledger item escalated")
    POST_UNSTAFFED = "post_unstaffed", _("Duty post unstaffed")
    BAD_REVIEW = "bad_review", _("Bad review of a service")
    WEEKLY_BULLETIN = "weekly_bulletin", _("Weekly rectification bulletin")
    SUPERVISION_ISSUED = "supervision_issued", _("Put under supervision")
    COLOUR_CHANGED = "colour_changed", _("Supervision colour changed")
    RANKING_ALERT = "ranking_alert", _("At the bottom of the service ranking")
    TEST = "test", _("Test message")


class ChannelKind(models.TextChoices):
    EMAIL = "email", _("E-mail")
    WECOM = "wecom", _("WeCom group robot")
    DINGTALK = "dingtalk", _("DingTalk group robot")
    FEISHU = "feishu", _("Feishu group bot")


class Channel(TimeStampedModel):
    """A place to push notifications: an e-mail list or a group robot's webhook.

    The owner unit is the channel's scope: whoever manages notifications there manages the
    channel, and it may serve subscriptions in that unit's subtree only.
    """

    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=16, choices=ChannelKind.choices)
    unit = models.ForeignKey(
        "orgs.OrgUnit",
        verbose_name=_("owner unit"),
        on_delete=models.PROTECT,
        related_name="notify_channels",
    )
    webhook_url = models.URLField(_("webhook URL"), max_length=500, blank=True)
    # DingTalk "加签" and Feishu "签名校验" secret; stored as given because signing needs it.
    secret = models.CharField(_("signing secret"), max_length=200, blank=True)
    email_addresses = models.JSONField(_("e-mail addresses"), default=list, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("notification channel")
        verbose_name_plural = _("notification channels")
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class Subscription(TimeStampedModel):
    """Push ``event`` about ``unit`` (and, with include_subtree, its sub-units) to a channel."""

    unit = models.ForeignKey(
        "orgs.OrgUnit",
        verbose_name=_("unit"),
        on_delete=models.PROTECT,
        related_name="notify_subscriptions",
    )
    event = models.CharField(_("event"), max_length=64, choices=Event.choices)
    channel = models.ForeignKey(
        Channel,
        verbose_name=_("channel"),
        on_delete=models.CASCADE,
        related_name="subscriptions",
    )
    include_subtree = models.BooleanField(_("include sub-units"), default=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("subscription")
        verbose_name_plural = _("subscriptions")
        constraints = [
            models.UniqueConstraint(
                fields=["unit", "event", "channel"], name="uniq_notify_subscription"
            )
        ]
        indexes = [models.Index(fields=["event", "unit"])]

    def __str__(self) -> str:
        return f"{self.get_event_display()} · {self.unit_id} → {self.channel_id}"


class Notification(models.Model):
    """One thing that happened to one unit, told to people and channels."""

    event = models.CharField(_("event"), max_length=64, choices=Event.choices)
    unit = models.ForeignKey(
        "orgs.OrgUnit",
        verbose_name=_("unit"),
        on_delete=models.PROTECT,
        related_name="notifications",
    )
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("message"), blank=True)
    link = models.CharField(_("link"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.subject


class InboxItem(models.Model):
    """A notification in one user's in-app inbox."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="inbox_items",
    )
    notification = models.ForeignKey(
        Notification,
        verbose_name=_("notification"),
        on_delete=models.CASCADE,
        related_name="inbox_items",
    )
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        verbose_name = _("inbox item")
        verbose_name_plural = _("inbox items")
        constraints = [
            models.UniqueConstraint(fields=["user", "notification"], name="uniq_inbox_item")
        ]
        indexes = [models.Index(fields=["user", "read_at"])]

    def __str__(self) -> str:
        return f"{self.user_id} · {self.notification_id}"


class Delivery(models.Model):
    """One push of a notification to a channel or to one user's e-mail, with its retries."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed, will retry")
        DEAD = "dead", _("Failed, gave up")

    notification = models.ForeignKey(
        Notification,
        verbose_name=_("notification"),
        on_delete=models.CASCADE,
        related_name="deliveries",
    )
    channel = models.ForeignKey(
        Channel,
        verbose_name=_("channel"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="deliveries",
    )
    kind = models.CharField(_("kind"), max_length=16, choices=ChannelKind.choices)
    # E-mail addresses or the webhook URL at the time of the notification (pages mask it).
    target = models.CharField(_("target"), max_length=1000)
    # The channel's owner unit, or the notification's unit for direct e-mail: whoever
    # manages notifications there sees the delivery in the log.
    scope_path = models.CharField(_("scope path"), max_length=255, db_index=True)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    response_excerpt = models.CharField(_("response"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} {self.status}"
