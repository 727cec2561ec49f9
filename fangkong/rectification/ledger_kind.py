"""The "problem" ledger kind: a problem's life from registration to close-out (销号).

registered → assigned → in progress → submitted for acceptance → accepted (by the
assigning unit) → effectiveness checked → closed out. Returned for rework at acceptance,
or found ineffective at the check, it goes back to work; a recurrence reopens it. The
steps past "in progress" belong to the rectification services, which check who may take
them (the assigning unit accepts, never an owner), so they are not offered by hand on the
ledger's pages (``Transition.by_hand``).
"""

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from fangkong.accounts.roles import Perm
from fangkong.core.errors import Conflict
from fangkong.ledger.kinds import Clock, Kind, State, Transition, register

KIND = "problem"
REGISTERED, ASSIGNED, IN_PROGRESS = "registered", "assigned", "in_progress"
SUBMITTED, ACCEPTED, CHECKED, CLOSED = "submitted", "accepted", "checked", "closed"
# The rectification deadline, due at the end of the problem's due day; met by acceptance.
DUE_CLOCK = "due"


def _close_check(item: Any) -> None:
    """Close-out (销号) only after the effectiveness check found the fix holding."""
    if item.state != CHECKED:
        raise Conflict(_("Close out a problem only after its effectiveness has been checked."))


def _service_step(
    source: str, target: str, label: Any, perm: Perm = Perm.ACCEPT_PROBLEMS
) -> Transition:
    return Transition(source, target, label, perm, by_hand=False)


PROBLEM = Kind(
    key=KIND,
    label=gettext_lazy("Rectification problem"),
    label_plural=gettext_lazy("Rectification problems"),
    follow_up_label=pgettext_lazy("ledger entry", "Progress report"),
    states=(
        State(REGISTERED, pgettext_lazy("problem state", "Registered")),
        State(ASSIGNED, gettext_lazy("Assigned")),
        State(IN_PROGRESS, gettext_lazy("In progress")),
        State(SUBMITTED, gettext_lazy("Submitted for acceptance")),
        State(ACCEPTED, gettext_lazy("Accepted, effectiveness check pending")),
        State(CHECKED, gettext_lazy("Effectiveness checked")),
        State(CLOSED, gettext_lazy("Closed out")),
    ),
    initial=REGISTERED,
    closed_states=frozenset({CLOSED}),
    transitions=(
        _service_step(REGISTERED, ASSIGNED, gettext_lazy("Assign")),
        Transition(ASSIGNED, IN_PROGRESS, gettext_lazy("Start work"), Perm.RECTIFY),
        _service_step(IN_PROGRESS, SUBMITTED, gettext_lazy("Submit for acceptance"), Perm.RECTIFY),
        _service_step(SUBMITTED, ACCEPTED, gettext_lazy("Accept")),
        _service_step(SUBMITTED, IN_PROGRESS, gettext_lazy("Return for rework")),
        _service_step(ACCEPTED, CHECKED, gettext_lazy("Effective")),
        _service_step(ACCEPTED, IN_PROGRESS, gettext_lazy("Not effective")),
    ),
    clocks=(Clock(DUE_CLOCK, gettext_lazy("Rectification deadline"), hours=0),),
    close_needs_approval=False,
    close_perm=Perm.ACCEPT_PROBLEMS,
    approve_perm=Perm.ACCEPT_PROBLEMS,
    view_perm=Perm.VIEW_PROBLEMS,
    track_perm=Perm.RECTIFY,
    escalated_state=None,
    reopen_state=IN_PROGRESS,
    close_check=_close_check,
    warn_before_hours=24,
    work_page=lambda item: reverse("rectification:problem", args=[item.object_id]),
)


def register_kind() -> None:
    register(PROBLEM)
