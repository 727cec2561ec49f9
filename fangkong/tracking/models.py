"""Close contacts: who was exposed to which confirmed case, and when last."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from fangkong.core.models import TimeStampedModel
from fangkong.orgs.models import Person


class Relation(models.TextChoices):
    HOUSEHOLD = "household", _("Household")
    COLLEAGUE = "colleague", _("Colleague")
    TRAVEL = "travel", _("Travelled together")
    SOCIAL = "social", _("Social contact")
    CARE = "care", _("Care or treatment")
    OTHER = "other", _("Other")


class CloseContact(TimeStampedModel):
    """A person exposed to a case (itself a person): one link per pair, the latest contact.

    The observation period runs ``follow_up_days`` (outbreak profile) from the last
    contact; links form a graph, so a contact who becomes a case has contacts of their own.
    """

    person = models.ForeignKey(
        Person, verbose_name=_("close contact"), on_delete=models.PROTECT, related_name="exposures"
    )
    case = models.ForeignKey(
        Person, verbose_name=_("case"), on_delete=models.PROTECT, related_name="close_contacts"
    )
    relation = models.CharField(
        _("relation"), max_length=16, choices=Relation.choices, default=Relation.OTHER
    )
    last_contact_day = models.DateField(_("last contact"))
    note = models.CharField(_("note"), max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["-last_contact_day", "-id"]
        verbose_name = _("close contact")
        verbose_name_plural = _("close contacts")
        constraints = [
            models.UniqueConstraint(
                fields=["person", "case"], name="one_link_per_contact_and_case"
            ),
            models.CheckConstraint(
                condition=~models.Q(person=models.F("case")), name="contact_is_not_own_case"
            ),
        ]
        indexes = [models.Index(fields=["case", "person"], name="contact_case_person")]

    def __str__(self) -> str:
        return f"{self.person_id} → {self.case_id} ({self.last_contact_day})"
