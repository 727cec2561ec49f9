"""Health card: daily declarations, the configurable symptom list and status rules."""

import datetime as dt
import uuid
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from fangkong.core.links import new_link_key
from fangkong.core.models import Division, TimeStampedModel
from fangkong.core.paths import PathField
from fangkong.orgs.models import Person

TEMPERATURE_MIN = 35
TEMPERATURE_MAX = 42


class Whereabouts(models.TextChoices):
    AT_POST = "at_post", _("At post")
    AT_HOME = "at_home", _("At home")
    TRAVELLING = "travelling", _("Travelling")
    QUARANTINE = "quarantine", _("In quarantine")


class Contact(models.TextChoices):
    NONE = "none", _("No contact")
    SUSPECTED = "suspected", _("Contact with a suspected case")
    CONFIRMED = "confirmed", _("Contact with a confirmed case")


class TestResult(models.TextChoices):
    NONE = "none", _("Not tested")
    NEGATIVE = "negative", _("Negative")
    POSITIVE = "positive", _("Positive")


class FiledBy(models.TextChoices):
    SELF = "self", _("Self")
    PROXY = "proxy", _("On behalf")


class Colour(models.TextChoices):
    GREEN = "green", _("Green")
    YELLOW = "yellow", _("Yellow")
    RED = "red", _("Red")


class Symptom(models.Model):
    """One entry of the configurable symptom list shown on the form."""

    code = models.SlugField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name (Chinese)"), max_length=64)
    name_en = models.CharField(_("name (English)"), max_length=64)
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["order", "code"]
        verbose_name = _("symptom")
        verbose_name_plural = _("symptoms")

    def __str__(self) -> str:
        return self.name


class OutbreakProfile(TimeStampedModel):
    """The disease being fought and its numbers, edited by group admins; one row per outbreak.

    Declarations (fever threshold), the tracking cards (follow-up and close-out days),
    the travel rules (look-back window) and quarantine (days per risk level) all read the
    open row (``current``), so a new outbreak is a change here, not in code.

    Closing an outbreak ends its period on the day of the close and opens the next one the
    day after, with the same numbers: the outbreaks split the calendar with neither gap nor
    overlap. ``purge_after_days`` after the close, the personal data of the closed period is
    erased (``health.retention``); the day tallies stay.
    """

    disease_name = models.CharField(_("disease"), max_length=64, default="新型冠状病毒肺炎")
    lookback_days = models.PositiveSmallIntegerField(
        _("travel look-back (days)"),
        default=15,
        validators=[MinValueValidator(1), MaxValueValidator(60)],
        help_text=_("Itineraries this many days back are checked against the risk areas."),
    )
    follow_up_days = models.PositiveSmallIntegerField(
        _("follow-up period (days)"),
        default=14,
        validators=[MinValueValidator(1), MaxValueValidator(60)],
        help_text=_("How long a close contact is followed up, counted from the last contact."),
    )
    normal_days_to_close = models.PositiveSmallIntegerField(
        _("normal days before close-out"),
        default=3,
        validators=[MinValueValidator(1), MaxValueValidator(30)],
        help_text=_("Consecutive normal days after which an abnormal card may be closed out."),
    )
    quarantine_days_high = models.PositiveSmallIntegerField(
        _("quarantine days after a high-risk area"),
        default=14,
        validators=[MaxValueValidator(60)],
    )
    quarantine_days_medium = models.PositiveSmallIntegerField(
        _("quarantine days after a medium-risk area"),
        default=7,
        validators=[MaxValueValidator(60)],
    )
    quarantine_days_low = models.PositiveSmallIntegerField(
        _("quarantine days after a low-risk area"),
        default=0,
        validators=[MaxValueValidator(60)],
    )
    fever_threshold = models.DecimalField(
        _("fever from (°C)"),
        max_digits=3,
        decimal_places=1,
        default=Decimal("37.3"),
        validators=[MinValueValidator(Decimal("36.5")), MaxValueValidator(Decimal("39.0"))],
    )
    started_on = models.DateField(
        _("first day"), null=True, blank=True, help_text=_("Empty: since records began.")
    )
    closed_on = models.DateField(_("closed on"), null=True, blank=True)
    purge_after_days = models.PositiveSmallIntegerField(
        _("erase personal data after (days)"),
        default=180,
        validators=[MinValueValidator(1), MaxValueValidator(3650)],
        help_text=_(
            "Days after the close at which the outbreak's declarations, follow-ups, "
            "itineraries and quarantine checks are erased; the daily figures stay."
        ),
    )
    purged_at = models.DateTimeField(_("personal data erased at"), null=True, blank=True)

    class Meta:
        verbose_name = _("outbreak profile")
        verbose_name_plural = _("outbreak profiles")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(closed_on__isnull=True)
                | models.Q(started_on__isnull=True)
                | models.Q(closed_on__gte=models.F("started_on")),
                name="outbreak_closed_after_start",
            )
        ]

    def __str__(self) -> str:
        return self.disease_name

    @classmethod
    def current(cls) -> "OutbreakProfile":
        """Return the open outbreak's profile, creating the defaults on a fresh database."""
        profile = cls.objects.filter(closed_on__isnull=True).order_by("-pk").first()
        if profile is None:
            profile, _created = cls.objects.get_or_create(pk=1)
        return profile

    @property
    def purge_due_on(self) -> dt.date | None:
        """The first day the closed outbreak's personal data may be erased."""
        if self.closed_on is None:
            return None
        return self.closed_on + dt.timedelta(days=self.purge_after_days)

    def quarantine_days(self, level: str) -> int:
        """Days of quarantine after a stay in an area of ``level`` (high/medium/low)."""
        return int(getattr(self, f"quarantine_days_{level}"))


