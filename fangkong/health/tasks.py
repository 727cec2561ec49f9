"""Queue jobs of the health card: they only call services."""

from typing import Any

from . import retention


def purge_personal_data() -> dict[str, Any]:
    """Daily: erase the personal data of outbreaks whose retention is over; audited."""
    return retention.purge_personal_data().as_dict()
