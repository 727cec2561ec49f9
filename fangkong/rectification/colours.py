"""Supervision colours (三色), computed from dates and progress, never entered by hand.

- red: overdue (past the end of the due day);
- yellow: behind the pro-rata schedule (a target's share done is below the share of the
  whole days gone, or a milestone is past its day undone);
- blue: 3 working days or fewer left, on the official calendar;
- none otherwise, and once the work is accepted.

Red beats yellow beats blue. The rule is a pure function (``colour_of``); the services
apply it at every change and the nightly job to everything open.
"""

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from fangkong.core import calendar

from .models import Colour

BLUE_WORKING_DAYS = 3


@dataclass(frozen=True)
class Progress:
    """How far the work is: the smallest share of a target done, milestones late."""

    share_done: Decimal | None = None  # None: the problem has no quantity target
    milestone_late: bool = False


def working_days_left(today: dt.date, due_on: dt.date) -> int:
    """Count the working days after ``today`` up to and including ``due_on``."""
    left, day = 0, today
    while day < due_on and left <= BLUE_WORKING_DAYS:
        day += dt.timedelta(days=1)
        if calendar.is_working_day(day):
            left += 1
    return left


def time_share(today: dt.date, starts_on: dt.date, due_on: dt.date) -> Decimal:
    """The share of the whole days from ``starts_on`` to ``due_on`` (inclusive) gone by
    the start of ``today``: nothing is behind on its first day."""
    total = (due_on - starts_on).days + 1
    gone = (today - starts_on).days
    return Decimal(min(max(gone, 0), total)) / Decimal(max(total, 1))


def colour_of(*, now: dt.datetime, starts_on: dt.date, due_on: dt.date, progress: Progress) -> str:
    """Return the colour of open work due on ``due_on`` at ``now``."""
    if now > calendar.end_of_day(due_on):
        return Colour.RED
    today = now.astimezone(calendar.LOCAL_TZ).date()
    behind = progress.milestone_late or (
        progress.share_done is not None
        and progress.share_done < time_share(today, starts_on, due_on)
    )
    if behind:
        return Colour.YELLOW
    if working_days_left(today, due_on) <= BLUE_WORKING_DAYS:
        return Colour.BLUE
    return Colour.NONE


def share_done(pairs: Iterable[tuple[Decimal, Decimal]]) -> Decimal | None:
    """The smallest share done over (done, target) pairs; None without targets."""
    shares = [min(done / target, Decimal(1)) for done, target in pairs if target > 0]
    return min(shares) if shares else None
