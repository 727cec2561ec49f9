"""The re-check after a raise: itineraries that lay in a newly risky area, set-based.

For each raised area one indexed range query finds the itineraries whose region the area
covers and whose days overlap the days the area's level applies to (from its
``stays_since`` to the end of its period) inside the look-back window
(``today - lookback_days`` … ``today``). Itineraries that ended before the window are not
exposures any more and are not reported.
"""

import datetime as dt
from collections.abc import Sequence

from django.utils import timezone

from fangkong.health.models import OutbreakProfile

from .models import EXPOSURE_LEVELS, LEVEL_RANK, Itinerary, RiskArea
from .regions import code_range_q, covering_prefix
from .signals import Exposure, exposures_found


def look_back_window(
    today: dt.date | None = None, *, days: int | None = None
) -> tuple[dt.date, dt.date]:
    """Return the first and last day (inclusive) of the look-back window ending ``today``."""
    today = today or timezone.localdate()
    days = OutbreakProfile.current().lookback_days if days is None else days
    return today - dt.timedelta(days=days), today


def default_stays_since(effective_from: dt.date, today: dt.date | None = None) -> dt.date:
    """Return the first day of the stays a new level applies to, unless the office says.

    The start of today's look-back window: raising a region is about who was there
    recently. Never after the day the level takes effect.
    """
    return min(effective_from, look_back_window(today)[0])


def area_days(area: RiskArea, window: tuple[dt.date, dt.date]) -> tuple[dt.date, dt.date] | None:
    """Return the days (inclusive) inside the window whose stays count at the area's level."""
    start = max(area.stays_since, window[0])
    end = window[1]
    if area.effective_to is not None:
        end = min(end, area.effective_to - dt.timedelta(days=1))
    return (start, end) if start <= end else None


def exposures_for(areas: Sequence[RiskArea], *, window: tuple[dt.date, dt.date]) -> list[Exposure]:
    """Return one exposure per itinerary lying in one of ``areas`` (the highest level wins).

    Only medium- and high-risk areas make exposures; people no longer active are left out.
    """
    found: dict[int, Exposure] = {}
    for area in areas:
        if area.level not in EXPOSURE_LEVELS:
            continue
        days = area_days(area, window)
        if days is None:
            continue
        prefix = covering_prefix(area.division_id, area.division.level)
        rows = (
            Itinerary.objects.filter(
                code_range_q("division_id", prefix),
                to_day__gte=days[0],
                from_day__lte=days[1],
                person__is_active=True,
            )
            .values_list("pk", "person_id", "person__unit_id", "to_day")
            .order_by()
        )
        for pk, person_id, unit_id, to_day in rows.iterator(chunk_size=10_000):
            earlier = found.get(pk)
            if earlier is not None and LEVEL_RANK[earlier.level] >= LEVEL_RANK[area.level]:
                continue
            found[pk] = Exposure(
                person_id=person_id,
                unit_id=unit_id,
                itinerary_id=pk,
                division_code=area.division_id,
                level=area.level,
                last_day=min(to_day, days[1]),
            )
    return list(found.values())


def announce(exposures: list[Exposure]) -> None:
    """Tell the apps above (tracking) about the exposures; nothing is sent for none."""
    if exposures:
        exposures_found.send(sender=RiskArea, exposures=exposures)
