"""Signals for apps above travel (tracking opens cards from exposures).

``exposures_found`` is sent with ``exposures: list[Exposure]`` after a risk-area raise has
been re-checked against the itineraries in the look-back window; receivers run inside the
raising service's transaction, so a failing receiver rolls the raise back with it.
"""

import datetime as dt
from dataclasses import dataclass

from django.dispatch import Signal


@dataclass(frozen=True, slots=True)
class Exposure:
    """One itinerary that lay in a (newly) risky area inside the look-back window."""

    person_id: int
    unit_id: int
    itinerary_id: int
    division_code: str  # the risk area's code (province, city or county)
    level: str  # RiskLevel value: "medium" or "high"
    last_day: dt.date  # the last day the person was there while the level was in force


# exposures: list[Exposure]
exposures_found = Signal()
