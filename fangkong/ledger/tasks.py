"""Queue jobs of the ledger: they only call services."""

from typing import Any

from django.utils import timezone

from . import services


def overdue_sweep() -> dict[str, int]:
    """Periodic: warn about deadlines due soon, mark and escalate breached ones."""
    return services.overdue_sweep(timezone.now())


def send_sweep_notices(batches: list[dict[str, Any]]) -> int:
    """Notify the units one sweep found warnings or breaches in."""
    return services.sweep_notices_send(batches=batches)
