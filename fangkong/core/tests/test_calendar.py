"""The working-day calendar: holidays and make-up days from the package, overrides win."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from fangkong.core import calendar
from fangkong.core.models import CalendarDay, CalendarNotice

SHANGHAI = ZoneInfo("Asia/Shanghai")
D = dt.date
pytestmark = pytest.mark.django_db


def test_national_day_2025_and_its_make_up_days():
    # 2025 notice: 1–8 October off; Sunday 28 September and Saturday 11 October are worked.
    assert calendar.is_working_day(D(2025, 9, 28))  # a Sunday, worked
    assert not calendar.is_working_day(D(2025, 10, 1))
    assert not calendar.is_working_day(D(2025, 10, 8))  # a Wednesday, off
    assert calendar.is_working_day(D(2025, 10, 11))  # a Saturday, worked
    assert not calendar.is_working_day(D(2025, 10, 12))


def test_working_day_deadline_spans_national_day_and_the_make_up_saturday():
    opened = dt.datetime(2025, 9, 30, 16, 30, tzinfo=SHANGHAI)  # Tuesday before the holiday
    # Counting starts on the next working day: Thu 9 Oct, Fri 10 Oct, Sat 11 Oct (make-up).
    deadline = calendar.working_deadline(opened, 3)
    assert deadline.due_at == dt.datetime(2025, 10, 11, 23, 59, 59, tzinfo=SHANGHAI)
    assert deadline.estimated is False
    assert calendar.add_working_days(D(2025, 9, 30), 4) == D(2025, 10, 13)
    # The make-up Sunday before the holiday counts as well.
    assert calendar.add_working_days(D(2025, 9, 26), 1) == D(2025, 9, 28)


def test_counting_starts_on_the_next_working_day():
    assert calendar.add_working_days(D(2025, 3, 7), 1) == D(2025, 3, 10)  # Friday → Monday
    assert calendar.add_working_days(D(2025, 3, 8), 1) == D(2025, 3, 10)  # Saturday → Monday
    assert calendar.add_working_days(D(2025, 3, 10), 0) == D(2025, 3, 10)


def test_deadline_in_a_year_without_a_notice_is_estimated_until_the_notice_is_entered():
    assert calendar.year_is_official(2026)
    assert not calendar.year_is_official(2099)
    opened = dt.datetime(2099, 3, 2, 9, 0, tzinfo=SHANGHAI)
    assert calendar.working_deadline(opened, 5).estimated is True
    CalendarNotice.objects.create(year=2099, note="国办发明电")
    assert calendar.year_is_official(2099)
    assert calendar.working_deadline(opened, 5).estimated is False


def test_a_deadline_crossing_into_an_unknown_year_is_estimated():
    opened = dt.datetime(2026, 12, 29, 9, 0, tzinfo=SHANGHAI)
    deadline = calendar.working_deadline(opened, 10)
    assert deadline.due_at.year == 2027
    assert deadline.estimated is True


def test_overrides_win_and_the_cache_follows_them():
    day = D(2099, 3, 3)  # a Tuesday
    assert calendar.is_working_day(day)
    row = CalendarDay.objects.create(day=day, is_working=False, name="假日")
    assert not calendar.is_working_day(day)
    assert calendar.add_working_days(D(2099, 3, 2), 1) == D(2099, 3, 4)
    row.delete()
    assert calendar.is_working_day(day)


def test_special_days_list_the_years_holidays_and_make_up_days():
    days = {entry.day: entry for entry in calendar.special_days(2025)}
    assert days[D(2025, 10, 1)].is_working is False
    assert days[D(2025, 10, 11)].is_working is True
    assert D(2025, 10, 4) not in days  # an ordinary weekend day off is not special
