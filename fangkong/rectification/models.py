"""Rectification (整改): problems found by meetings, audits, supervision teams, inspections,
bad reviews or the unit itself, each worked to close-out (销号) as a ledger item.

A ``Problem`` is the subject of one ledger item of kind ``problem`` (``ledger_kind.py``):
the item holds the responsible unit, the state, the owners, the deadline clock and the
history; the problem holds what the ledger does not know — source, class, measures and
root cause, quantity targets, milestones, evidence, savings, the colour. A
``SupervisionOrder`` (督办单) puts any ledger item, of any kind, under a superior unit's
supervision. ``ColourCount`` keeps each night's open items by colour for the chart;
``Bulletin`` is the weekly bulletin (每周通报), versioned and archived.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from fangkong.core.models import TimeStampedModel
from fangkong.core.paths import PathField
from fangkong.ledger.models import Item
from fangkong.orgs.models import OrgUnit


class Source(models.TextChoices):
    MEETING = "meeting", _("Meeting")
    AUDIT = "audit", _("Audit")
    SUPERVISION = "supervision", _("Supervision team")
    INSPECTION = "inspection", _("Inspection")
    BAD_REVIEW = "bad_review", _("Bad review")
    SUGGESTION = "suggestion", _("Suggestion")
    SELF_FOUND = "self_found", _("Found by the unit itself")


class Severity(models.TextChoices):
    GENERAL = "general", pgettext_lazy("severity", "General")
    SERIOUS = "serious", pgettext_lazy("severity", "Serious")
    MAJOR = "major", pgettext_lazy("severity", "Major")


class ProblemClass(models.TextChoices):
    IMMEDIATE = "immediate", _("Fix at once")
    DEADLINE = "deadline", _("Fix by a deadline")
    LONG_TERM = "long_term", _("Long-term, with milestones")


class Colour(models.TextChoices):
    """Supervision colours, computed, never entered: red beats yellow beats blue."""

    NONE = "", pgettext_lazy("colour", "None")
    BLUE = "blue", pgettext_lazy("colour", "Blue")
    YELLOW = "yellow", pgettext_lazy("colour", "Yellow")
    RED = "red", pgettext_lazy("colour", "Red")


class Problem(TimeStampedModel):
    """One problem on a problem list (问题清单), worked as the ledger item ``item``."""

    item = models.OneToOneField(
        Item,
        verbose_name=_("ledger item"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="problem",
    )
    source = models.CharField(_("source"), max_length=16, choices=Source.choices)
    source_ref = models.CharField(_("source reference"), max_length=100, blank=True)
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    category = models.CharField(_("category"), max_length=64, blank=True)
    severity = models.CharField(
        _("severity"), max_length=16, choices=Severity.choices, default=Severity.GENERAL
    )
    problem_class = models.CharField(
        _("class"), max_length=16, choices=ProblemClass.choices, default=ProblemClass.DEADLINE
    )
    # The responsible unit is the item's unit; the assigning unit accepts the work.
    assigning_unit = models.ForeignKey(
        OrgUnit,
        verbose_name=_("assigning unit"),
        on_delete=models.PROTECT,
        related_name="problems_assigned",
    )
    assigning_path = PathField(_("assigning unit path"), max_length=255, editable=False)
    responsible_name = models.CharField(_("person responsible"), max_length=64, blank=True)
    leader_name = models.CharField(_("leader in charge"), max_length=64, blank=True)
    starts_on = models.DateField(_("starts on"))
    due_on = models.DateField(_("due on"))
    due_estimated = models.BooleanField(_("due date estimated"), default=False)
    root_cause = models.TextField(_("root cause"), blank=True)
    measures = models.TextField(_("measures"), blank=True)
    preventive = models.TextField(_("preventive action"), blank=True)
    effect_check_days = models.PositiveSmallIntegerField(
        _("effectiveness check after (days)"), default=30
    )
    submitted_at = models.DateTimeField(_("submitted for acceptance at"), null=True, blank=True)
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    effect_checked_at = models.DateTimeField(_("effectiveness checked at"), null=True, blank=True)
    # True when accepted by the deadline (the rankings' "on time").
    on_time = models.BooleanField(_("on time"), null=True, blank=True)
    recurrences = models.PositiveSmallIntegerField(_("recurrences"), default=0)
    colour = models.CharField(
        _("colour"), max_length=8, choices=Colour.choices, default=Colour.NONE, blank=True
    )
    colour_since = models.DateTimeField(_("colour since"), null=True, blank=True)
    import_key = models.CharField(_("import key"), max_length=64, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("registered by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("problem")
        verbose_name_plural = _("problems")
        ordering = ["due_on", "id"]
        indexes = [
            models.Index(fields=["assigning_path"], name="rect_problem_assigning"),
            models.Index(fields=["due_on"], name="rect_problem_due"),
        ]

    def __str__(self) -> str:
        return self.title


class Target(models.Model):
    """A quantity target (e.g. 698 street lamps) and how much of it is done."""

    problem = models.ForeignKey(Problem, on_delete=models.CASCADE, related_name="targets")
    label = models.CharField(_("target"), max_length=100)
    unit_of_measure = models.CharField(_("unit of measure"), max_length=16, blank=True)
    target = models.DecimalField(_("target quantity"), max_digits=12, decimal_places=2)
    done = models.DecimalField(_("done"), max_digits=12, decimal_places=2, default=0)

    class Meta:
        verbose_name = _("quantity target")
        verbose_name_plural = _("quantity targets")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(target__gt=0), name="rect_target_positive"),
            models.CheckConstraint(condition=Q(done__gte=0), name="rect_done_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.label} {self.done}/{self.target}"


class Milestone(models.Model):
    """A step of a long-term problem's schedule (时间表、路线图)."""

    problem = models.ForeignKey(Problem, on_delete=models.CASCADE, related_name="milestones")
    title = models.CharField(_("milestone"), max_length=200)
    due_on = models.DateField(_("due on"))
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)

    class Meta:
        verbose_name = _("milestone")
        verbose_name_plural = _("milestones")
        ordering = ["due_on", "id"]

    def __str__(self) -> str:
        return self.title


