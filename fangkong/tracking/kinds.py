"""The two ledger kinds tracking registers: abnormal-person cards and close contacts.

Both follow a person daily (every 12 hours while the person is in quarantine), need an
approval to close out, and may be closed out only when the close-out rule of ``rules``
holds (``close_check``); a card that cannot be closed is escalated instead.
"""

from typing import Any

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from fangkong.accounts.roles import Perm
from fangkong.ledger.kinds import Clock, Kind, State, Transition, register

from .rules import ABNORMAL, CONTACT, close_check

DAILY_HOURS = 24
QUARANTINE_HOURS = 12

_STATES = (
    State("open", _("Open")),
    State("following", pgettext_lazy("card state", "Following")),
    State("closing", _("Awaiting close-out approval")),
    State("closed", _("Closed out")),
    State("escalated", _("Escalated")),
)
# No "start following" step: the first follow-up visit moves a card to "following".
_TRANSITIONS = (Transition("escalated", "following", _("Back to follow-up"), Perm.TRACK),)


def _subject_label(item: Any) -> str:
    return item.person.name if item.person_id else item.title


def _kind(key: str, label: Any, plural: Any, clocks: tuple[Clock, ...]) -> Kind:
    return Kind(
        key=key,
        label=label,
        label_plural=plural,
        states=_STATES,
        initial="open",
        closed_states=frozenset({"closed"}),
        transitions=_TRANSITIONS,
        first_follow_up_state="following",
        clocks=clocks,
        follow_up_every_hours=DAILY_HOURS,
        close_needs_approval=True,
        close_perm=Perm.TRACK,
        approve_perm=Perm.APPROVE_CLOSE,
        warn_before_hours=2,
        subject_label=_subject_label,
        close_check=close_check,
    )


def register_kinds() -> None:
    register(
        _kind(
            ABNORMAL,
            _("Abnormal-person card"),
            _("Abnormal-person cards"),
            (
                Clock("first_follow_up", _("First follow-up"), hours=24),
                Clock("resolution", _("Resolution"), working_days=10),
            ),
        )
    )
    register(
        _kind(
            CONTACT,
            _("Close-contact observation"),
            _("Close-contact observations"),
            (Clock("first_follow_up", _("First follow-up"), hours=24),),
        )
    )
