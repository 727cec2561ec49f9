"""The holder's daily pass: issued on the phone page while the holder's status admits it,
revoked the moment it stops admitting (a fever or red declaration, a placement, a card).

The page is opened by the personal declaration link, so the holder acts as the system
here: the link is the credential, and what it may get is exactly one person's pass.
"""

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from fangkong.core.errors import Conflict
from fangkong.core.masking import name_masked
from fangkong.core.paths import ancestor_paths
from fangkong.core.retention import local_midnight
from fangkong.orgs.models import OrgUnit, Person

from . import selectors, services
from .models import Pass

# Why the page shows no pass (the live status, in the holder's words).
REFUSALS = {
    "status": _(
        "Your health status today does not admit a pass. Stay at home and follow the "
        "instructions of your team leader."
    ),
    "placement": _("You are in a quarantine placement: no pass is issued until you are released."),
    "card": _(
        "An abnormal-person or close-contact card is open for you: no pass is issued until "
        "it is closed."
    ),
}
REVOKED_BY_ADMIN = _("Your pass for today was revoked by an administrator: %(reason)s")
# A phone that keeps posting new keys would grow the revocation list: a few a day suffice.
DAILY_REISSUES_MAX = 10


def admit_statuses() -> frozenset[str]:
    """The colours that admit a pass; the seed default (and the site's rule): green only."""
    return frozenset(getattr(settings, "PASS_ADMIT_STATUSES", ("green",)))


def refusal(person: Person) -> str:
    """Why ``person`` may not hold a pass now ("status", "placement", "card"), or ""."""
    # The colour first: after a fever that is the reason the holder understands.
    if selectors.holder_colour(person) not in admit_statuses():
        return "status"
    return selectors.holder_blocked(person)


def refusal_text(code: str) -> str:
    return str(REFUSALS[code])


def zones_for(unit: OrgUnit) -> list[str]:
    """The codes of the holder's unit and its ancestors below the group: any gate of the
    enterprise, the plant or the workshop admits its own people."""
    units = OrgUnit.objects.filter(path__in=ancestor_paths(unit.path), parent__isnull=False)
    codes = [code for code in units.order_by("depth").values_list("code", flat=True) if code]
    return codes[-32:] or [unit.code]


def day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    return local_midnight(day), local_midnight(day + dt.timedelta(days=1))


def todays_passes(person: Person) -> Any:
    start, end = day_bounds(timezone.localdate())
    return Pass.objects.filter(person=person, daily=True, valid_from=start, valid_until=end)


def current(person: Person) -> Pass | None:
    """Today's daily pass still in force, if any."""
    rows = todays_passes(person).filter(revoked_at=None).select_related("key", "unit", "key__unit")
    return rows.order_by("-issued_at", "-pk").first()


def revoked_by_admin(person: Person) -> Pass | None:
    """Today's daily pass that a person (not the system) revoked: it is not re-issued."""
    rows = todays_passes(person).filter(revoked_at__isnull=False, revoked_by__isnull=False)
    return rows.order_by("-revoked_at").first()


@transaction.atomic
def daily_pass(person: Person, *, device_key: bytes | None = None) -> tuple[Pass | None, str]:
    """Return (today's pass, "") or (None, why not), issuing the pass when the status admits.

    With ``device_key`` (the phone's public point) a pass that does not certify that key
    is replaced by one that does; the old one is revoked, so its screenshot stops working.
    """
    Person.objects.select_for_update().filter(pk=person.pk).first()  # one issuer at a time
    why = refusal(person)
    if why:
        return None, refusal_text(why)
    by_admin = revoked_by_admin(person)
    if by_admin is not None:
        return None, str(REVOKED_BY_ADMIN) % {"reason": by_admin.revoke_reason}
    row = current(person)
    if row is not None and (device_key is None or row.device_key == device_key.hex()):
        return row, ""
    if todays_passes(person).count() >= DAILY_REISSUES_MAX:
        raise Conflict(_("This pass was bound to a new phone too often today; ask your unit."))
    if row is not None:
        with translation.override(settings.LANGUAGE_CODE):
            services.pass_revoke(None, row, gettext("Replaced by a pass bound to the phone."))
    start, end = day_bounds(timezone.localdate())
    issued, _text = services.pass_issue(
        None,
        kind=Pass.Kind.PERSON,
        unit=person.unit,
        holder_display=name_masked(person.name),
        zones=zones_for(person.unit),
        valid_from=start,
        valid_until=end,
        person=person,
        device_key=device_key,
        daily=True,
    )
    return issued, ""


def revoke_for_people(person_ids: Iterable[int], reason: Any) -> int:
    """Revoke the passes in force of these people (the system acts; a status change).

    The reason is stored in the site's language, whoever's request caused the change."""
    with translation.override(settings.LANGUAGE_CODE):
        return services.passes_revoke_for_people(person_ids, str(reason))
