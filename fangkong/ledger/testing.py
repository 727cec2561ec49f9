"""A ledger kind for tests only: the engine is tested without the apps that register real ones.

Test modules call ``register_test_kinds()``; nothing registers these kinds in production.
"""

from fangkong.accounts.roles import Perm

from . import kinds
from .kinds import Clock, Kind, State, Transition

TEST_KIND = Kind(
    key="testcase",
    label="Test card",
    label_plural="Test cards",
    states=(
        State("open", "Open"),
        State("following", "Following"),
        State("closing", "Closing"),
        State("closed", "Closed"),
        State("escalated", "Escalated"),
    ),
    initial="open",
    closed_states=frozenset({"closed"}),
    transitions=(
        Transition("open", "following", "Start", Perm.TRACK),
        Transition("following", "open", "Back", Perm.APPROVE_CLOSE),
    ),
    clocks=(
        Clock("first_follow_up", "First follow-up", hours=24),
        Clock("resolution", "Resolution", working_days=10),
    ),
    follow_up_every_hours=24,
    close_needs_approval=True,
    warn_before_hours=2,
)

QUICK_KIND = Kind(
    key="quick",
    label="Quick card",
    label_plural="Quick cards",
    states=(State("open", "Open"), State("closed", "Closed")),
    initial="open",
    closed_states=frozenset({"closed"}),
    clocks=(Clock("resolution", "Resolution", hours=48),),
    escalated_state=None,
)


def register_test_kinds() -> None:
    kinds.register(TEST_KIND)
    kinds.register(QUICK_KIND)


def unregister_test_kinds() -> None:
    kinds.unregister(TEST_KIND.key)
    kinds.unregister(QUICK_KIND.key)