class HealthRule(models.Model):
    """A condition that makes a declaration yellow or red; the worst match wins.

    The fever threshold is not a rule field: it belongs to the outbreak profile.
    """

    class Condition(models.TextChoices):
        FEVER = "fever", _("Fever")
        SYMPTOM = "symptom", _("Symptoms")
        CONTACT_SUSPECTED = "contact_suspected", _("Contact with a suspected case")
        CONTACT_CONFIRMED = "contact_confirmed", _("Contact with a confirmed case")
        RISK_AREA = "risk_area", _("Stay in a risk area")
        TEST_POSITIVE = "test_positive", _("Positive test")

    condition = models.CharField(_("condition"), max_length=32, choices=Condition.choices)
    symptom = models.ForeignKey(
        Symptom,
        verbose_name=_("symptom"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        help_text=_("For symptoms: only this symptom; empty means any symptom."),
    )
    colour = models.CharField(_("status"), max_length=8, choices=Colour.choices)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["condition", "id"]
        verbose_name = _("health status rule")
        verbose_name_plural = _("health status rules")

    def __str__(self) -> str:
        return f"{self.get_condition_display()} → {self.get_colour_display()}"


class Declaration(models.Model):
    """One person's health declaration for one local day.

    A later declaration for the same person and day supersedes the earlier one, which
    stays as history (``is_current`` false). ``unit_path`` copies the person's unit path so
    the roll-up counts a subtree with one index range; it follows the person when the
    person or the unit moves. The ``flag_*`` columns record which rule conditions matched
    at filing time, so abnormal-by-reason counts need no JSON.
    """

    uuid = models.UUIDField(_("client UUID"), unique=True, default=uuid.uuid4)
    # No index of their own for the three keys: every declaration writes each index it has
    # (a page of the WAL each on SQLite). A person's rows are found by (person, day); a
    # division's or a proxy's only when one is deleted, and most have no proxy.
    person = models.ForeignKey(
        Person,
        verbose_name=_("person"),
        on_delete=models.PROTECT,
        related_name="declarations",
        db_index=False,
    )
    unit_path = PathField(_("unit path"), max_length=255)
    day = models.DateField(_("date"))
    temperature = models.DecimalField(_("temperature (°C)"), max_digits=3, decimal_places=1)
    symptoms = models.JSONField(_("symptoms"), default=list, blank=True)
    division = models.ForeignKey(
        Division, verbose_name=_("current location"), on_delete=models.PROTECT, db_index=False
    )
    whereabouts = models.CharField(
        _("whereabouts"), max_length=16, choices=Whereabouts.choices, default=Whereabouts.AT_POST
    )
    contact = models.CharField(
        _("contact with a case"), max_length=16, choices=Contact.choices, default=Contact.NONE
    )
    risk_area_stay = models.BooleanField(_("stayed in a risk area"), default=False)
    test_result = models.CharField(
        _("test result"), max_length=16, choices=TestResult.choices, default=TestResult.NONE
    )
    filed_by = models.CharField(
        _("filed by"), max_length=8, choices=FiledBy.choices, default=FiledBy.SELF
    )
    proxy = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("filed on behalf by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    status = models.CharField(_("health status"), max_length=8, choices=Colour.choices)
    reasons = models.JSONField(_("reasons"), default=list, blank=True)
    flag_fever = models.BooleanField(default=False)
    flag_symptom = models.BooleanField(default=False)
    flag_contact = models.BooleanField(default=False)
    flag_risk_area = models.BooleanField(default=False)
    flag_positive = models.BooleanField(default=False)
    is_current = models.BooleanField(_("current"), default=True)
    created_at = models.DateTimeField(_("submitted at"), auto_now_add=True)

    class Meta:
        ordering = ["-day", "-created_at"]
        verbose_name = _("health declaration")
        verbose_name_plural = _("health declarations")
        constraints = [
            models.UniqueConstraint(
                fields=["person", "day"],
                condition=models.Q(is_current=True),
                name="one_current_declaration_per_day",
            ),
            models.CheckConstraint(
                condition=models.Q(temperature__gte=TEMPERATURE_MIN)
                & models.Q(temperature__lte=TEMPERATURE_MAX),
                name="declaration_temperature_range",
            ),
        ]
        indexes = [
            # The roll-up: one range scan per subtree and day over current declarations.
            models.Index(
                fields=["day", "unit_path", "status"],
                condition=models.Q(is_current=True),
                name="declaration_day_path",
            ),
            # The roll-up's abnormal and whereabouts counts: rows of a few statuses or
            # whereabouts (about 1-3 %), found by seeking instead of scanning the day.
            models.Index(
                fields=["day", "status", "whereabouts", "unit_path"],
                condition=models.Q(is_current=True),
                name="declaration_day_kind",
            ),
            models.Index(fields=["person", "day"], name="declaration_person_day"),
            # Only the declarations filed on someone's behalf (deleting a user looks there).
            models.Index(
                fields=["proxy"], condition=models.Q(proxy__isnull=False), name="declaration_proxy"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person_id} {self.day} {self.status}"


class PersonLink(TimeStampedModel):
    """The key behind a person's signed declaration link; revoking it kills the link."""

    person = models.ForeignKey(
        Person, verbose_name=_("person"), on_delete=models.CASCADE, related_name="links"
    )
    key = models.CharField(_("key"), max_length=32, unique=True, default=new_link_key)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("personal link")
        verbose_name_plural = _("personal links")
        constraints = [
            models.UniqueConstraint(
                fields=["person"],
                condition=models.Q(revoked_at__isnull=True),
                name="one_live_link_per_person",
            )
        ]

    def __str__(self) -> str:
        return f"{self.person_id}:{self.key[:4]}…"


class TallyCounts(models.Model):
    """One day's counts of current declarations under a unit path: the columns the day
    tallies and the subtree tallies share (the roll-up sums them alike)."""

    day = models.DateField(_("date"))
    unit_path = PathField(_("unit path"), max_length=255)
    declared = models.IntegerField(default=0)
    abnormal = models.IntegerField(default=0)
    fever = models.IntegerField(default=0)
    symptom = models.IntegerField(default=0)
    contact = models.IntegerField(default=0)
    risk_area = models.IntegerField(default=0)
    positive = models.IntegerField(default=0)
    quarantine = models.IntegerField(default=0)
    returnees = models.IntegerField(default=0)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.day} {self.unit_path} {self.declared}"


class DayTally(TallyCounts):
    """Counts of one day's current declarations filed in one unit (not its subtree).

    Kept exact in the same transaction as the declarations (``tally.py`` adds each write's
    deltas with an atomic upsert), so the roll-up sums a few thousand of these rows per
    subtree instead of counting every declaration — live, with no batch job in between.
    """

    class Meta:
        verbose_name = _("daily declaration tally")
        verbose_name_plural = _("daily declaration tallies")
        constraints = [
            models.UniqueConstraint(fields=["day", "unit_path"], name="one_tally_per_day_and_unit")
        ]


class SubtreeTally(TallyCounts):
    """Counts of one day's current declarations in the subtree of a unit two levels below
    the root (an enterprise); a unit above that level has a row of its own counts.

    Kept by triggers on the day tallies (``subtree_tally.py``), so the group's and a
    segment's roll-up and trend sum a row per enterprise instead of one per unit.
    """

    class Meta:
        verbose_name = _("subtree declaration tally")
        verbose_name_plural = _("subtree declaration tallies")
        constraints = [
            models.UniqueConstraint(
                fields=["day", "unit_path"], name="one_subtree_tally_per_day_and_unit"
            )
        ]
