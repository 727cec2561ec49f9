"""Service evaluation (好差评): the service catalogue, where each service is offered,
windows and their staff, signed badge codes, service cases (办件) with one rating each,
the jurisdiction profiles that set the bad-review clocks, and the bad reviews' records.

Centres, stations and windows are org units (``UnitKind.SERVICE_CENTRE`` …); a ``Window``
row adds its number and the badge of the window itself. A ``Rating`` copies the case's
unit path, window, staff member and service so the figures read one table.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from fangkong.core.links import new_link_key
from fangkong.core.models import TimeStampedModel
from fangkong.core.paths import PathField
from fangkong.ledger.models import Item
from fangkong.orgs.models import OrgUnit


class Service(TimeStampedModel):
    """One item of the catalogue (事项)."""

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)
    category = models.CharField(pgettext_lazy("service", "category"), max_length=32, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("service")
        verbose_name_plural = _("services")
        ordering = ["category", "code"]

    def __str__(self) -> str:
        return self.name


class Window(TimeStampedModel):
    """A service window (窗口) of a centre or station."""

    unit = models.ForeignKey(
        OrgUnit, verbose_name=_("centre or station"), on_delete=models.PROTECT, related_name="+"
    )
    unit_path = PathField(_("unit path"), max_length=255, editable=False, db_index=True)
    number = models.CharField(_("window number"), max_length=16)
    name = models.CharField(_("name"), max_length=64, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("window")
        verbose_name_plural = _("windows")
        ordering = ["unit_path", "number"]
        constraints = [
            models.UniqueConstraint(fields=["unit", "number"], name="eval_window_number_once")
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.name}".strip()


class Offering(models.Model):
    """A service offered at a centre or station (and, where known, at one of its windows)."""

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="offerings")
    unit = models.ForeignKey(OrgUnit, on_delete=models.CASCADE, related_name="+")
    unit_path = PathField(_("unit path"), max_length=255, editable=False)
    window = models.ForeignKey(
        Window, null=True, blank=True, on_delete=models.CASCADE, related_name="offerings"
    )

    class Meta:
        verbose_name = _("offering")
        verbose_name_plural = _("offerings")
        constraints = [
            models.UniqueConstraint(
                fields=["service", "unit", "window"], name="eval_offering_once"
            ),
            models.UniqueConstraint(
                fields=["service", "unit"],
                condition=Q(window__isnull=True),
                name="eval_offering_unit_once",
            ),
        ]
        indexes = [models.Index(fields=["unit_path", "service"], name="eval_offering_path")]

    def __str__(self) -> str:
        return f"{self.service_id}@{self.unit_id}"


class Staff(TimeStampedModel):
    """A window-staff account assigned to a window, with the name on their badge."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("account"),
        on_delete=models.PROTECT,
        related_name="evaluation_staff",
    )
    window = models.ForeignKey(
        Window, verbose_name=_("window"), on_delete=models.PROTECT, related_name="staff"
    )
    name = models.CharField(_("name"), max_length=64)
    staff_number = models.CharField(_("staff number"), max_length=32, unique=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("window staff member")
        verbose_name_plural = _("window staff")
        ordering = ["staff_number"]

    def __str__(self) -> str:
        return f"{self.staff_number} {self.name}"


class Channel(models.TextChoices):
    BADGE = "badge", _("Badge QR code")
    ACCOUNT = "account", _("Official-account menu")
    KIOSK = "kiosk", _("Window tablet")
    ONLINE = "online", _("Link after an online service")


class Badge(models.Model):
    """A signed code for a staff member, a window or a station: the link's key is random and
    the URL carries it signed (HMAC); revoking the row kills the code (a member who left)."""

    class Holder(models.TextChoices):
        STAFF = "staff", _("Staff member")
        WINDOW = "window", _("Window")
        STATION = "station", _("Centre or station")

    holder = models.CharField(_("holder"), max_length=8, choices=Holder.choices)
    unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    unit_path = PathField(_("unit path"), max_length=255, editable=False)
    window = models.ForeignKey(
        Window, null=True, blank=True, on_delete=models.PROTECT, related_name="badges"
    )
    staff = models.ForeignKey(
        Staff, null=True, blank=True, on_delete=models.PROTECT, related_name="badges"
    )
    channel = models.CharField(
        _("channel"), max_length=8, choices=Channel.choices, default=Channel.BADGE
    )
    key = models.CharField(_("key"), max_length=32, unique=True, default=new_link_key)
    issued_at = models.DateTimeField(_("issued at"), auto_now_add=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("badge code")
        verbose_name_plural = _("badge codes")

    def __str__(self) -> str:
        return f"{self.holder} {self.pk}"


class Case(models.Model):
    """A service case (办件): one service done for one person, rated once."""

    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="cases")
    unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    unit_path = PathField(_("unit path"), max_length=255, editable=False)
    window = models.ForeignKey(
        Window, null=True, blank=True, on_delete=models.PROTECT, related_name="cases"
    )
    staff = models.ForeignKey(
        Staff, null=True, blank=True, on_delete=models.PROTECT, related_name="cases"
    )
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    person_name = models.CharField(_("name"), max_length=64, blank=True)
    person_phone = models.CharField(_("phone"), max_length=20, blank=True)
    key = models.CharField(_("rating key"), max_length=32, unique=True, default=new_link_key)
    created_at = models.DateTimeField(_("registered at"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("registered by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # The request that made a face-to-face case from a badge scan, so a retry does not
    # make a second one.
    request_id = models.UUIDField(_("request id"), null=True, blank=True, unique=True)

    class Meta:
        verbose_name = _("service case")
        verbose_name_plural = _("service cases")
        indexes = [
            models.Index(fields=["unit_path", "created_at"], name="eval_case_path_at"),
            # the figures count cases from this index alone, grouped as the ratings are
            models.Index(
                fields=["created_at", "unit_path", "window", "staff", "service"],
                name="eval_case_figures",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.pk} {self.service_id}"


class Level(models.IntegerChoices):
    """The five levels of 国办发〔2019〕51号; 1 and 2 are bad reviews (差评)."""

    VERY_SATISFIED = 5, _("Very satisfied")
    SATISFIED = 4, _("Satisfied")
    BASICALLY = 3, _("Basically satisfied")
    DISSATISFIED = 2, _("Dissatisfied")
    VERY_DISSATISFIED = 1, _("Very dissatisfied")


BAD_LEVELS = frozenset({Level.DISSATISFIED, Level.VERY_DISSATISFIED})
GOOD_LEVELS = frozenset({Level.VERY_SATISFIED, Level.SATISFIED})


class TagSet(models.Model):
    """The tags offered at each level, versioned: a rating keeps the version it was given on."""

    version = models.PositiveIntegerField(_("version"), unique=True)
    tags = models.JSONField(_("tags by level"))  # {"1": ["态度不好", …], …, "5": [...]}
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("tag set")
        verbose_name_plural = _("tag sets")
        ordering = ["-version"]

    def __str__(self) -> str:
        return f"v{self.version}"


class Rating(models.Model):
    """The one rating of a case, with the case's facts copied for the figures.

    An upheld appeal marks it ``excluded``: it leaves the figures and stays in history.
    """

    case = models.OneToOneField(Case, on_delete=models.PROTECT, related_name="rating")
    level = models.PositiveSmallIntegerField(_("level"), choices=Level.choices)
    tags = models.JSONField(_("tags"), default=list, blank=True)
    tag_set = models.ForeignKey(
        TagSet, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    text = models.TextField(_("comment"), blank=True)
    photo = models.ImageField(_("photo"), upload_to="ratings/%Y/%m/", null=True, blank=True)
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    unit_path = PathField(_("unit path"), max_length=255, editable=False)
    window = models.ForeignKey(
        Window, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    staff = models.ForeignKey(
        Staff, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="+")
    rated_at = models.DateTimeField(_("rated at"))
    device = models.CharField(_("device"), max_length=64, blank=True)
    excluded = models.BooleanField(_("excluded by an upheld appeal"), default=False)

    class Meta:
        verbose_name = _("rating")
        verbose_name_plural = _("ratings")
        indexes = [
            models.Index(fields=["unit_path", "rated_at"], name="eval_rating_path_at"),
            models.Index(fields=["staff", "rated_at"], name="eval_rating_staff_at"),
            # The figures read this index alone (no table rows): a period's ratings of a
            # subtree counted per level and grouped by window, staff or service. The period
            # leads: a path range would leave the rest of the key unused for the seek.
            models.Index(
                fields=["rated_at", "unit_path", "level", "excluded", "window", "staff", "service"],
                name="eval_rating_figures",
            ),
            models.Index(
                fields=["unit_path"], condition=Q(excluded=True), name="eval_rating_excluded"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case_id}={self.level}"

    @property
    def is_bad(self) -> bool:
        return self.level in BAD_LEVELS


class Profile(models.Model):
    """A jurisdiction's clocks for bad reviews (the seed's: 24 h callback, 7 working days).

    The one marked ``is_active`` applies to new bad reviews; presets exist for Zhejiang
    and Dezhou (migration 0002) and admins edit them.
    """

    name = models.CharField(_("name"), max_length=64, unique=True)
    callback_hours = models.PositiveSmallIntegerField(_("callback within (hours)"))
    rectify_working_days = models.PositiveSmallIntegerField(_("rectify within (working days)"))
    follow_up_days = models.PositiveSmallIntegerField(_("follow-up review waits (days)"), default=7)
    is_active = models.BooleanField(_("in use"), default=False)

    class Meta:
        verbose_name = _("jurisdiction profile")
        verbose_name_plural = _("jurisdiction profiles")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_active"], condition=Q(is_active=True), name="eval_one_active_profile"
            )
        ]

    def __str__(self) -> str:
        return self.name


class Outcome(models.TextChoices):
    FIXED_AT_ONCE = "fixed", _("Fixed at once")
    RECTIFY = "rectify", _("Rectify by the deadline")
    EXPLAINED = "explained", _("Explained, no fault")
    APPEAL = "appeal", _("Appeal")


class BadReview(models.Model):
    """A bad rating followed to the end: the ledger item, the callback, the outcome, the
    appeal's decision and the follow-up review (追评)."""

    rating = models.OneToOneField(Rating, on_delete=models.PROTECT, related_name="bad_review")
    item = models.OneToOneField(
        Item, null=True, blank=True, on_delete=models.PROTECT, related_name="bad_review"
    )
    profile_name = models.CharField(_("jurisdiction profile"), max_length=64)
    callback_due_at = models.DateTimeField(_("callback due"))
    # The first callback's time, kept by callback_record: the figures count callbacks and
    # those on time from this column instead of searching the callbacks.
    first_callback_at = models.DateTimeField(_("first called back at"), null=True, blank=True)
    # The rating's facts the figures filter and group by, copied so that reading a year's bad
    # reviews needs no join; ``counted`` is False once an upheld appeal excluded the rating.
    rated_at = models.DateTimeField(_("rated at"), null=True, blank=True)
    unit_path = PathField(_("unit path"), max_length=255, blank=True, default="")
    window_id = models.PositiveBigIntegerField(null=True, blank=True)
    staff_id = models.PositiveBigIntegerField(null=True, blank=True)
    service_id = models.PositiveBigIntegerField(null=True, blank=True)
    counted = models.BooleanField(_("counted in the figures"), default=True)
    rectify_due_at = models.DateTimeField(_("rectification due"))
    follow_up_days = models.PositiveSmallIntegerField(_("follow-up review waits (days)"))
    outcome = models.CharField(_("outcome"), max_length=12, choices=Outcome.choices, blank=True)
    outcome_text = models.TextField(_("measures or explanation"), blank=True)
    outcome_at = models.DateTimeField(_("outcome at"), null=True, blank=True)
    problem = models.ForeignKey(
        "rectification.Problem",
        verbose_name=_("rectification problem"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="bad_reviews",
    )
    rectified_at = models.DateTimeField(_("rectified at"), null=True, blank=True)
    appeal_upheld = models.BooleanField(_("appeal upheld"), null=True, blank=True)
    appeal_decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("appeal decided by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    appeal_note = models.TextField(_("appeal decision"), blank=True)
    reply = models.TextField(_("public reply"), blank=True)
    follow_up_key = models.CharField(
        _("follow-up key"), max_length=32, unique=True, default=new_link_key
    )
    follow_up_sent_at = models.DateTimeField(_("follow-up link given at"), null=True, blank=True)
    follow_up_level = models.PositiveSmallIntegerField(
        _("follow-up review"), choices=Level.choices, null=True, blank=True
    )
    follow_up_text = models.TextField(_("follow-up comment"), blank=True)
    follow_up_at = models.DateTimeField(_("follow-up at"), null=True, blank=True)

    class Meta:
        verbose_name = _("bad review")
        verbose_name_plural = _("bad reviews")
        indexes = [models.Index(fields=["unit_path", "rated_at"], name="eval_bad_path_at")]

    def __str__(self) -> str:
        return f"bad review {self.pk}"


class Callback(models.Model):
    """One callback (回访) of a bad review: who, when, how, reached or not, what was said."""

    class How(models.TextChoices):
        PHONE = "phone", pgettext_lazy("callback", "Phone")
        VISIT = "visit", pgettext_lazy("callback", "Visit")

    bad_review = models.ForeignKey(BadReview, on_delete=models.CASCADE, related_name="callbacks")
    caller = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("called by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    at = models.DateTimeField(_("called at"))
    how = models.CharField(_("how"), max_length=8, choices=How.choices)
    reached = models.BooleanField(_("reached"))
    said = models.TextField(_("what the person said"), blank=True)

    class Meta:
        verbose_name = _("callback")
        verbose_name_plural = _("callbacks")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.bad_review_id} {self.at:%Y-%m-%d %H:%M}"


class MonthlyReport(models.Model):
    """The published monthly report (PDF, in Chinese) of a centre or station, made on the
    1st for the month before; the public page lists them."""

    unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    month = models.DateField(_("month"))  # its first day
    pdf = models.BinaryField(_("PDF"))
    figures = models.JSONField(_("figures"), default=dict)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("monthly report")
        verbose_name_plural = _("monthly reports")
        ordering = ["unit", "-month"]
        constraints = [models.UniqueConstraint(fields=["unit", "month"], name="eval_report_once")]

    def __str__(self) -> str:
        return f"{self.unit_id} {self.month:%Y-%m}"


class RankingAlert(models.Model):
    """A window or staff member at the bottom of its centre's ranking two months running,
    told to the centre's head and supervisors once (the record makes the job idempotent)."""

    centre = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    month = models.DateField(_("month"))  # the second of the two months, its first day
    window = models.ForeignKey(
        Window, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    staff = models.ForeignKey(
        Staff, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    sent_at = models.DateTimeField(_("sent at"), auto_now_add=True)

    class Meta:
        verbose_name = _("ranking alert")
        verbose_name_plural = _("ranking alerts")
        constraints = [
            # one constraint per holder: NULLs never clash in a unique constraint
            models.UniqueConstraint(
                fields=["centre", "month", "window"],
                condition=Q(window__isnull=False),
                name="eval_ranking_alert_window_once",
            ),
            models.UniqueConstraint(
                fields=["centre", "month", "staff"],
                condition=Q(staff__isnull=False),
                name="eval_ranking_alert_staff_once",
            ),
            models.CheckConstraint(
                condition=Q(window__isnull=True) ^ Q(staff__isnull=True),
                name="eval_ranking_alert_one_holder",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.centre_id} {self.month:%Y-%m}"


class MonthTally(models.Model):
    """Counts per local month and (unit, window, staff member, service), kept exact in the
    transaction of every write that changes them (a case, a rating, an upheld appeal), so
    the figures of whole months read a few thousand rows instead of every rating.

    ``window_id``, ``staff_id`` and ``service_id`` are plain numbers, 0 for none, so the
    unique key holds on both databases. ``cases_excluded`` counts the cases of the month
    whose rating an upheld appeal excluded (the 主动评价率 leaves them out).
    """

    month = models.DateField(_("month"))
    unit_path = PathField(_("unit path"), max_length=255)
    window_id = models.PositiveBigIntegerField(_("window"), default=0)
    staff_id = models.PositiveBigIntegerField(_("staff member"), default=0)
    service_id = models.PositiveBigIntegerField(_("service"), default=0)
    cases = models.IntegerField(_("cases"), default=0)
    cases_excluded = models.IntegerField(_("cases whose rating was excluded"), default=0)
    ratings = models.IntegerField(_("ratings counted"), default=0)
    upheld = models.IntegerField(_("appeals upheld"), default=0)
    l1 = models.IntegerField(default=0)
    l2 = models.IntegerField(default=0)
    l3 = models.IntegerField(default=0)
    l4 = models.IntegerField(default=0)
    l5 = models.IntegerField(default=0)

    class Meta:
        verbose_name = _("month tally")
        verbose_name_plural = _("month tallies")
        constraints = [
            models.UniqueConstraint(
                fields=["month", "unit_path", "window_id", "staff_id", "service_id"],
                name="eval_month_tally_once",
            )
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.unit_path}"
