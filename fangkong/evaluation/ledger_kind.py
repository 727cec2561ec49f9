"""The "bad review" (差评) ledger kind: called back within the profile's hours, then an
outcome — fixed at once, rectified by the deadline (a rectification problem), explained,
or appealed — and a follow-up review (追评) before the close-out (销号).

Every step is the evaluation services' (they check who may take it: an appeal is decided
by someone other than the head), so no transition is offered by hand on the ledger pages.
The clocks' lengths come from the jurisdiction profile in use when the review arrived, so
they are started at fixed instants (``clock_starts``) with zero length.
"""

import datetime as dt
from typing import Any

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from fangkong.accounts.roles import Perm
from fangkong.core.errors import Conflict
from fangkong.ledger.kinds import Clock, Kind, State, Transition, register

KIND = "bad_review"
CALLBACK_PENDING, HANDLING, RECTIFYING = "callback_pending", "handling", "rectifying"
APPEALED, AWAITING_REVIEW, CLOSED = "appealed", "awaiting_review", "closed"
CALLBACK_CLOCK, RECTIFY_CLOCK = "callback", "rectify"


def _step(source: str, target: str, label: Any, perm: Perm = Perm.HANDLE_REVIEWS) -> Transition:
    return Transition(source, target, label, perm, by_hand=False)


def _review_given_or_waited(bad_review: Any) -> bool:
    if bad_review.follow_up_at is not None:
        return True
    sent = bad_review.follow_up_sent_at
    return sent is not None and timezone.now() >= sent + dt.timedelta(
        days=bad_review.follow_up_days
    )


def _close_check(item: Any) -> None:
    """A bad review closes after its follow-up review (or the end of its wait), an
    explanation, or an upheld appeal — never half-way, from whatever page."""
    from .models import Outcome

    bad_review = getattr(item, "bad_review", None)
    ready = bad_review is not None and (
        (item.state == AWAITING_REVIEW and _review_given_or_waited(bad_review))
        or (item.state == HANDLING and bad_review.outcome == Outcome.EXPLAINED)
        or (item.state == APPEALED and bad_review.appeal_upheld)
    )
    if not ready:
        raise Conflict(_("This bad review is not ready to close."))


BAD_REVIEW = Kind(
    key=KIND,
    label=gettext_lazy("Bad review"),
    label_plural=gettext_lazy("Bad reviews"),
    follow_up_label=pgettext_lazy("ledger entry", "Callback"),
    states=(
        State(CALLBACK_PENDING, gettext_lazy("Waiting for the callback")),
        State(HANDLING, gettext_lazy("Called back, outcome pending")),
        State(RECTIFYING, gettext_lazy("Rectifying")),
        State(APPEALED, gettext_lazy("Appealed")),
        State(AWAITING_REVIEW, gettext_lazy("Waiting for the follow-up review")),
        State(CLOSED, gettext_lazy("Closed out")),
    ),
    initial=CALLBACK_PENDING,
    closed_states=frozenset({CLOSED}),
    transitions=(
        _step(CALLBACK_PENDING, HANDLING, gettext_lazy("Called back")),
        _step(HANDLING, RECTIFYING, gettext_lazy("Rectify")),
        _step(HANDLING, AWAITING_REVIEW, gettext_lazy("Fixed at once")),
        _step(HANDLING, APPEALED, gettext_lazy("Appeal")),
        _step(APPEALED, HANDLING, gettext_lazy("Appeal rejected"), Perm.DECIDE_APPEALS),
        _step(RECTIFYING, AWAITING_REVIEW, gettext_lazy("Rectified")),
    ),
    clocks=(
        Clock(CALLBACK_CLOCK, gettext_lazy("Callback"), hours=0, met_by="close"),
        Clock(RECTIFY_CLOCK, gettext_lazy("Rectification"), hours=0),
    ),
    close_perm=Perm.HANDLE_REVIEWS,
    approve_perm=Perm.HANDLE_REVIEWS,
    track_perm=Perm.HANDLE_REVIEWS,
    view_perm=Perm.VIEW_EVALUATION,
    escalated_state=None,
    reopen_state=HANDLING,
    close_check=_close_check,
    opened_notice=False,  # services.bad_review_alert says more, to more people
    warn_before_hours=2,
    work_page=lambda item: reverse("evaluation:review", args=[item.object_id]),
)


def register_kind() -> None:
    register(BAD_REVIEW)
