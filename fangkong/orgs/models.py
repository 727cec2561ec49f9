"""The organisation tree, the people in it and their import jobs."""

import datetime as dt

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fangkong.core.models import TimeStampedModel
from fangkong.core.paths import PathField


class UnitKind(models.TextChoices):
    """Kinds of org unit. Extend by adding a member; the tree does not depend on them."""

    GROUP = "group", _("Group")
    SEGMENT = "segment", _("Segment")
    ENTERPRISE = "enterprise", _("Enterprise")
    PLANT = "plant", _("Plant / department")
    WORKSHOP = "workshop", _("Workshop")
    TEAM = "team", _("Team")
    COMMUNITY = "community", _("Community")
    BUILDING = "building", _("Building")
    HOUSEHOLD = "household", _("Household")
    SERVICE_CENTRE = "service_centre", _("Service centre")
    SERVICE_STATION = "service_station", _("Service station")
    WINDOW = "window", _("Service window")
    CHECKPOINT = "checkpoint", _("Checkpoint")
    QUARANTINE_SITE = "quarantine_site", _("Quarantine site")


# A unit's place names its ancestors up to its enterprise, at most three of them: enterprises
# are unique in a group, while plants, workshops and teams repeat in every one of them
# (山东铝业有限公司 › 氧化铝厂 › 一车间 › 甲班; 中铝山西新材料有限公司 › 翠溪北区 › 1号楼 ›
# 1单元101室). Lists load them with ``place_related``.
PLACE_ANCESTORS = 3
PLACE_SEPARATOR = " › "


def place_related(field: str = "") -> str:
    """Return the ``select_related`` path that loads what ``OrgUnit.place`` names.

    ``field`` is how the rows reach their unit ("unit", "person__unit"); "" for units.
    """
    return "__".join([*([field] if field else []), *["parent"] * PLACE_ANCESTORS])


class OrgUnitQuerySet(models.QuerySet["OrgUnit"]):
    def open_on(self, day: dt.date | None = None) -> "OrgUnitQuerySet":
        """Units in force on ``day`` (today by default)."""
        day = day or timezone.localdate()
        return self.filter(valid_from__lte=day).filter(
            models.Q(valid_to__isnull=True) | models.Q(valid_to__gt=day)
        )


