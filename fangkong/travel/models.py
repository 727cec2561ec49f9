"""Travel: itineraries, returnee cards, the versioned risk-area list, return rules, decisions."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from fangkong.core.models import Division, TimeStampedModel
from fangkong.health.models import Contact, FiledBy
from fangkong.orgs.models import OrgUnit, Person


class RiskLevel(models.TextChoices):
    LOW = "low", _("Low risk")
    MEDIUM = "medium", _("Medium risk")
    HIGH = "high", _("High risk")


# Comparing levels: a raise is a move to a higher rank ("none" = not on the list = 0).
LEVEL_RANK = {"": 0, RiskLevel.LOW: 1, RiskLevel.MEDIUM: 2, RiskLevel.HIGH: 3}
# Levels whose itineraries are exposures worth a tracking card.
EXPOSURE_LEVELS = (RiskLevel.MEDIUM, RiskLevel.HIGH)


class Transport(models.TextChoices):
    TRAIN = "train", _("Train")
    FLIGHT = "flight", _("Flight")
    CAR = "car", _("Car")
    BUS = "bus", _("Coach / bus")
    OTHER = "other", _("Other")


class Outcome(models.TextChoices):
    MAY_RETURN = "may_return", _("May return")
    MUST_QUARANTINE = "must_quarantine", _("Must quarantine")
    WAITING = "waiting", _("Waiting")


class QuarantineMode(models.TextChoices):
    CENTRALISED = "centralised", _("Centralised quarantine")
    HOME = "home", _("Home quarantine")


class ReturneeCard(TimeStampedModel):
    """返岗人员信息卡: where a returning person has been and how they are, before coming back.

    One open card per person; filing again updates it. ``outcome`` copies the current
    decision so the three lists are one indexed filter each.
    """

    person = models.ForeignKey(
        Person, verbose_name=_("person"), on_delete=models.PROTECT, related_name="returnee_cards"
    )
    planned_return = models.DateField(_("planned return to post"), null=True, blank=True)
    coming_from = models.ForeignKey(
        Division,
        verbose_name=_("coming back from"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    no_travel = models.BooleanField(
        _("stayed at home throughout"),
        default=False,
        help_text=_("Tick when the person did not leave the home city in the look-back window."),
    )
    fever = models.BooleanField(_("fever in the look-back window"), null=True, blank=True)
    symptoms = models.BooleanField(_("cough, fatigue or other symptoms"), null=True, blank=True)
    contact = models.CharField(
        _("contact with a case"), max_length=16, choices=Contact.choices, blank=True
    )
    note = models.TextField(_("note"), blank=True)
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
    )
    is_open = models.BooleanField(_("open"), default=True)
    outcome = models.CharField(
        _("decision"), max_length=16, choices=Outcome.choices, default=Outcome.WAITING
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)

    class Meta:
        ordering = ["-updated_at", "-id"]
        verbose_name = _("returnee information card")
        verbose_name_plural = _("returnee information cards")
        constraints = [
            models.UniqueConstraint(
                fields=["person"], condition=models.Q(is_open=True), name="one_open_card_per_person"
            )
        ]
        indexes = [models.Index(fields=["outcome", "planned_return"], name="card_outcome_day")]

    def __str__(self) -> str:
        return f"{self.person_id} → {self.planned_return}"


class Itinerary(TimeStampedModel):
    """One stay or trip: a region (division code) between two days, and how the person travelled."""

    class Source(models.TextChoices):
        CARD = "card", _("Returnee card")
        HAND = "hand", _("Declared by hand")

    person = models.ForeignKey(
        Person, verbose_name=_("person"), on_delete=models.PROTECT, related_name="itineraries"
    )
    card = models.ForeignKey(
        ReturneeCard,
        verbose_name=_("returnee card"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="itineraries",
    )
    division = models.ForeignKey(
        Division, verbose_name=_("region"), on_delete=models.PROTECT, related_name="+"
    )
    from_day = models.DateField(_("from"))
    to_day = models.DateField(_("to"))
    transport = models.CharField(
        _("transport"), max_length=8, choices=Transport.choices, default=Transport.OTHER
    )
    transport_number = models.CharField(_("train / flight number"), max_length=32, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    source = models.CharField(
        _("source"), max_length=8, choices=Source.choices, default=Source.HAND
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("entered by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["from_day", "id"]
        verbose_name = _("itinerary entry")
        verbose_name_plural = _("itinerary entries")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(to_day__gte=models.F("from_day")), name="itinerary_days_ordered"
            )
        ]
        indexes = [
            # The re-check: a code range (a province or city covers its counties) and the
            # stays that end inside the look-back window — one range seek per raise.
            models.Index(fields=["division", "to_day"], name="itinerary_division_to"),
            models.Index(fields=["person", "from_day"], name="itinerary_person_from"),
        ]

    def __str__(self) -> str:
        return f"{self.person_id} {self.division_id} {self.from_day}–{self.to_day}"


class RiskAreaBatch(models.Model):
    """One version of the risk-area list: a manual change or an imported notice."""

    class Kind(models.TextChoices):
        MANUAL = "manual", _("Entered by hand")
        IMPORT = "import", _("Imported from Excel")

    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    notice = models.CharField(_("notice / source"), max_length=200, blank=True)
    original_name = models.CharField(_("file name"), max_length=255, blank=True)
    rows = models.PositiveIntegerField(_("rows"), default=0)
    raised = models.PositiveIntegerField(_("areas raised"), default=0)
    exposures = models.PositiveIntegerField(_("exposures found"), default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("entered by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("entered at"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("risk-area list version")
        verbose_name_plural = _("risk-area list versions")

    def __str__(self) -> str:
        return f"v{self.pk} {self.notice}"


class RiskArea(models.Model):
    """A region's risk level over a period; a change ends this row and starts a new one.

    The period is half-open: in force from ``effective_from`` up to, not including,
    ``effective_to`` (the day a later row took over; null while in force). Stays count at
    this level from ``stays_since`` (on or before ``effective_from``) up to the end of the
    period. A province or city code covers its counties.
    """

    division = models.ForeignKey(
        Division, verbose_name=_("region"), on_delete=models.PROTECT, related_name="+"
    )
    level = models.CharField(_("risk level"), max_length=8, choices=RiskLevel.choices)
    effective_from = models.DateField(_("effective from"))
    effective_to = models.DateField(_("replaced on"), null=True, blank=True)
    # A raise is about the people who were there before it: stays from this day on count
    # at this level (by default the look-back window before the raise).
    stays_since = models.DateField(
        _("applies to stays since"),
        help_text=_("Stays in the region from this day on count at this level."),
    )
    batch = models.ForeignKey(
        RiskAreaBatch, verbose_name=_("version"), on_delete=models.PROTECT, related_name="areas"
    )

    class Meta:
        ordering = ["division_id", "-effective_from", "-id"]
        verbose_name = _("risk area")
        verbose_name_plural = _("risk areas")
        constraints = [
            models.UniqueConstraint(
                fields=["division"],
                condition=models.Q(effective_to__isnull=True),
                name="one_current_level_per_region",
            ),
            models.CheckConstraint(
                condition=models.Q(effective_to__isnull=True)
                | models.Q(effective_to__gte=models.F("effective_from")),
                name="risk_area_period_ordered",
            ),
            models.CheckConstraint(
                condition=models.Q(stays_since__lte=models.F("effective_from")),
                name="risk_area_stays_before_effect",
            ),
        ]
        indexes = [models.Index(fields=["level", "effective_from"], name="risk_area_level")]

    def __str__(self) -> str:
        return f"{self.division_id} {self.level} {self.effective_from}"


class ReturnRule(TimeStampedModel):
    """Measures for returnees from an area of one risk level: the group default or a unit's.

    ``unit`` empty = the group-wide rule; otherwise an enterprise's (or any unit's)
    override (一企一策): the override of the nearest ancestor of the person's unit wins.
    """

    unit = models.ForeignKey(
        OrgUnit,
        verbose_name=_("unit"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="return_rules",
    )
    level = models.CharField(_("risk level"), max_length=8, choices=RiskLevel.choices)
    quarantine_days = models.PositiveSmallIntegerField(
        _("quarantine days"),
        null=True,
        blank=True,
        help_text=_("Blank: the outbreak profile's days for this level."),
    )
    mode = models.CharField(
        _("quarantine mode"),
        max_length=16,
        choices=QuarantineMode.choices,
        default=QuarantineMode.CENTRALISED,
    )
    tests = models.PositiveSmallIntegerField(_("number of tests"), default=0)
    monitoring_days = models.PositiveSmallIntegerField(_("health-monitoring days"), default=0)
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        ordering = ["unit_id", "level"]
        verbose_name = _("return-to-post rule")
        verbose_name_plural = _("return-to-post rules")
        constraints = [
            models.UniqueConstraint(fields=["unit", "level"], name="one_rule_per_unit_level"),
            models.UniqueConstraint(
                fields=["level"],
                condition=models.Q(unit__isnull=True),
                name="one_group_rule_per_level",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.unit_id or 'group'} {self.level}"


class Decision(models.Model):
    """A returnee card's decision with what it was based on; the newest one is current."""

    card = models.ForeignKey(
        ReturneeCard, verbose_name=_("card"), on_delete=models.CASCADE, related_name="decisions"
    )
    outcome = models.CharField(_("decision"), max_length=16, choices=Outcome.choices)
    level = models.CharField(_("highest risk level"), max_length=8, blank=True)
    rule = models.ForeignKey(
        ReturnRule,
        verbose_name=_("rule"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    rule_label = models.CharField(_("rule applied"), max_length=200, blank=True)
    areas = models.JSONField(_("areas"), default=list, blank=True)
    quarantine_days = models.PositiveSmallIntegerField(_("quarantine days"), default=0)
    quarantine_until = models.DateField(_("quarantine until"), null=True, blank=True)
    mode = models.CharField(_("quarantine mode"), max_length=16, blank=True)
    tests = models.PositiveSmallIntegerField(_("number of tests"), default=0)
    monitoring_days = models.PositiveSmallIntegerField(_("health-monitoring days"), default=0)
    explanation = models.TextField(_("explanation"))
    decided_at = models.DateTimeField(_("decided at"), auto_now_add=True)

    class Meta:
        ordering = ["-decided_at", "-id"]
        verbose_name = _("return-to-post decision")
        verbose_name_plural = _("return-to-post decisions")

    def __str__(self) -> str:
        return f"{self.card_id} {self.outcome}"
