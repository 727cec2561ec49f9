"""Signals for apps above health that act on declarations (e.g. tracking's abnormal cards).

Sent inside the service's transaction, after the declarations are stored: a receiver
that fails rolls the declarations back, so nothing abnormal is stored without its card.
"""

from django.dispatch import Signal

# declarations: list[Declaration] — the newly stored current declarations whose status is
# not green (one per person and day, with pk, person_id, unit_path, day, reasons set);
# actor: the filer (None for a person's own link).
abnormal_declared = Signal()
