"""A test-only ledger kind: the engine is tested without the apps that register real ones."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from fangkong.accounts.roles import Perm
from fangkong.ledger import kinds
from fangkong.ledger.kinds import Clock, Kind, State, Transition

SHANGHAI = ZoneInfo("Asia/Shanghai")

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


@pytest.fixture(autouse=True)
def test_kinds():
    kinds.register(TEST_KIND)
    kinds.register(QUICK_KIND)
    yield
    kinds.unregister(TEST_KIND.key)
    kinds.unregister(QUICK_KIND.key)


def local(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, second, tzinfo=SHANGHAI)
