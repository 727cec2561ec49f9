"""Small builders for the travel tests."""

import datetime as dt
from contextlib import contextmanager

from django.utils import timezone

from fangkong.core.models import Division
from fangkong.travel.models import Itinerary
from fangkong.travel.services import AreaChange, risk_areas_apply
from fangkong.travel.signals import exposures_found

WUHAN = "420100"
JIANGAN = "420102"  # a district of Wuhan
HUBEI = "420000"
ZHANGDIAN = "370303"


def days_ago(n: int) -> dt.date:
    return timezone.localdate() - dt.timedelta(days=n)


def trip(person, code: str, first: int, last: int, **extra) -> Itinerary:
    """An itinerary ``first``..``last`` days ago in region ``code``."""
    return Itinerary.objects.create(
        person=person, division_id=code, from_day=days_ago(first), to_day=days_ago(last), **extra
    )


def set_level(code: str, level: str, *, since: int = 0, stays_since: int | None = None, actor=None):
    """Put a region on the list at ``level`` from ``since`` days ago.

    Stays count from ``stays_since`` days ago (None: the look-back default).
    """
    stays = None if stays_since is None else days_ago(stays_since)
    division = Division.objects.get(code=code)
    return risk_areas_apply(
        actor=actor, changes=[AreaChange(division, level, days_ago(since), stays)]
    )


@contextmanager
def captured_exposures():
    """Collect what ``exposures_found`` sends while the block runs."""
    sent: list = []

    def receive(sender, exposures, **kwargs):
        sent.extend(exposures)

    exposures_found.connect(receive, weak=False)
    try:
        yield sent
    finally:
        exposures_found.disconnect(receive)
