"""What tracking erases of a past outbreak: the cards' follow-ups, the cards' names, the
close-contact links (who was exposed to whom). Registered from ``TrackingConfig.ready``."""

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from fangkong.core import retention
from fangkong.ledger.retention import item_purgers

from .kinds import ABNORMAL, CONTACT
from .models import CloseContact


def _close_contacts_due(period: retention.Period) -> QuerySet[Any]:
    return CloseContact.objects.filter(period.days("last_contact_day"))


def register() -> None:
    for purger in item_purgers(
        key="tracking.cards",
        kinds=(ABNORMAL, CONTACT),
        entries_label=_("Card follow-ups"),
        items_label=_("Tracking cards (anonymised)"),
        drop_subject=True,
    ):
        retention.register(purger)
    retention.register(
        retention.Purger(
            key="tracking.close_contacts", label=_("Close-contact links"), due=_close_contacts_due
        )
    )
