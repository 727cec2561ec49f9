"""What the ledger tells the apps whose kinds it runs.

``item_state_changed`` is sent inside the service's transaction after an item's new state
is saved, whoever changed it (pages, API, sweep), with ``item`` and ``previous`` (the
state before). Apps that keep a record in step with their items (quarantine placements)
listen to it.
"""

from django.dispatch import Signal

item_state_changed = Signal()

# ``items_opened`` is sent inside the opening transaction, after the items (one or
# thousands) are inserted, with ``kind`` (the key) and ``items`` (with pk, person_id and
# open_key set). Apps that act when a card opens (passes revoke the holder's pass) listen.
items_opened = Signal()
