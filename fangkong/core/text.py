"""Clean text that arrives from forms, Excel and CSV files; dates and times as text."""

import datetime as dt
import re
import unicodedata
from typing import Any

from django.utils import timezone

_SPACES = re.compile(r"\s+")
EXCEL_EPOCH = dt.date(1899, 12, 30)
# The one rule for text at the boundary: C0 and C1 control characters, DEL and lone UTF-16
# surrogates are refused; tab, line feed and carriage return are text. PostgreSQL refuses
# NUL and surrogates outright, and the rest break exports, terminals and XML (xlsx).
FORBIDDEN_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def forbidden_character_in(text: str) -> str | None:
    """Return the first forbidden character of ``text`` (see FORBIDDEN_CHARACTERS), or None."""
    found = FORBIDDEN_CHARACTERS.search(text)
    return found.group() if found else None


def clean_cell(value: Any) -> str:
    """Return a cell as text: full-width folded to half-width, spaces trimmed and collapsed."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = unicodedata.normalize("NFKC", str(value))
    return _SPACES.sub(" ", text).strip()


def clean_text(value: Any) -> str:
    """Return free text (a sentence, a notice's title) trimmed, spaces collapsed.

    Unlike ``clean_cell`` it keeps full-width characters: Chinese punctuation (：，（）) is
    part of the sentence, not a typing slip to fold into ASCII.
    """
    if value is None:
        return ""
    return _SPACES.sub(" ", str(value)).strip()


def compact(value: Any) -> str:
    """Return a cell with every space removed (ID numbers, phones, codes)."""
    return _SPACES.sub("", clean_cell(value))


# Every date anyone types here (birth, declaration, report, quarantine, calendar) lies in
# this window; outside it, date arithmetic (a 30-day trend, a 14-day quarantine) overflows.
FIRST_DAY = dt.date(1900, 1, 1)
LAST_DAY = dt.date(2099, 12, 31)


def parse_date(value: Any) -> dt.date | None:
    """Read a date from a datetime, an Excel serial number or a common text form.

    Raise ValueError when the value is not empty and not a date between FIRST_DAY and
    LAST_DAY.
    """
    day = _read_date(value)
    if day is not None and not FIRST_DAY <= day <= LAST_DAY:
        raise ValueError(day)
    return day


def _read_date(value: Any) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _from_serial(float(value))
    text = compact(value)
    if not text:
        return None
    if re.fullmatch(r"\d{1,5}(\.\d+)?", text):
        return _from_serial(float(text))
    match = re.fullmatch(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?", text)
    if match:
        return dt.date(*(int(part) for part in match.groups()))
    if re.fullmatch(r"\d{8}", text):
        return dt.date(int(text[:4]), int(text[4:6]), int(text[6:]))
    raise ValueError(text)


def _from_serial(serial: float) -> dt.date:
    if not 1 <= serial < 2958466:
        raise ValueError(serial)
    return EXCEL_EPOCH + dt.timedelta(days=int(serial))


def mask_middle(value: str, *, keep_start: int, keep_end: int) -> str:
    """Replace the middle of a value with asterisks, keeping its length."""
    if not value:
        return ""
    if len(value) <= keep_start + keep_end:
        return "*" * len(value)
    hidden = len(value) - keep_start - keep_end
    return value[:keep_start] + "*" * hidden + (value[-keep_end:] if keep_end else "")


def time_window(start: dt.datetime, end: dt.datetime) -> str:
    """A window in local time, "08:00–18:00"; one that runs to midnight ends at 24:00."""
    start, end = timezone.localtime(start), timezone.localtime(end)
    to_midnight = end.time() == dt.time.min and end.date() > start.date()
    return f"{start:%H:%M}–{'24:00' if to_midnight else f'{end:%H:%M}'}"


def local_minute(moment: dt.datetime | None) -> str:
    """A moment as lists and exports write it: local time to the minute, "" for none."""
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else ""