class Evidence(models.Model):
    """A photo or file proving progress, stored with its SHA-256."""

    problem = models.ForeignKey(Problem, on_delete=models.CASCADE, related_name="evidence")
    file = models.FileField(_("file"), upload_to="rectification/%Y/%m/")
    name = models.CharField(_("file name"), max_length=200)
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    size = models.PositiveIntegerField(_("size (bytes)"))
    caption = models.CharField(_("caption"), max_length=200, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("uploaded by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    uploaded_at = models.DateTimeField(_("uploaded at"))

    class Meta:
        verbose_name = _("evidence")
        verbose_name_plural = _("evidence")
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return self.name


class Saving(models.Model):
    """A saving measured against its baseline (e.g. vehicle costs 40 % lower)."""

    problem = models.ForeignKey(Problem, on_delete=models.CASCADE, related_name="savings")
    label = models.CharField(_("what is measured"), max_length=100)
    unit_of_measure = models.CharField(_("unit of measure"), max_length=16, blank=True)
    baseline = models.DecimalField(_("baseline"), max_digits=14, decimal_places=2)
    current = models.DecimalField(_("now"), max_digits=14, decimal_places=2)
    recorded_at = models.DateTimeField(_("recorded at"))

    class Meta:
        verbose_name = _("saving")
        verbose_name_plural = _("savings")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(baseline__gt=0), name="rect_baseline_positive")
        ]

    def __str__(self) -> str:
        return self.label


class SupervisionLevel(models.TextChoices):
    GENERAL = "general", _("General supervision")
    KEY = "key", _("Key supervision")
    LISTED = "listed", _("Listed supervision")


