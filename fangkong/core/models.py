"""Shared base model, the audit log and the queue heartbeat."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .paths import PathField


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        abstract = True


class AuditLog(models.Model):
    """Who did what to which object, when, with the state before and after.

    ``scope_path`` is the org-unit path the object belongs to, so unit admins can browse
    the rows of their own subtree and nothing else. A row about several subtrees (an export
    by someone who exports from two enterprises) keeps their nearest common ancestor here
    ("" when they have none) and each subtree in an ``AuditScope`` row, so the admin of
    each one sees it too.
    """

    class Action(models.TextChoices):
        CREATE = "create", _("Create")
        UPDATE = "update", _("Update")
        DELETE = "delete", _("Delete")
        MOVE = "move", _("Move")
        CLOSE = "close", _("Close")
        MERGE = "merge", _("Merge")
        IMPORT = "import", _("Import")
        EXPORT = "export", _("Export")
        VIEW_SENSITIVE = "view_sensitive", _("View sensitive data")
        LOGIN = "login", _("Log in")
        LOGIN_FAILED = "login_failed", _("Failed log-in")
        LOCKED = "locked", _("Account locked")
        TOKEN_CREATE = "token_create", _("API token created")
        TOKEN_REVOKE = "token_revoke", _("API token revoked")
        ROLE_GRANT = "role_grant", _("Role granted")
        ROLE_REVOKE = "role_revoke", _("Role revoked")

    at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    action = models.CharField(_("action"), max_length=32, choices=Action.choices)
    object_type = models.CharField(_("object type"), max_length=64, blank=True)
    object_id = models.CharField(_("object id"), max_length=64, blank=True)
    object_repr = models.CharField(_("object"), max_length=200, blank=True)
    scope_path = PathField(_("scope path"), max_length=255, blank=True, db_index=True)
    before = models.JSONField(_("before"), null=True, blank=True)
    after = models.JSONField(_("after"), null=True, blank=True)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)

    class Meta:
        verbose_name = _("audit log entry")
        verbose_name_plural = _("audit log")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} {self.object_repr}"


class AuditScope(models.Model):
    """One of the subtrees an audit row is about, when it is about more than one."""

    entry = models.ForeignKey(AuditLog, on_delete=models.CASCADE, related_name="scopes")
    path = PathField(_("scope path"), max_length=255, db_index=True)

    class Meta:
        verbose_name = _("audit log scope")
        verbose_name_plural = _("audit log scopes")
        constraints = [
            models.UniqueConstraint(fields=["entry", "path"], name="uniq_audit_scope_path")
        ]

    def __str__(self) -> str:
        return self.path


class QueueHeartbeat(models.Model):
    """The task queue's last sign of life, written by a periodic task."""

    name = models.CharField(max_length=64, unique=True)
    beat_at = models.DateTimeField()

    class Meta:
        verbose_name = _("queue heartbeat")
        verbose_name_plural = _("queue heartbeats")

    def __str__(self) -> str:
        return f"{self.name} {self.beat_at}"


class Division(models.Model):
    """A province, city or county by its GB/T 2260 administrative-division code.

    Loaded from ``core/data/divisions.json`` by a data migration; see ``core/divisions.py``.
    """

    class Level(models.IntegerChoices):
        PROVINCE = 1, _("Province")
        CITY = 2, _("City")
        COUNTY = 3, _("County")

    code = models.CharField(_("division code"), max_length=6, primary_key=True)
    name = models.CharField(_("name"), max_length=64)
    full_name = models.CharField(_("full name"), max_length=128)
    initials = models.CharField(_("pinyin initials"), max_length=64, db_index=True)
    level = models.PositiveSmallIntegerField(_("level"), choices=Level.choices)
    parent = models.ForeignKey(
        "self", verbose_name=_("parent"), null=True, blank=True, on_delete=models.PROTECT
    )

    class Meta:
        ordering = ["code"]
        verbose_name = _("administrative division")
        verbose_name_plural = _("administrative divisions")

    def __str__(self) -> str:
        return self.full_name


class CalendarDay(models.Model):
    """An override of the working-day calendar for one date: the State Council's notice wins.

    The ``holidays`` package knows China's public holidays and make-up working days (调休)
    for the years whose notice it has; admins enter the rest here when the notice appears.
    """

    day = models.DateField(_("day"), unique=True)
    is_working = models.BooleanField(_("working day"))
    name = models.CharField(_("name"), max_length=64, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["day"]
        verbose_name = _("calendar override")
        verbose_name_plural = _("calendar overrides")

    def __str__(self) -> str:
        return f"{self.day.isoformat()} {self.name}"


class CalendarNotice(models.Model):
    """Marks a year's holiday notice as entered: its deadlines are no longer estimates."""

    year = models.PositiveSmallIntegerField(_("year"), unique=True)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("entered by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    entered_at = models.DateTimeField(_("entered at"), auto_now_add=True)
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        ordering = ["year"]
        verbose_name = _("holiday notice")
        verbose_name_plural = _("holiday notices")

    def __str__(self) -> str:
        return str(self.year)


class ThrottleBucket(models.Model):
    """One rate-limit window and its hit count, shared by every web process.

    ``core.throttle`` counts with one upsert (see there why not the cache's ``incr``);
    ``expires`` is in Unix seconds so the same SQL compares it on SQLite and PostgreSQL.
    """

    key = models.CharField(max_length=80, primary_key=True)
    hits = models.PositiveIntegerField(default=0)
    expires = models.BigIntegerField(db_index=True)

    def __str__(self) -> str:
        return f"{self.key}: {self.hits}"
