"""Queue jobs of rectification: they only call services."""

from typing import Any

from django.utils import timezone

from . import nightly


def colours_recompute() -> dict[str, Any]:
    """Nightly (01:00 Asia/Shanghai): every open problem's and order's colour, the day's counts."""
    return nightly.colours_recompute(timezone.now())


def send_colour_notices(batches: list[dict[str, Any]]) -> int:
    """Tell the units one nightly run changed colours in (one notice per unit and colour)."""
    return nightly.colour_notices_send(batches=batches)
