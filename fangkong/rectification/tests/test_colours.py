"""The colour rule: red when overdue, yellow when behind the pro-rata schedule, blue with
3 working days or fewer left on the official calendar."""

import datetime as dt
from decimal import Decimal

import pytest

from fangkong.rectification.colours import Progress, colour_of, time_share, working_days_left
from fangkong.rectification.models import Colour

from .helpers import at

pytestmark = pytest.mark.django_db

NOV_2, NOV_20 = dt.date(2026, 11, 2), dt.date(2026, 11, 20)


def test_698_lamps_with_300_done_at_60_percent_of_the_time_is_yellow():
    # Ten days, 2–11 November; by 8 November six whole days (60 %) are gone.
    nov_11, sixty_percent = dt.date(2026, 11, 11), at("2026-11-08")
    assert time_share(sixty_percent.date(), NOV_2, nov_11) == Decimal("0.6")
    behind = Progress(share_done=Decimal(300) / Decimal(698))
    assert colour_of(now=sixty_percent, starts_on=NOV_2, due_on=nov_11, progress=behind) == (
        Colour.YELLOW
    )
    # 450 done (64 %) is ahead; with Monday to Wednesday left it is only blue.
    ahead = Progress(share_done=Decimal(450) / Decimal(698))
    assert colour_of(now=sixty_percent, starts_on=NOV_2, due_on=nov_11, progress=ahead) == (
        Colour.BLUE
    )


def test_nothing_is_behind_on_its_first_day():
    nothing_yet = Progress(share_done=Decimal(0))
    assert (
        colour_of(
            now=at("2026-11-02", "18:00"), starts_on=NOV_2, due_on=NOV_20, progress=nothing_yet
        )
        == Colour.NONE
    )


def test_two_working_days_left_across_a_weekend_is_blue():
    friday, tuesday = at("2026-11-13", "16:00"), dt.date(2026, 11, 17)
    assert working_days_left(friday.date(), tuesday) == 2  # Monday and Tuesday
    assert colour_of(now=friday, starts_on=NOV_2, due_on=tuesday, progress=Progress()) == (
        Colour.BLUE
    )
    # Four working days away is not blue yet.
    assert (
        colour_of(now=at("2026-11-11"), starts_on=NOV_2, due_on=tuesday, progress=Progress())
        == Colour.NONE
    )


def test_the_national_day_holiday_is_not_counted_as_working_days():
    # From 30 September, 1–7 October 2026 are holidays; 9 October (Friday) is a working day.
    assert working_days_left(dt.date(2026, 9, 30), dt.date(2026, 10, 9)) == 2


def test_overdue_is_red_and_red_beats_yellow():
    late = at("2026-11-21", "00:10")
    assert (
        colour_of(
            now=late, starts_on=NOV_2, due_on=NOV_20, progress=Progress(share_done=Decimal(0))
        )
        == Colour.RED
    )
    # The last second of the due day is still in time.
    assert (
        colour_of(
            now=at("2026-11-20", "23:59"), starts_on=NOV_2, due_on=NOV_20, progress=Progress()
        )
        == Colour.BLUE
    )


def test_a_milestone_past_its_day_undone_is_behind():
    progress = Progress(milestone_late=True)
    assert colour_of(now=at("2026-11-05"), starts_on=NOV_2, due_on=NOV_20, progress=progress) == (
        Colour.YELLOW
    )
