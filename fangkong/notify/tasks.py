"""Queue entry points of the notify app: they only call services."""

from .services import deliveries_send_due, delivery_attempt


def deliver(delivery_ids: list[int]) -> None:
    """Make the first attempt at freshly recorded deliveries (queued after commit)."""
    for delivery_id in delivery_ids:
        delivery_attempt(delivery_id=delivery_id)


def deliver_due() -> int:
    """Send every pending or failed delivery whose next attempt is due (every minute)."""
    return deliveries_send_due()
