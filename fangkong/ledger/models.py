"""Ledger items (台账): one row per tracked case, its deadline clocks and its full history."""

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from fangkong.core.paths import PathField
from fangkong.orgs.models import OrgUnit, Person


class Item(models.Model):
    """One case in a kind's ledger: a subject, a unit, a state, owners and deadlines.

    ``unit_path`` copies the unit's path (scope and subtree counts are range scans);
    ``next_due_at`` and ``is_overdue`` copy the earliest unmet clock so lists and the sweep
    never aggregate clocks. ``open_key`` makes opening idempotent: one open item per kind
    and key (a partial unique index over open items).
    """

    kind = models.CharField(_("kind"), max_length=32)
    content_type = models.ForeignKey(
        ContentType, verbose_name=_("subject type"), on_delete=models.PROTECT, related_name="+"
    )
    object_id = models.PositiveBigIntegerField(_("subject id"))
    subject = GenericForeignKey("content_type", "object_id")
    person = models.ForeignKey(
        Person,
        verbose_name=_("person"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="ledger_items",
    )
    unit = models.ForeignKey(
        OrgUnit, verbose_name=_("unit"), on_delete=models.PROTECT, related_name="ledger_items"
    )
    unit_path = PathField(_("unit path"), max_length=255, editable=False)
    title = models.CharField(_("title"), max_length=200)
    state = models.CharField(_("state"), max_length=32)
    is_open = models.BooleanField(_("open"), default=True)
    open_key = models.CharField(_("open key"), max_length=100, null=True, blank=True)
    owners = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owners"),
        blank=True,
        related_name="ledger_items",
    )
    follow_up_every_hours = models.PositiveSmallIntegerField(
        _("follow up every (hours)"), null=True, blank=True
    )
    data = models.JSONField(_("data"), default=dict, blank=True)
    opened_at = models.DateTimeField(_("opened at"))
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("opened by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    close_reason = models.TextField(_("close-out reason"), blank=True)
    next_due_at = models.DateTimeField(_("next due"), null=True, blank=True)
    next_due_estimated = models.BooleanField(_("due date estimated"), default=False)
    is_overdue = models.BooleanField(_("overdue"), default=False)

    class Meta:
        verbose_name = _("ledger item")
        verbose_name_plural = _("ledger items")
        ordering = ["next_due_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "open_key"],
                condition=Q(is_open=True, open_key__isnull=False),
                name="ledger_item_one_open_per_key",
            )
        ]
        indexes = [
            # The 台账: one kind in a subtree (range on the path).
            models.Index(fields=["kind", "unit_path"], name="ledger_item_kind_path"),
            models.Index(fields=["content_type", "object_id"], name="ledger_item_subject"),
        ]

    def __str__(self) -> str:
        return self.title


class ItemClock(models.Model):
    """One deadline of an item: due, maybe warned, maybe breached, until met.

    ``warn_at`` (due minus the kind's warning hours) is stored so the sweep finds what to
    warn about by one range seek; two partial indexes hold only the clocks still pending.
    A clock stopped by a close-out is met at the close-out with ``stopped`` set.
    """

    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="clocks")
    key = models.CharField(_("clock"), max_length=32)
    due_at = models.DateTimeField(_("due at"))
    warn_at = models.DateTimeField(_("warn at"))
    estimated = models.BooleanField(_("estimated"), default=False)
    met_at = models.DateTimeField(_("met at"), null=True, blank=True)
    stopped = models.BooleanField(_("stopped by the close-out"), default=False)
    warned_at = models.DateTimeField(_("warned at"), null=True, blank=True)
    breached_at = models.DateTimeField(_("breached at"), null=True, blank=True)

    class Meta:
        verbose_name = _("deadline clock")
        verbose_name_plural = _("deadline clocks")
        ordering = ["due_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["item", "key"], name="ledger_clock_one_per_key")
        ]
        indexes = [
            models.Index(
                fields=["due_at"],
                condition=Q(met_at__isnull=True, breached_at__isnull=True),
                name="ledger_clock_breach_due",
            ),
            models.Index(
                fields=["warn_at"],
                condition=Q(met_at__isnull=True, warned_at__isnull=True),
                name="ledger_clock_warn_due",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.item_id}:{self.key}"


class Entry(models.Model):
    """One line of an item's history: a follow-up, a transition, a close-out step."""

    class Kind(models.TextChoices):
        NOTE = "note", _("Note")
        MEASUREMENT = "measurement", _("Measurement")
        ATTACHMENT = "attachment", _("Attachment")
        TRANSITION = "transition", _("State change")
        ASSIGNMENT = "assignment", _("Assignment")
        CLOSE_REQUEST = "close_request", _("Close-out requested")
        APPROVAL = "approval", _("Close-out approved")
        REJECTION = "rejection", _("Close-out rejected")
        REOPEN = "reopen", _("Reopened")
        SYSTEM = "system", _("System")

    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="entries")
    kind = models.CharField(_("type"), max_length=16, choices=Kind.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    at = models.DateTimeField(_("time"))
    text = models.TextField(_("text"), blank=True)
    value = models.DecimalField(_("value"), max_digits=10, decimal_places=2, null=True, blank=True)
    unit = models.CharField(_("unit of measure"), max_length=16, blank=True)
    file = models.FileField(_("file"), upload_to="ledger/%Y/%m/", null=True, blank=True)
    data = models.JSONField(_("data"), default=dict, blank=True)

    class Meta:
        verbose_name = _("history entry")
        verbose_name_plural = _("history entries")
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["item", "at"], name="ledger_entry_item_at")]

    def __str__(self) -> str:
        return f"{self.item_id} {self.kind} {self.at:%Y-%m-%d %H:%M}"
