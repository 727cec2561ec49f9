"""Quarantine sites and rooms, placements of people in them (or at home), transport trips.

Scope copies: a site and a trip belong to a unit (``unit_path`` copies its path); a
placement follows its person (``unit_path`` copies the person's unit path) and keeps the
site's path too, so the site's staff see who is in their rooms. The receivers keep the
copies in step when units or people move.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from fangkong.core.models import TimeStampedModel
from fangkong.core.paths import PathField
from fangkong.orgs.models import OrgUnit, Person


class Site(TimeStampedModel):
    """A centralised quarantine site (集中隔离观察点), run by a unit."""

    class Kind(models.TextChoices):
        CENTRALISED = "centralised", _("Centralised quarantine site")

    name = models.CharField(_("name"), max_length=128)
    unit = models.ForeignKey(
        OrgUnit, verbose_name=_("unit"), on_delete=models.PROTECT, related_name="quarantine_sites"
    )
    unit_path = PathField(_("unit path"), max_length=255, editable=False, db_index=True)
    kind = models.CharField(
        _("kind"), max_length=16, choices=Kind.choices, default=Kind.CENTRALISED
    )
    address = models.CharField(_("address"), max_length=255, blank=True)
    contact_name = models.CharField(_("contact person"), max_length=64, blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=20, blank=True)
    is_active = models.BooleanField(_("in use"), default=True)

    class Meta:
        verbose_name = _("quarantine site")
        verbose_name_plural = _("quarantine sites")
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class Room(TimeStampedModel):
    """A room of a site with its number of beds."""

    site = models.ForeignKey(
        Site, verbose_name=_("site"), on_delete=models.PROTECT, related_name="rooms"
    )
    number = models.CharField(_("room"), max_length=32)
    capacity = models.PositiveSmallIntegerField(_("beds"), default=1)
    note = models.CharField(_("note"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("room")
        verbose_name_plural = _("rooms")
        ordering = ["site", "number"]
        constraints = [
            models.UniqueConstraint(fields=["site", "number"], name="room_number_unique_per_site")
        ]

    def __str__(self) -> str:
        return f"{self.site.name} {self.number}"


class Mode(models.TextChoices):
    CENTRALISED = "centralised", _("Centralised")
    HOME = "home", _("At home")


class Level(models.TextChoices):
    """The risk level that decided the quarantine days (OutbreakProfile.quarantine_days)."""

    HIGH = "high", _("High-risk area")
    MEDIUM = "medium", _("Medium-risk area")
    LOW = "low", _("Low-risk area")
    OTHER = "other", _("Other reason")


class Placement(TimeStampedModel):
    """One person's quarantine, from start to release; its ledger item holds the checks."""

    class State(models.TextChoices):
        ACTIVE = "active", _("In quarantine")
        RELEASING = "releasing", _("Awaiting release approval")
        RELEASED = "released", _("Released")
        CANCELLED = "cancelled", _("Cancelled")

    OPEN_STATES = (State.ACTIVE, State.RELEASING)

    person = models.ForeignKey(
        Person, verbose_name=_("person"), on_delete=models.PROTECT, related_name="placements"
    )
    unit_path = PathField(_("unit path"), max_length=255, editable=False)
    mode = models.CharField(_("mode"), max_length=16, choices=Mode.choices)
    site = models.ForeignKey(
        Site,
        verbose_name=_("site"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="placements",
    )
    site_path = PathField(_("site unit path"), max_length=255, blank=True, editable=False)
    room = models.ForeignKey(
        Room,
        verbose_name=_("room"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="placements",
    )
    address = models.CharField(_("home address"), max_length=255, blank=True)
    level = models.CharField(_("reason"), max_length=16, choices=Level.choices)
    reason = models.CharField(_("details"), max_length=255, blank=True)
    start = models.DateField(_("start"))
    days = models.PositiveSmallIntegerField(_("days"))
    planned_end = models.DateField(_("planned release"))
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.ACTIVE)
    released_at = models.DateTimeField(_("released at"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("quarantine placement")
        verbose_name_plural = _("quarantine placements")
        ordering = ["-start", "-id"]
        indexes = [
            models.Index(fields=["unit_path", "state"], name="placement_path_state"),
            models.Index(fields=["site_path", "state"], name="placement_site_state"),
            models.Index(fields=["room", "state"], name="placement_room_state"),
            models.Index(fields=["state", "planned_end"], name="placement_state_end"),
        ]
        constraints = [
            # One open placement per person, whatever the ledger says.
            models.UniqueConstraint(
                fields=["person"],
                condition=models.Q(state__in=["active", "releasing"]),
                name="placement_one_open_per_person",
            ),
            models.CheckConstraint(
                condition=models.Q(mode="home") | models.Q(site__isnull=False),
                name="placement_centralised_has_site",
            ),
            models.CheckConstraint(
                condition=models.Q(planned_end__gte=models.F("start")),
                name="placement_end_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person.name} {self.start:%Y-%m-%d}"

    @property
    def is_open(self) -> bool:
        return self.state in self.OPEN_STATES

    @property
    def where(self) -> str:
        """Site and room, or "at home"."""
        if self.mode == Mode.HOME:
            return str(Mode.HOME.label)
        parts = (self.site.name if self.site else "", self.room.number if self.room else "")
        return " ".join(part for part in parts if part)


class Trip(TimeStampedModel):
    """A transport run (转运): who was carried, in which vehicle, by whom, from where to where."""

    unit = models.ForeignKey(
        OrgUnit, verbose_name=_("unit"), on_delete=models.PROTECT, related_name="quarantine_trips"
    )
    unit_path = PathField(_("unit path"), max_length=255, editable=False, db_index=True)
    site = models.ForeignKey(
        Site,
        verbose_name=_("to site"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="trips",
    )
    vehicle_plate = models.CharField(_("vehicle plate"), max_length=16)
    driver_name = models.CharField(_("driver"), max_length=64)
    driver_phone = models.CharField(_("driver phone"), max_length=20, blank=True)
    origin = models.CharField(_("from"), max_length=128)
    destination = models.CharField(_("to"), max_length=128)
    departed_at = models.DateTimeField(_("departed at"))
    arrived_at = models.DateTimeField(_("arrived at"), null=True, blank=True)
    people = models.ManyToManyField(
        Person, verbose_name=_("people carried"), related_name="quarantine_trips"
    )
    note = models.CharField(_("note"), max_length=255, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("transport trip")
        verbose_name_plural = _("transport trips")
        ordering = ["-departed_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(arrived_at__isnull=True)
                | models.Q(arrived_at__gte=models.F("departed_at")),
                name="trip_arrives_after_departure",
            )
        ]

    def __str__(self) -> str:
        return f"{self.vehicle_plate} {self.departed_at:%Y-%m-%d %H:%M}"
