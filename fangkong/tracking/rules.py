"""When a card may be closed out: N consecutive normal days, or the observation period over.

Pure reads of declarations and the outbreak profile. The kinds (``kinds``) hand
``close_check`` to the ledger, which calls it on every close-out request and approval;
``readiness`` tells the card page why (not).
"""

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.core.errors import InvalidInput
from fangkong.health.models import Colour, Declaration, OutbreakProfile
from fangkong.ledger.models import Item

# The keys of the two kinds (registered in ``kinds``): a contact card has its own rule.
ABNORMAL = "abnormal"
CONTACT = "contact"


@dataclass(frozen=True)
class Readiness:
    """Whether a card may be closed out, and a sentence saying why (not)."""

    ready: bool
    normal_days: int
    needed: int
    message: str
    observe_until: dt.date | None = None


def normal_streak(person_id: int, *, today: dt.date | None = None, limit: int = 60) -> int:
    """Count the consecutive green days ending today (or yesterday, if today is not in yet).

    A day without a declaration breaks the streak: an unreported day is not a normal day.
    """
    today = today or timezone.localdate()
    rows = list(
        Declaration.objects.filter(
            person_id=person_id,
            is_current=True,
            day__lte=today,
            day__gt=today - dt.timedelta(days=limit),
        )
        .order_by("-day")
        .values_list("day", "status")
    )
    expected = today if rows and rows[0][0] == today else today - dt.timedelta(days=1)
    streak = 0
    for day, status in rows:
        if day != expected or status != Colour.GREEN:
            break
        streak += 1
        expected -= dt.timedelta(days=1)
    return streak


def abnormal_readiness(person_id: int, *, today: dt.date | None = None) -> Readiness:
    """An abnormal card closes after the profile's number of consecutive normal days."""
    needed = OutbreakProfile.current().normal_days_to_close
    streak = normal_streak(person_id, today=today)
    if streak >= needed:
        message = _("%(days)d consecutive normal days: the card may be closed out.") % {
            "days": streak
        }
        return Readiness(True, streak, needed, message)
    message = _(
        "Only %(days)d of the %(needed)d consecutive normal days needed; keep following up, "
        "or escalate."
    ) % {"days": streak, "needed": needed}
    return Readiness(False, streak, needed, message)


def observation_end(last_contact_day: dt.date) -> dt.date:
    """The last day a close contact is observed (the profile's follow-up days from contact)."""
    return last_contact_day + dt.timedelta(days=OutbreakProfile.current().follow_up_days)


def contact_readiness(
    person_id: int, observe_until: dt.date, *, today: dt.date | None = None
) -> Readiness:
    """A contact card closes once the observation period is over and the last days are normal."""
    today = today or timezone.localdate()
    readiness = abnormal_readiness(person_id, today=today)
    if today <= observe_until:
        message = _("The observation period runs until %(day)s; keep following up.") % {
            "day": observe_until.isoformat()
        }
        return Readiness(False, readiness.normal_days, readiness.needed, message, observe_until)
    return Readiness(
        readiness.ready, readiness.normal_days, readiness.needed, readiness.message, observe_until
    )


def readiness(item: Item, *, today: dt.date | None = None) -> Readiness:
    """Tell whether ``item`` may be closed out now, and why (not)."""
    if item.kind == CONTACT:
        until = dt.date.fromisoformat(
            item.data.get("observe_until") or timezone.localdate().isoformat()
        )
        return contact_readiness(item.person_id or 0, until, today=today)
    return abnormal_readiness(item.person_id or 0, today=today)


def close_check(item: Item) -> None:
    """Refuse a close-out (request or approval) the rule does not allow: escalate instead."""
    result = readiness(item)
    if not result.ready:
        raise InvalidInput(result.message, detail={"reason": [result.message]})
