"""What quarantine erases of a past outbreak: the checks and test results (its ledger
items' history), the items' names, and the home address and details of each placement.

The placement row itself stays (person, days, site and room) with its item's state and
clocks: occupancy and release figures read them. Registered from ``QuarantineConfig.ready``.
"""

from typing import Any

from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from fangkong.core import retention
from fangkong.ledger.retention import item_purgers

from .ledger_kind import KIND
from .models import Placement


def _placements_due(period: retention.Period) -> QuerySet[Any]:
    """Ended placements started within the period that still hold an address or details."""
    return (
        Placement.objects.exclude(state__in=Placement.OPEN_STATES)
        .filter(period.days("start"))
        .filter(~Q(address="") | ~Q(reason=""))
    )


def register() -> None:
    for purger in item_purgers(
        key="quarantine.placements",
        kinds=(KIND,),
        entries_label=_("Quarantine checks and test results"),
        items_label=_("Quarantine ledger items (anonymised)"),
        drop_subject=False,
    ):
        retention.register(purger)
    retention.register(
        retention.Purger(
            key="quarantine.placement_details",
            label=_("Placement addresses and details (anonymised)"),
            due=_placements_due,
            changes={"address": "", "reason": ""},
        )
    )
