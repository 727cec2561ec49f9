"""Helpers for the reports tests: declarations inserted directly, a controllable clock."""

import datetime as dt

import pytest
from django.utils import timezone

from fangkong.health.demo import declaration
from fangkong.health.models import Declaration
from fangkong.reports.plans import local_moment


def declare(person, day=None, **fields) -> Declaration:
    """Save ``person``'s declaration for ``day`` (today), superseding an earlier one."""
    day = day or timezone.localdate()
    Declaration.objects.filter(person=person, day=day, is_current=True).update(is_current=False)
    row = declaration(person, day, **fields)
    row.save()
    return row


@pytest.fixture
def today() -> dt.date:
    return timezone.localdate()


@pytest.fixture
def at(today):
    """Return the aware moment of local ``"HH:MM"`` today (the controllable clock)."""

    def moment(hhmm: str, day: dt.date | None = None) -> dt.datetime:
        hours, minutes = (int(part) for part in hhmm.split(":"))
        return local_moment(day or today, dt.time(hours, minutes))

    return moment
