"""Queue jobs of the reports app: they only call services."""

from django.utils import timezone

from . import services


def deadline_sweep() -> None:
    """Periodic: raise the reminders and escalations due now."""
    services.deadline_sweep(now=timezone.now())


def send_alarms(sweep: str) -> int:
    """Notify the recipients of the alarms one sweep raised."""
    return services.alarms_send(sweep=sweep)
