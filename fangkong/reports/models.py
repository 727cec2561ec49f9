"""Unit daily reports: who reports (plans), what they attested (versioned), and alarms sent."""

import datetime as dt
import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from fangkong.core.models import TimeStampedModel
from fangkong.core.paths import PathField
from fangkong.orgs.models import OrgUnit

DEFAULT_DEADLINE = dt.time(10, 0)
DEFAULT_GRACE_MINUTES = 120


class ReportPlan(TimeStampedModel):
    """Which units report daily, from when to when, and by what local time.

    A unit reports on day D when it is open on D and its kind is in ``unit_kinds`` or its
    depth is in ``depths`` for an active plan in force on D.
    """

    name = models.CharField(_("name"), max_length=128)
    unit_kinds = models.JSONField(
        _("unit kinds"), default=list, blank=True, help_text=_("Units of these kinds report.")
    )
    depths = models.JSONField(
        _("tree levels"),
        default=list,
        blank=True,
        help_text=_("Units at these depths report (0 is the root)."),
    )
    valid_from = models.DateField(_("effective from"))
    valid_to = models.DateField(_("effective until"), null=True, blank=True)
    deadline = models.TimeField(
        _("deadline (local time)"), default=DEFAULT_DEADLINE, help_text=_("Asia/Shanghai time.")
    )
    grace_minutes = models.PositiveIntegerField(
        _("grace period (minutes)"),
        default=DEFAULT_GRACE_MINUTES,
        help_text=_("After the deadline plus this period the parent unit's admins are alerted."),
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["deadline", "id"]
        verbose_name = _("report plan")
        verbose_name_plural = _("report plans")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(valid_to__isnull=True)
                | models.Q(valid_to__gte=models.F("valid_from")),
                name="reportplan_period_ordered",
            )
        ]

    def __str__(self) -> str:
        return self.name


class UnitReport(models.Model):
    """One attested version of a unit's daily report.

    A correction adds version n+1 and clears ``is_current`` on the previous one, which stays
    as history. The figures are the pre-fill from the subtree's current declarations at the
    moment of attesting. ``is_late`` says whether the unit's first report that day came after
    the deadline; corrections keep it.
    """

    uuid = models.UUIDField(_("client UUID"), unique=True, default=uuid.uuid4)
    unit = models.ForeignKey(
        OrgUnit, verbose_name=_("unit"), on_delete=models.PROTECT, related_name="daily_reports"
    )
    # The unit's path, kept in step when the unit moves (receivers.py): the trend counts a
    # subtree's reports of each day by a range on it, not by joining every unit.
    unit_path = PathField(_("unit path"), max_length=255, editable=False, default="")
    day = models.DateField(_("date"))
    version = models.PositiveSmallIntegerField(_("version"), default=1)
    is_current = models.BooleanField(_("current"), default=True)
    headcount = models.PositiveIntegerField(_("head-count"), default=0)
    declared = models.PositiveIntegerField(_("declared"), default=0)
    abnormal = models.PositiveIntegerField(_("abnormal"), default=0)
    fever = models.PositiveIntegerField(_("fever"), default=0)
    symptom = models.PositiveIntegerField(_("symptoms"), default=0)
    contact = models.PositiveIntegerField(_("contact with a case"), default=0)
    risk_area = models.PositiveIntegerField(_("risk area"), default=0)
    positive = models.PositiveIntegerField(_("positive test"), default=0)
    quarantine = models.PositiveIntegerField(_("in quarantine"), default=0)
    returnees = models.PositiveIntegerField(_("travelling / returning"), default=0)
    is_zero = models.BooleanField(_("zero report"), default=False)
    is_late = models.BooleanField(_("late"), default=False)
    note = models.TextField(_("note"), blank=True)
    attested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("attested by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    attested_at = models.DateTimeField(_("attested at"))

    class Meta:
        ordering = ["-day", "unit__path", "-version"]
        verbose_name = _("unit daily report")
        verbose_name_plural = _("unit daily reports")
        constraints = [
            models.UniqueConstraint(
                fields=["unit", "day"],
                condition=models.Q(is_current=True),
                name="one_current_report_per_unit_day",
            ),
            models.UniqueConstraint(fields=["unit", "day", "version"], name="report_version"),
        ]
        indexes = [
            # A day's reports by unit, with what the roll-up counts of each (from the index).
            models.Index(
                fields=["day", "unit", "is_current", "is_late", "is_zero"],
                name="report_day_unit_state",
            ),
            # A subtree's current reports of each day, counted from the index (the trend).
            models.Index(
                fields=["day", "unit_path", "is_late", "is_zero"],
                condition=models.Q(is_current=True),
                name="report_current_day_path",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.unit_id} {self.day} v{self.version}"


class ReportAlarm(models.Model):
    """A reminder or escalation sent for a missing report; unique, so each is sent once.

    ``sweep`` marks the rows one sweep inserted, so concurrent sweeps never both notify.
    """

    class Kind(models.TextChoices):
        REMINDER = "reminder", _("Reminder to the unit's reporters")
        ESCALATION = "escalation", _("Alert to the parent unit's admins")

    unit = models.ForeignKey(
        OrgUnit, verbose_name=_("unit"), on_delete=models.CASCADE, related_name="report_alarms"
    )
    day = models.DateField(_("date"))
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    sweep = models.UUIDField(_("sweep"), db_index=True)
    created_at = models.DateTimeField(_("raised at"))
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        ordering = ["-day", "unit_id", "kind"]
        verbose_name = _("report alarm")
        verbose_name_plural = _("report alarms")
        constraints = [
            models.UniqueConstraint(fields=["unit", "day", "kind"], name="one_alarm_per_kind")
        ]

    def __str__(self) -> str:
        return f"{self.unit_id} {self.day} {self.kind}"
