"""Checkpoints (卡口), their site's policy, the gate's log, visitors, the watch list, rosters.

Scope copies: everything belongs to a site (an org unit: a plant or a community) and keeps
its path in ``site_path``; a guard, admin or supervisor whose role covers the site acts
there. The receivers keep the copies in step when units move.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from fangkong.core.models import TimeStampedModel
from fangkong.core.paths import PathField
from fangkong.orgs.models import OrgUnit, Person

# The colours a site admits when nobody has changed its policy (the seed default).
DEFAULT_ADMIT_COLOURS = ["green"]


def default_admit_colours() -> list[str]:
    return list(DEFAULT_ADMIT_COLOURS)


class SitePolicy(TimeStampedModel):
    """What a site's checkpoints admit: status colours, printed passes, outsiders."""

    site = models.OneToOneField(
        OrgUnit, verbose_name=_("site"), on_delete=models.PROTECT, related_name="gate_policy"
    )
    site_path = PathField(_("site path"), max_length=255, editable=False, db_index=True)
    admit_colours = models.JSONField(_("status colours admitted"), default=default_admit_colours)
    refuse_printed = models.BooleanField(_("refuse printed passes"), default=False)
    refuse_without_device_key = models.BooleanField(
        _("refuse passes without a device key"), default=False
    )
    outsiders_banned = models.BooleanField(_("outsiders banned"), default=False)

    class Meta:
        verbose_name = _("site gate policy")
        verbose_name_plural = _("site gate policies")

    def __str__(self) -> str:
        return self.site.name


class Checkpoint(TimeStampedModel):
    """A gate or post (卡口/岗点) of a site; a mobile post has no fixed place."""

    site = models.ForeignKey(
        OrgUnit, verbose_name=_("site"), on_delete=models.PROTECT, related_name="checkpoints"
    )
    site_path = PathField(_("site path"), max_length=255, editable=False, db_index=True)
    code = models.CharField(_("code"), max_length=32)
    name = models.CharField(_("name"), max_length=64)
    zones = models.JSONField(_("zones"), default=list, blank=True)
    is_mobile = models.BooleanField(_("mobile post"), default=False)
    is_active = models.BooleanField(_("in use"), default=True)

    class Meta:
        verbose_name = _("checkpoint")
        verbose_name_plural = _("checkpoints")
        ordering = ["site_path", "code", "id"]
        constraints = [
            models.UniqueConstraint(fields=["site", "code"], name="checkpoint_code_unique_per_site")
        ]

    def __str__(self) -> str:
        return self.name


