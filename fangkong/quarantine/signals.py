"""Signals other apps listen to (tracking switches a card's follow-up cadence to 12 h).

Both are sent inside the service's transaction, after the placement row has changed, with
``person_id`` and ``placement_id`` as keyword arguments.
"""

from django.dispatch import Signal

# A person entered quarantine (centralised or at home).
placement_started = Signal()
# A person's quarantine ended: released with approval, or the placement was cancelled.
placement_released = Signal()
