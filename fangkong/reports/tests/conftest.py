"""Helpers for the reports tests: declarations through the service, a controllable clock."""

import datetime as dt

import pytest
from django.utils import timezone

from fangkong.accounts.models import User
from fangkong.health.models import Declaration
from fangkong.health.services import declarations_submit
from fangkong.health.tests.factories import raw_declaration
from fangkong.reports.plans import local_moment


def declare(person, day=None, **fields) -> Declaration:
    """File ``person``'s declaration for ``day`` (today) as the office would, superseding."""
    day = day or timezone.localdate()
    office, _created = User.objects.get_or_create(
        username="test-office", defaults={"is_superuser": True}
    )
    items = [raw_declaration(person, day=day.isoformat(), **fields)]
    [stored] = declarations_submit(actor=office, items=items, today=day)
    return stored.declaration


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
