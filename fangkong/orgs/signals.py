"""Signals for apps that keep copies of people's unit paths (e.g. health declarations).

Sent inside the service's transaction, after the people rows have changed.
"""

from django.dispatch import Signal

# old_path, new_path: every path under old_path now starts with new_path.
subtree_moved = Signal()
# person, old_path: the person now belongs to person.unit_path.
person_moved = Signal()
# survivor, duplicate: the duplicate record was merged into the survivor.
person_merged = Signal()
