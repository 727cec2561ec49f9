"""Queue jobs of the passes app: they only call services."""

from django.utils import timezone

from . import services


def trust_list_refresh() -> None:
    """Periodic (hourly): re-sign the trust list when it is 6 hours old or a key changed,
    so a served list always has more than 40 of its 48 hours left."""
    services.trust_list_current(now=timezone.now())
