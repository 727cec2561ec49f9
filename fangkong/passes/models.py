"""Signing keys, passes and the revocation list.

A key belongs to an enterprise (or to the group, when ``PASS_KEY_SCOPE`` says so); the
group's root key signs the trust list. Private keys are stored encrypted
(``passes.keystore``) and never leave this module's services.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from fangkong.core.links import new_link_key
from fangkong.core.paths import PathField
from fangkong.orgs.models import OrgUnit, Person


class PassKey(models.Model):
    """An ES256 key pair: the root key of the trust list, or an issuing key."""

    class Role(models.TextChoices):
        ROOT = "root", _("Trust-list root key")
        ISSUING = "issuing", _("Pass issuing key")

    role = models.CharField(_("role"), max_length=8, choices=Role.choices)
    unit = models.ForeignKey(
        OrgUnit, verbose_name=_("unit"), on_delete=models.PROTECT, related_name="pass_keys"
    )
    kid = models.CharField(_("key id"), max_length=16, unique=True)  # hex of 8 bytes
    public_point = models.BinaryField(_("public key"), max_length=65)
    # AES-GCM: nonce (12 bytes) || ciphertext of the PKCS#8 DER || tag; never shown.
    private_encrypted = models.BinaryField(max_length=256, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    retired_at = models.DateTimeField(_("retired at"), null=True, blank=True)
    # Trusted until the last pass it signed expires (set when retired, raised by reissue).
    trusted_until = models.DateTimeField(_("trusted until"), null=True, blank=True)
    revocation_version = models.PositiveIntegerField(_("revocation list version"), default=0)

    class Meta:
        verbose_name = _("pass key")
        verbose_name_plural = _("pass keys")
        ordering = ["unit", "-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["unit", "role"],
                condition=models.Q(retired_at__isnull=True),
                name="passkey_one_active_per_unit_and_role",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_role_display()} {self.kid}"


class Pass(models.Model):
    """A pass issued: what it says (minus the signature) and whether it was revoked."""

    class Kind(models.TextChoices):
        PERSON = "person", _("Person")
        VEHICLE = "vehicle", _("Vehicle")
        VISITOR = "visitor", _("Visitor")

    pass_id = models.CharField(_("pass id"), max_length=32, unique=True)  # hex of 16 bytes
    pass_hash = models.CharField(max_length=64, unique=True, editable=False)  # SHA-256 hex
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    person = models.ForeignKey(
        Person,
        verbose_name=_("holder"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="passes",
    )
    plate = models.CharField(_("plate"), max_length=16, blank=True)
    # A vehicle's driver or a visitor's name, in full: for the lists, never on the pass.
    holder_name = models.CharField(_("name"), max_length=64, blank=True)
    route = models.CharField(_("route"), max_length=200, blank=True)  # a vehicle's
    # A visitor's purpose of visit: for the visitor's page and the lists, never on the pass.
    purpose = models.CharField(_("purpose"), max_length=200, blank=True)
    holder_display = models.CharField(_("holder"), max_length=64)
    unit = models.ForeignKey(
        OrgUnit, verbose_name=_("unit"), on_delete=models.PROTECT, related_name="passes"
    )
    unit_path = PathField(_("unit path"), max_length=255, editable=False, db_index=True)
    zones = models.JSONField(_("zones"), default=list)
    status_at_issue = models.CharField(_("status at issue"), max_length=8)
    key = models.ForeignKey(
        PassKey, verbose_name=_("signing key"), on_delete=models.PROTECT, related_name="passes"
    )
    valid_from = models.DateTimeField(_("valid from"))
    valid_until = models.DateTimeField(_("valid until"))
    printed = models.BooleanField(_("printed"), default=False)
    # Issued on the holder's phone page for one day, following the holder's status.
    daily = models.BooleanField(_("daily pass"), default=False)
    device_key = models.CharField(_("device key"), max_length=130, blank=True)  # point hex
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("issued by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    issued_at = models.DateTimeField(_("issued at"), auto_now_add=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoke_reason = models.CharField(_("reason for revocation"), max_length=255, blank=True)
    # None with revoked_at set: the system revoked it (a status change, a replacement).
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("revoked by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("pass")
        verbose_name_plural = _("passes")
        ordering = ["-issued_at", "-id"]
        indexes = [
            models.Index(fields=["person", "valid_until"], name="pass_person_until"),
        ]

    def __str__(self) -> str:
        return f"{self.holder_display} {self.pass_id[:8]}"


class PassLink(models.Model):
    """A personal link to one pass (a pre-registered visitor's): the token is the credential.

    As with the declaration link (``health.PersonLink``), the row keeps a random key and
    the URL carries the key signed with the site's secret (``selectors.pass_link_token``):
    a forged token is refused before any read, and the host can show the link again.
    Whether the pass still admits is the pass's own state (revoked, expired).
    """

    issued_pass = models.ForeignKey(
        Pass, verbose_name=_("pass"), on_delete=models.CASCADE, related_name="links"
    )
    key = models.CharField(_("key"), max_length=32, unique=True, default=new_link_key)
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
        verbose_name = _("pass link")
        verbose_name_plural = _("pass links")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"link {self.pk} of pass {self.issued_pass_id}"


class Revocation(models.Model):
    """One revoked pass on its key's list; ``version`` is the list's counter after it."""

    key = models.ForeignKey(PassKey, on_delete=models.CASCADE, related_name="revocations")
    pass_hash = models.CharField(max_length=64)
    version = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["key", "pass_hash"], name="revocation_once_per_key")
        ]
        indexes = [models.Index(fields=["key", "version"], name="revocation_key_version")]

    def __str__(self) -> str:
        return f"{self.pass_hash[:16]} v{self.version}"


class SignedTrustList(models.Model):
    """A trust list as signed and served; the newest one is served."""

    version = models.PositiveIntegerField(unique=True)
    issued_at = models.DateTimeField()
    valid_until = models.DateTimeField()
    jws = models.TextField()
    kids = models.JSONField(default=list)  # what it lists, to tell when to re-sign

    class Meta:
        ordering = ["-version"]

    def __str__(self) -> str:
        return f"trust list v{self.version}"
