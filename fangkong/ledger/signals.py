"""What the ledger tells the apps whose kinds it runs.

``item_state_changed`` is sent inside the service's transaction after an item's new state
is saved, whoever changed it (pages, API, sweep), with ``item`` and ``previous`` (the
state before). Apps that keep a record in step with their items (quarantine placements)
listen to it.
"""

from django.dispatch import Signal

item_state_changed = Signal()