class OrgUnit(TimeStampedModel):
    """A node of the org tree. ``path`` lists the ids of its ancestors and itself."""

    kind = models.CharField(_("kind"), max_length=32, choices=UnitKind.choices)
    code = models.CharField(_("code"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=128)
    name_initials = models.CharField(_("pinyin initials"), max_length=128, blank=True)
    name_pinyin = models.CharField(_("pinyin"), max_length=512, blank=True)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    path = PathField(_("path"), max_length=255, unique=True, editable=False)
    depth = models.PositiveSmallIntegerField(_("depth"), default=0, editable=False)
    valid_from = models.DateField(_("effective from"), default=timezone.localdate)
    valid_to = models.DateField(_("closed on"), null=True, blank=True)

    objects = OrgUnitQuerySet.as_manager()

    class Meta:
        verbose_name = _("org unit")
        verbose_name_plural = _("org units")
        ordering = ["path"]
        indexes = [
            models.Index(fields=["parent", "name"]),
            models.Index(fields=["name_initials"]),
            # Units of some kinds in a subtree (the units that report daily): a seek per kind,
            # read from the index alone (the period says which report on a day; the roll-up
            # and its trend read 2,198 of them for the group at seeds scale).
            models.Index(
                fields=["kind", "path", "valid_from", "valid_to", "depth", "id"],
                name="orgunit_kind_path_period",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(valid_to__isnull=True)
                | models.Q(valid_to__gte=models.F("valid_from")),
                name="orgunit_period_ordered",
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_open(self) -> bool:
        return self.valid_to is None or self.valid_to > timezone.localdate()

    @property
    def place_ancestors(self) -> list[str]:
        """Names of the ancestors that tell same-named units apart, farthest first.

        Up to the enterprise (included) and at most ``PLACE_ANCESTORS``; the root is left
        out, every unit shares it. Load the rows with ``place_related`` so that this reads
        no more rows.
        """
        names: list[str] = []
        unit = self
        for _step in range(PLACE_ANCESTORS):
            parent = unit.parent
            if parent is None or parent.parent_id is None:
                break
            names.append(parent.name)
            if parent.kind == UnitKind.ENTERPRISE:
                break
            unit = parent
        return names[::-1]

    @property
    def place(self) -> str:
        """The unit's name after its ancestors: 山东铝业有限公司 › 氧化铝厂 › 一车间 › 甲班."""
        return PLACE_SEPARATOR.join([*self.place_ancestors, self.name])


class Gender(models.TextChoices):
    MALE = "male", _("Male")
    FEMALE = "female", _("Female")
    UNKNOWN = "unknown", _("Unknown")


class IdType(models.TextChoices):
    RESIDENT_ID = "resident_id", _("Resident ID card")
    PASSPORT = "passport", _("Passport")
    HK_MACAO_PERMIT = "hk_macao_permit", _("Mainland travel permit (HK/Macao)")
    TAIWAN_PERMIT = "taiwan_permit", _("Mainland travel permit (Taiwan)")
    OTHER = "other", _("Other document")


class PersonCategory(models.TextChoices):
    EMPLOYEE = "employee", _("Employee")
    RESIDENT = "resident", _("Resident")
    CONTRACTOR = "contractor", _("Contractor")
    RETIREE = "retiree", _("Retiree")
    VISITOR = "visitor", _("Visitor")


class Person(TimeStampedModel):
    """An employee, resident, contractor, retiree or visitor.

    ``unit_path`` copies the employing unit's path so subtree head-counts are one indexed
    range count; the orgs services keep it in step when units move.
    """

    name = models.CharField(_("name"), max_length=64)
    name_initials = models.CharField(_("pinyin initials"), max_length=64, blank=True)
    gender = models.CharField(
        _("gender"), max_length=8, choices=Gender.choices, default=Gender.UNKNOWN
    )
    # Taken from a resident ID when left empty, and checked against it (orgs.validators).
    birth_date = models.DateField(_("date of birth"), null=True, blank=True)
    id_type = models.CharField(
        _("document type"), max_length=20, choices=IdType.choices, default=IdType.RESIDENT_ID
    )
    id_number = models.CharField(_("document number"), max_length=32, db_index=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    category = models.CharField(
        _("category"),
        max_length=16,
        choices=PersonCategory.choices,
        default=PersonCategory.EMPLOYEE,
    )
    unit = models.ForeignKey(
        OrgUnit, verbose_name=_("unit"), on_delete=models.PROTECT, related_name="people"
    )
    unit_path = PathField(_("unit path"), max_length=255, editable=False)
    household = models.ForeignKey(
        OrgUnit,
        verbose_name=_("household"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="household_members",
    )
    is_party_member = models.BooleanField(_("party member"), default=False)
    joined_on = models.DateField(_("joined on"), null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    merged_into = models.ForeignKey(
        "self",
        verbose_name=_("merged into"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="merged_records",
    )

    class Meta:
        verbose_name = _("person")
        verbose_name_plural = _("people")
        ordering = ["unit_path", "name", "id"]
        indexes = [
            models.Index(fields=["unit_path", "is_active"], name="person_path_active"),
            # Who joined after a day (expected head-counts of past days): few rows, a seek.
            models.Index(fields=["joined_on"], name="person_joined_on"),
            # The few who left or were merged (declarations of people no longer expected).
            models.Index(
                fields=["id"], condition=models.Q(is_active=False), name="person_inactive"
            ),
            models.Index(fields=["name_initials"]),
            models.Index(fields=["name"]),
        ]

    def __str__(self) -> str:
        return self.name


class UnitHeadcount(models.Model):
    """The active people employed directly in one unit (by path), kept by the database.

    Triggers on the people table (migration ``orgs/0006``) add and subtract in the writing
    statement itself, so every write counts, however it is made: services, the import's
    COPY, demo data, a unit move's path rewrite. A subtree's head-count sums one row per
    unit with people instead of counting every person: the tree and the roll-up then cost
    about a sixth of the rows and no longer grow with the people.
    """

    unit_path = PathField(_("unit path"), max_length=255, primary_key=True)
    n = models.IntegerField(_("people"), default=0)

    class Meta:
        verbose_name = _("unit head-count")
        verbose_name_plural = _("unit head-counts")
        indexes = [
            # Range sums read the index alone.
            models.Index(fields=["unit_path", "n"], name="headcount_path_n"),
        ]

    def __str__(self) -> str:
        return f"{self.unit_path} {self.n}"


class ImportJob(TimeStampedModel):
    """One upload of org units or people: preview, then commit all rows or none."""

    class Kind(models.TextChoices):
        UNITS = "units", _("Org units")
        PEOPLE = "people", _("People")

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        VALIDATING = "validating", _("Checking")
        PREVIEW = "preview", _("Ready to commit")
        COMMITTING = "committing", _("Importing")
        DONE = "done", _("Imported")
        FAILED = "failed", _("Failed")

    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.PROTECT,
        related_name="import_jobs",
    )
    scope_unit = models.ForeignKey(
        OrgUnit,
        verbose_name=_("within unit"),
        on_delete=models.PROTECT,
        related_name="import_jobs",
    )
    scope_path = PathField(_("scope path"), max_length=255, editable=False)
    file = models.FileField(_("file"), upload_to="imports/%Y/%m/")
    original_name = models.CharField(_("file name"), max_length=255)
    rows_total = models.PositiveIntegerField(_("rows"), default=0)
    rows_done = models.PositiveIntegerField(_("rows processed"), default=0)
    rows_bad = models.PositiveIntegerField(_("rejected rows"), default=0)
    rows_imported = models.PositiveIntegerField(_("imported rows"), default=0)
    errors = models.JSONField(_("errors"), default=list, blank=True)
    header_row = models.PositiveIntegerField(_("header row"), default=1)
    ignored_columns = models.JSONField(_("ignored columns"), default=list, blank=True)
    message = models.TextField(_("message"), blank=True)
    skip_bad_rows = models.BooleanField(_("import the valid rows only"), default=False)
    language = models.CharField(_("language"), max_length=16, default="zh-hans")

    class Meta:
        verbose_name = _("import job")
        verbose_name_plural = _("import jobs")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.original_name

    @property
    def progress_percent(self) -> int:
        if not self.rows_total:
            return 0
        return min(100, round(100 * self.rows_done / self.rows_total))
