"""Item kinds: each app registers its workflows in code (``AppConfig.ready``).

A kind names its states, the transitions between them and the permission each needs, its
deadline clocks (natural hours or working days), the recurring follow-up cadence, and how
a close-out (销号) works. The engine (services, sweep, pages) knows nothing else about it.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import pgettext_lazy

from fangkong.accounts.roles import Perm
from fangkong.core.errors import NotFound

# The recurring "next follow-up due" clock every kind with a cadence gets.
FOLLOW_UP_CLOCK = "follow_up"
# A clock met by the first follow-up; other clocks are met by the close-out.
FIRST_FOLLOW_UP_CLOCK = "first_follow_up"


FOLLOW_UP_VISIT = pgettext_lazy("ledger entry", "Follow-up visit")  # a tracker's 随访


@dataclass(frozen=True)
class State:
    key: str
    label: Any


@dataclass(frozen=True)
class Transition:
    source: str
    target: str
    label: Any
    perm: Perm = Perm.TRACK
    # False: only the kind's own services take it, after their own checks (an acceptance
    # by the assigning unit); the ledger's pages and API neither offer nor accept it.
    by_hand: bool = True


@dataclass(frozen=True)
class Clock:
    """A deadline counted from the item's opening (or from ``clock_starts[key]``).

    Exactly one of ``hours`` (natural hours) and ``working_days`` (the end of the n-th
    working day after the start) is given. ``met_by`` is "follow_up" or "close"; by default
    the first_follow_up clock is met by a follow-up and every other clock by the close-out.
    """

    key: str
    label: Any
    hours: int | None = None
    working_days: int | None = None
    met_by: str = ""

    def __post_init__(self) -> None:
        if (self.hours is None) == (self.working_days is None):
            raise ValueError(f"clock {self.key}: give exactly one of hours and working_days")
        if not self.met_by:
            met_by = "follow_up" if self.key == FIRST_FOLLOW_UP_CLOCK else "close"
            object.__setattr__(self, "met_by", met_by)
        if self.met_by not in ("follow_up", "close"):
            raise ValueError(f"clock {self.key}: met_by is follow_up or close")


@dataclass(frozen=True)
class Kind:
    """One workflow of ledger items (e.g. abnormal-person cards, quarantine placements)."""

    key: str
    label: Any
    label_plural: Any
    states: tuple[State, ...]
    initial: str
    closed_states: frozenset[str]
    transitions: tuple[Transition, ...] = ()
    clocks: tuple[Clock, ...] = ()
    follow_up_every_hours: int | None = None
    close_needs_approval: bool = False
    close_perm: Perm = Perm.TRACK
    approve_perm: Perm = Perm.APPROVE_CLOSE
    warn_before_hours: int = 2
    subject_label: Callable[[Any], str] | None = None
    # What a follow-up (a note, a value, a file) is called in the item's history: a
    # tracker's 随访, a bad review's 回访, a rectification problem's 整改进展.
    follow_up_label: Any = FOLLOW_UP_VISIT
    # Who sees the items: people's health is private, so person kinds keep VIEW_HEALTH.
    view_perm: Perm = Perm.VIEW_HEALTH
    # Opening by hand, follow-ups, assignment and escalation.
    track_perm: Perm = Perm.TRACK
    # The state a close-out request waits in, and the state a close-out ends in.
    closing_state: str = "closing"
    close_state: str = "closed"
    escalated_state: str | None = "escalated"
    # Where a reopened item starts again (None: the initial state).
    reopen_state: str | None = None
    # Where the first follow-up on an item in the initial state moves it (None: it stays):
    # a tracker's first call is the start of following a card, not a separate step.
    first_follow_up_state: str | None = None
    # A kind's own close-out rule (e.g. N normal days): called with the item on every
    # close-out request and approval; it raises (InvalidInput) to refuse.
    close_check: Callable[[Any], None] | None = None
    # False: the kind's app alerts of new items itself, so the generic "opened" notice
    # would only repeat it.
    opened_notice: bool = True
    # The kind's own page where its items are worked (its steps, forms and rules), per
    # item. The ledger's item page then shows deadlines and history and sends the user
    # there, offering none of the generic steps (follow-up, take over, close-out).
    work_page: Callable[[Any], str] | None = None
    state_labels: dict[str, Any] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        keys = [state.key for state in self.states]
        object.__setattr__(self, "state_labels", {s.key: s.label for s in self.states})
        needed = {self.initial, self.close_state, *self.closed_states}
        if self.close_needs_approval:
            needed.add(self.closing_state)
        if self.reopen_state:
            needed.add(self.reopen_state)
        if self.first_follow_up_state:
            needed.add(self.first_follow_up_state)
        for transition in self.transitions:
            needed |= {transition.source, transition.target}
        missing = needed - set(keys)
        if missing:
            raise ValueError(f"kind {self.key}: unknown states {sorted(missing)}")
        if self.close_state not in self.closed_states:
            raise ValueError(f"kind {self.key}: close_state must be one of closed_states")
        if len({clock.key for clock in self.clocks}) != len(self.clocks):
            raise ValueError(f"kind {self.key}: clock keys repeat")

    def state_label(self, state: str) -> Any:
        return self.state_labels.get(state, state)

    def transition(self, source: str, target: str) -> Transition | None:
        """Return the transition from ``source`` to ``target``, if the workflow has it."""
        for transition in self.transitions:
            if transition.source == source and transition.target == target:
                return transition
        return None

    def transitions_from(self, source: str) -> list[Transition]:
        """The transitions a user may take by hand from ``source`` (pages and API)."""
        return [t for t in self.transitions if t.source == source and t.by_hand]

    def clock(self, key: str) -> Clock | None:
        for clock in self.clocks:
            if clock.key == key:
                return clock
        return None

    @property
    def has_escalation(self) -> bool:
        return bool(self.escalated_state) and self.escalated_state in self.state_labels


_registry: dict[str, Kind] = {}


def register(kind: Kind) -> Kind:
    """Register ``kind`` (again: the new definition replaces the old, as tests reload)."""
    _registry[kind.key] = kind
    return kind


def unregister(key: str) -> None:
    _registry.pop(key, None)


def get(key: str) -> Kind:
    """Return the registered kind ``key``; NotFound for an unknown one (a URL may name it)."""
    try:
        return _registry[key]
    except KeyError:
        raise NotFound() from None


def find(key: str) -> Kind | None:
    return _registry.get(key)


def all_kinds() -> list[Kind]:
    return sorted(_registry.values(), key=lambda kind: kind.key)