class SupervisionOrder(TimeStampedModel):
    """A supervision order (督办单): a superior unit watches one ledger item to its end."""

    item = models.ForeignKey(
        Item, verbose_name=_("ledger item"), on_delete=models.CASCADE, related_name="supervision"
    )
    supervising_unit = models.ForeignKey(
        OrgUnit,
        verbose_name=_("supervising unit"),
        on_delete=models.PROTECT,
        related_name="supervision_orders",
    )
    supervising_path = PathField(_("supervising unit path"), max_length=255, editable=False)
    level = models.CharField(
        _("level"),
        max_length=16,
        choices=SupervisionLevel.choices,
        default=SupervisionLevel.GENERAL,
    )
    due_on = models.DateField(_("due on"))
    note = models.TextField(_("requirements"), blank=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("issued by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    is_active = models.BooleanField(_("active"), default=True)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    colour = models.CharField(
        _("colour"), max_length=8, choices=Colour.choices, default=Colour.NONE, blank=True
    )
    colour_since = models.DateTimeField(_("colour since"), null=True, blank=True)

    class Meta:
        verbose_name = _("supervision order")
        verbose_name_plural = _("supervision orders")
        ordering = ["due_on", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["item"], condition=Q(is_active=True), name="rect_one_active_order"
            )
        ]
        indexes = [
            models.Index(
                fields=["due_on"], condition=Q(is_active=True), name="rect_order_active_due"
            ),
            models.Index(fields=["supervising_path"], name="rect_order_supervising"),
        ]

    def __str__(self) -> str:
        return f"{self.item_id} {self.get_level_display()}"


class ColourCount(models.Model):
    """Open problems of one unit by colour on one day (the chart of colours over time)."""

    day = models.DateField(_("day"))
    unit_path = PathField(_("unit path"), max_length=255)
    colour = models.CharField(_("colour"), max_length=8, choices=Colour.choices, blank=True)
    n = models.PositiveIntegerField(_("count"))

    class Meta:
        verbose_name = _("colour count")
        verbose_name_plural = _("colour counts")
        constraints = [
            models.UniqueConstraint(
                fields=["day", "unit_path", "colour"], name="rect_colour_count_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.unit_path} {self.colour}={self.n}"


class Bulletin(models.Model):
    """The weekly bulletin (每周通报) of one unit's subtree for one week, versioned.

    A new version is written each time it is generated again; the office adds its
    paragraph and signs one version off before it is sent. Sent versions stay archived.
    """

    class Status(models.TextChoices):
        DRAFT = "draft", pgettext_lazy("bulletin", "Draft")
        SIGNED = "signed", pgettext_lazy("bulletin", "Signed off")
        SENT = "sent", pgettext_lazy("bulletin", "Sent")

    unit = models.ForeignKey(
        OrgUnit, verbose_name=_("unit"), on_delete=models.PROTECT, related_name="bulletins"
    )
    unit_path = PathField(_("unit path"), max_length=255, editable=False)
    week_start = models.DateField(_("week starting"))
    version = models.PositiveSmallIntegerField(_("version"), default=1)
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.DRAFT
    )
    preface = models.TextField(_("the office's paragraph"), blank=True)
    figures = models.JSONField(_("figures"), default=dict)
    pdf = models.FileField(_("PDF"), upload_to="bulletins/%Y/", blank=True)
    xlsx = models.FileField(_("Excel"), upload_to="bulletins/%Y/", blank=True)
    generated_at = models.DateTimeField(_("generated at"))
    generated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("generated by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("signed off by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    signed_at = models.DateTimeField(_("signed off at"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        verbose_name = _("weekly bulletin")
        verbose_name_plural = _("weekly bulletins")
        ordering = ["-week_start", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["unit", "week_start", "version"], name="rect_bulletin_version_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.unit_id} {self.week_start} v{self.version}"