class Visitor(TimeStampedModel):
    """A visitor (访客) for one day at a site: pre-registered by a host or walked in.

    A pre-registration gets its one-day visitor pass in the same transaction (window
    ``valid_from``/``valid_until``, ``zones``); ``pass_id_hash`` names it, and stays empty
    for a walk-in. Cancelling the visit revokes the pass (docs/checkpoints.md).
    """

    class Source(models.TextChoices):
        PRE_REGISTERED = "pre_registered", _("Pre-registered")
        WALK_IN = "walk_in", _("Walk-in")

    site = models.ForeignKey(
        OrgUnit, verbose_name=_("site"), on_delete=models.PROTECT, related_name="visitors"
    )
    site_path = PathField(_("site path"), max_length=255, editable=False, db_index=True)
    name = models.CharField(_("name"), max_length=64)
    id_number = models.CharField(_("ID number"), max_length=18)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    plate = models.CharField(_("vehicle plate"), max_length=16, blank=True)
    purpose = models.CharField(_("purpose"), max_length=200)
    day = models.DateField(_("day"))
    valid_from = models.DateTimeField(_("from"))
    valid_until = models.DateTimeField(_("until"))
    zones = models.JSONField(_("zones"), default=list, blank=True)
    source = models.CharField(_("source"), max_length=16, choices=Source.choices)
    host = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("host"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("registered by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # A pre-registered visitor's one-day pass (its id's hash): a scan finds the visit by it.
    pass_id_hash = models.CharField(_("pass"), max_length=64, blank=True, db_index=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("cancelled by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    cancel_reason = models.CharField(_("reason for cancelling"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("visitor")
        verbose_name_plural = _("visitors")
        ordering = ["-day", "-valid_from", "-id"]
        indexes = [models.Index(fields=["site_path", "day"], name="visitor_site_day")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(valid_until__gt=models.F("valid_from")),
                name="visitor_window_ends_after_start",
            )
        ]

    def __str__(self) -> str:
        return self.name


class WatchEntry(TimeStampedModel):
    """A watch-list entry: an ID number refused at every checkpoint under ``unit``.

    The number is kept only as a keyed hash (and masked for display): a leaked table names
    nobody. The reason is shown to supervisors only.
    """

    unit = models.ForeignKey(
        OrgUnit, verbose_name=_("unit"), on_delete=models.PROTECT, related_name="watch_entries"
    )
    unit_path = PathField(_("unit path"), max_length=255, editable=False, db_index=True)
    id_hash = models.CharField(max_length=64, db_index=True, editable=False)
    id_masked = models.CharField(_("ID number"), max_length=32)
    name = models.CharField(_("name"), max_length=64, blank=True)
    reason = models.CharField(_("reason"), max_length=255)
    is_active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("added by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("watch-list entry")
        verbose_name_plural = _("watch list")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.id_masked


class Direction(models.TextChoices):
    IN = "in", _("In")
    OUT = "out", _("Out")


class Verdict(models.TextChoices):
    """Why a scan or entry admitted or refused: the pass verifier's codes, then the gate's."""

    OK = "ok", _("Admitted")
    EXPIRED = "expired", _("Pass expired")
    NOT_YET_VALID = "not_yet_valid", _("Pass not yet valid")
    REVOKED = "revoked", _("Pass revoked")
    BAD_SIGNATURE = "bad_signature", _("Pass signature invalid")
    UNKNOWN_KEY = "unknown_key", _("Pass signed by an unknown key")
    STATUS = "status", _("Health status does not admit")
    ZONE = "zone", _("Pass not valid at this checkpoint")
    STALE_PROOF = "stale_proof", _("Moving code expired")
    TRUST_LIST_EXPIRED = "trust_list_expired", _("Trust list expired")
    MALFORMED = "malformed", _("Unreadable pass")
    # The gate's own rules and manual entries
    FEVER = "fever", _("Fever at the gate")
    WATCH_LIST = "watch_list", _("On the watch list")
    OUTSIDERS_BANNED = "outsiders_banned", _("Outsiders banned")
    NO_PASS = "no_pass", _("No pass or registration")
    PRINTED_REFUSED = "printed_refused", _("Printed passes refused here")
    NO_DEVICE_KEY = "no_device_key", _("Passes without a device key refused here")


# Reasons a guard must not see: the screen says only "refused, call the duty leader".
RESTRICTED_VERDICTS = frozenset({Verdict.WATCH_LIST})


class GateEvent(models.Model):
    """One line of the gate's log (出入登记): a scan or a manual entry, admitted or refused."""

    class Kind(models.TextChoices):
        PERSON = "person", _("Person")
        VEHICLE = "vehicle", _("Vehicle")
        VISITOR = "visitor", _("Visitor")

    class Source(models.TextChoices):
        SCAN = "scan", _("Scan")
        MANUAL = "manual", _("Manual entry")

    # No index of its own: ``gate_checkpoint_at`` starts with the checkpoint and serves every
    # lookup by it (the checkpoint's log, PROTECT's check on delete); one index less to
    # write on every scan.
    checkpoint = models.ForeignKey(
        Checkpoint,
        verbose_name=_("checkpoint"),
        on_delete=models.PROTECT,
        related_name="events",
        db_index=False,
    )
    site_path = PathField(_("site path"), max_length=255, editable=False)
    direction = models.CharField(_("direction"), max_length=8, choices=Direction.choices)
    at = models.DateTimeField(_("time"))
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)
    guard = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("guard"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    source = models.CharField(_("source"), max_length=16, choices=Source.choices)
    person = models.ForeignKey(
        Person,
        verbose_name=_("person"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="gate_events",
    )
    visitor = models.ForeignKey(
        Visitor,
        verbose_name=_("visitor"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="gate_events",
    )
    plate = models.CharField(_("vehicle plate"), max_length=16, blank=True)
    driver = models.CharField(_("driver"), max_length=64, blank=True)
    # Who came through, for the occupancy: "p<id>", "v<id>" or "c<plate>".
    subject_key = models.CharField(max_length=40, editable=False)
    pass_id_hash = models.CharField(_("pass"), max_length=64, blank=True)
    verdict = models.CharField(_("verdict"), max_length=24, choices=Verdict.choices)
    reason = models.CharField(_("reason"), max_length=255, blank=True)
    admitted = models.BooleanField(_("admitted"))
    temperature = models.DecimalField(
        _("temperature (°C)"), max_digits=4, decimal_places=1, null=True, blank=True
    )
    disinfected = models.BooleanField(_("disinfected"), null=True, blank=True)
    cargo = models.CharField(_("cargo"), max_length=200, blank=True)
    client_uuid = models.UUIDField(_("client UUID"), unique=True)
    overridden_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("overridden by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    overridden_at = models.DateTimeField(_("overridden at"), null=True, blank=True)
    override_reason = models.CharField(_("override reason"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("gate log entry")
        verbose_name_plural = _("gate log")
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["site_path", "at"], name="gate_site_at"),
            models.Index(fields=["site_path", "subject_key", "at"], name="gate_site_subject_at"),
            models.Index(fields=["checkpoint", "at"], name="gate_checkpoint_at"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(admitted=True) | ~models.Q(verdict="ok"),
                name="gate_ok_is_admitted",
            )
        ]

    def __str__(self) -> str:
        return f"{self.checkpoint.name} {self.at:%Y-%m-%d %H:%M}"

    @property
    def is_refusal(self) -> bool:
        return self.verdict != Verdict.OK

    @property
    def restricted(self) -> bool:
        return self.verdict in RESTRICTED_VERDICTS


class Post(TimeStampedModel):
    """A duty post (岗位) at a checkpoint: a daily shift from ``starts_at`` for ``hours``.

    Guards rotate over ``period_days`` (7 or 14) counted from ``anchor``: the slot of a
    day is (day − anchor) mod period.
    """

    checkpoint = models.ForeignKey(
        Checkpoint, verbose_name=_("checkpoint"), on_delete=models.PROTECT, related_name="posts"
    )
    site_path = PathField(_("site path"), max_length=255, editable=False, db_index=True)
    name = models.CharField(_("name"), max_length=64)
    starts_at = models.TimeField(_("shift starts"))
    hours = models.PositiveSmallIntegerField(_("shift hours"), default=12)
    period_days = models.PositiveSmallIntegerField(_("rotation (days)"), default=7)
    anchor = models.DateField(_("rotation starts on"))
    is_active = models.BooleanField(_("in use"), default=True)

    class Meta:
        verbose_name = _("duty post")
        verbose_name_plural = _("duty posts")
        ordering = ["site_path", "checkpoint__code", "starts_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(period_days__in=[7, 14]), name="post_rotation_week_or_fortnight"
            ),
            models.CheckConstraint(
                condition=models.Q(hours__gte=1) & models.Q(hours__lte=24), name="post_shift_hours"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class RosterSlot(models.Model):
    """Who stands a post on one day of its rotation."""

    post = models.ForeignKey(
        Post, verbose_name=_("post"), on_delete=models.CASCADE, related_name="slots"
    )
    day_index = models.PositiveSmallIntegerField(_("day of rotation"))
    guard = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("guard"),
        on_delete=models.CASCADE,
        related_name="roster_slots",
    )

    class Meta:
        verbose_name = _("roster slot")
        verbose_name_plural = _("roster slots")
        ordering = ["post", "day_index"]
        constraints = [
            models.UniqueConstraint(fields=["post", "day_index"], name="roster_one_guard_per_slot")
        ]

    def __str__(self) -> str:
        return f"{self.post.name} {self.day_index + 1}"


class UnstaffedAlert(models.Model):
    """A post found without a guard at the start of its shift; one alert per post and day."""

    post = models.ForeignKey(
        Post, verbose_name=_("post"), on_delete=models.CASCADE, related_name="alerts"
    )
    day = models.DateField(_("day"))
    raised_at = models.DateTimeField(_("raised at"), auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["post", "day"], name="unstaffed_alert_once_a_day")
        ]

    def __str__(self) -> str:
        return f"{self.post.name} {self.day:%Y-%m-%d}"
