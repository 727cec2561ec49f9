"""Queue jobs of service evaluation: they only call services."""

from django.utils import timezone

from . import services


def follow_ups_expire() -> int:
    """Periodic: close the bad reviews whose follow-up review did not come in time."""
    return services.follow_ups_expire(now=timezone.now())
