"""The "quarantine" ledger kind: each placement is an item whose follow-ups are the
twice-daily checks and test results, and whose close-out, once approved, is the release.

Registered in ``QuarantineConfig.ready``. The placement mirrors its item's state (see
``receivers.follow_item``), so releasing from the ledger pages or from the quarantine
pages comes to the same thing.
"""

from typing import Any

from django.utils.translation import gettext_lazy as _

from fangkong.accounts.roles import Perm
from fangkong.ledger.kinds import Clock, Kind, State, register

KIND = "quarantine"
ACTIVE, CLOSING, CLOSED = "active", "closing", "closed"
# Met by the release; due at the end of the planned release day, so the overdue sweep
# flags a person still in quarantine after it.
RELEASE_CLOCK = "release"
CHECK_EVERY_HOURS = 12


def _subject_label(item: Any) -> str:
    return str(item.title)


QUARANTINE = Kind(
    key=KIND,
    label=_("Quarantine placement"),
    label_plural=_("Quarantine placements"),
    states=(
        State(ACTIVE, _("In quarantine")),
        State(CLOSING, _("Awaiting release approval")),
        State(CLOSED, _("Released")),
    ),
    initial=ACTIVE,
    closed_states=frozenset({CLOSED}),
    clocks=(Clock(RELEASE_CLOCK, _("Planned release"), hours=0),),
    follow_up_every_hours=CHECK_EVERY_HOURS,
    close_needs_approval=True,
    close_perm=Perm.TRACK,
    approve_perm=Perm.APPROVE_CLOSE,
    warn_before_hours=2,
    subject_label=_subject_label,
    escalated_state=None,
)


def register_kind() -> None:
    register(QUARANTINE)
