"""The working-day calendar: weekends, China's public holidays and make-up working days (调休).

The ``holidays`` package knows the State Council's holiday notice for the years it lists in
its static data; for later years it only estimates the fixed holidays and knows no make-up
days. Admins enter the new notice's days as overrides (``CalendarDay``, which win) and mark
the year as entered (``CalendarNotice``). A deadline falling in a year nobody vouches for is
flagged as estimated.

Everything here is a pure function of the date and the override table. The table is read
into a per-process memo (``core.memo``), dropped when an override changes in this process
(signals in ``core.apps``) and at the latest after ``CACHE_SECONDS`` in others.
"""

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays
from django.db.utils import DatabaseError

from .memo import Memo

LOCAL_TZ = ZoneInfo("Asia/Shanghai")
CACHE_SECONDS = 60
# n working days never span more than this many calendar days (Spring Festival + weekends).
_MAX_STEP_DAYS = 30


def _package_official_years() -> frozenset[int]:
    """Return the years whose State Council notice the holidays package has entered."""
    try:
        from holidays.countries.china import ChinaStaticHolidays

        return frozenset(ChinaStaticHolidays.special_public_holidays)
    except (ImportError, AttributeError):  # a later package version reorganised its data
        return frozenset(range(2001, 2027))


PACKAGE_OFFICIAL_YEARS = _package_official_years()


@dataclass(frozen=True)
class Deadline:
    due_at: dt.datetime
    estimated: bool


@dataclass
class _Overrides:
    days: dict[dt.date, bool]
    notice_years: frozenset[int]


def _load_overrides() -> _Overrides:
    from .models import CalendarDay, CalendarNotice

    try:
        days = dict(CalendarDay.objects.values_list("day", "is_working"))
        years = frozenset(CalendarNotice.objects.values_list("year", flat=True))
    except DatabaseError:  # before the first migration: the package alone
        days, years = {}, frozenset()
    return _Overrides(days=days, notice_years=years)


overrides = Memo(_load_overrides, seconds=CACHE_SECONDS)


def _overrides() -> _Overrides:
    return overrides.get()


@lru_cache(maxsize=64)
def package_year(year: int) -> tuple[dict[dt.date, str], frozenset[dt.date]]:
    """Return the package's ({holiday: name}, make-up working days) of one year."""
    china = holidays.China(years=year, language="zh_CN")
    days_off = {day: str(name) for day, name in china.items() if day.year == year}
    make_up = frozenset(day for day in china.weekend_workdays if day.year == year)
    return days_off, make_up


def package_is_working_day(day: dt.date) -> bool:
    """Tell whether ``day`` is a working day by the package alone (no overrides)."""
    days_off, make_up = package_year(day.year)
    if day in make_up:
        return True
    if day in days_off:
        return False
    return day.weekday() < 5


def is_working_day(day: dt.date) -> bool:
    """Tell whether ``day`` is a working day: overrides, then the package, then weekends."""
    override = _overrides().days.get(day)
    if override is not None:
        return override
    return package_is_working_day(day)


def add_working_days(start: dt.date, n: int) -> dt.date:
    """Return the ``n``-th working day after ``start`` (counting starts the next day).

    ``n = 0`` returns ``start`` itself. A Friday plus one working day is the Monday after
    an ordinary weekend.
    """
    if n < 0:
        raise ValueError("n must not be negative")
    day, left = start, n
    limit = start + dt.timedelta(days=_MAX_STEP_DAYS * max(n, 1) + 366)
    while left:
        day += dt.timedelta(days=1)
        if day > limit:  # an override table marking everything off must not hang a request
            raise ValueError("no working day found")
        if is_working_day(day):
            left -= 1
    return day


def year_is_official(year: int) -> bool:
    """Tell whether the year's holiday notice is known: in the package or entered by admins."""
    return year in PACKAGE_OFFICIAL_YEARS or year in _overrides().notice_years


def end_of_day(day: dt.date) -> dt.datetime:
    """Return 23:59:59 Asia/Shanghai on ``day``, as an aware datetime."""
    return dt.datetime.combine(day, dt.time(23, 59, 59), LOCAL_TZ)


def working_deadline(opened_at: dt.datetime, days: int) -> Deadline:
    """Return the end of the ``days``-th working day after ``opened_at``'s local day."""
    start = opened_at.astimezone(LOCAL_TZ).date()
    due = add_working_days(start, days)
    return Deadline(due_at=end_of_day(due), estimated=not year_is_official(due.year))


@dataclass(frozen=True)
class CalendarEntry:
    """One day that differs from an ordinary week, for the calendar page."""

    day: dt.date
    is_working: bool
    name: str
    source: str  # "package" or "override"
    override_id: int | None = None
    note: str = ""


def special_days(year: int) -> list[CalendarEntry]:
    """Return the year's non-working weekdays and working weekend days, overrides applied."""
    from django.utils.translation import gettext as _

    from .models import CalendarDay

    days_off, make_up = package_year(year)
    entries: dict[dt.date, CalendarEntry] = {}
    for day, name in days_off.items():
        if day.weekday() < 5 and day not in make_up:
            entries[day] = CalendarEntry(day, False, name, "package")
    for day in make_up:
        entries[day] = CalendarEntry(day, True, _("Make-up working day"), "package")
    for row in CalendarDay.objects.filter(day__year=year):
        entries[row.day] = CalendarEntry(
            row.day, row.is_working, row.name, "override", row.pk, row.note
        )
    return [entries[day] for day in sorted(entries)]
