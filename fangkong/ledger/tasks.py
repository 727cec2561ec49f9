"""Queue jobs of the ledger: they only call services."""

from django.utils import timezone

from . import services


def overdue_sweep() -> dict[str, int]:
    """Periodic: warn about deadlines due soon, mark and escalate breached ones."""
    return services.overdue_sweep(timezone.now())
