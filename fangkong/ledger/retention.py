"""Erasing the ledger items of a past outbreak, for the apps whose kinds they are.

The ledger does not know which kinds carry personal data; an app that registers a kind
also registers its purge with ``item_purgers`` (tracking's cards, quarantine's placements).
An item is due once closed and opened within the period: its history (follow-ups, checks,
state changes, attachments) is deleted, and the item itself is kept, anonymised, for the
counts of cards per unit and how their deadlines went (state, times and clocks stay).
An item still open is left alone; a later run erases it once it is closed.
"""

from typing import Any

from django.db.models import CharField, F, QuerySet, Value
from django.db.models.functions import Cast, Concat

from fangkong.core.retention import Period, Purger

from .models import Entry, Item

# An anonymised item is titled "#<its id>": the mark that it has been done.
ANONYMOUS_TITLE = Concat(Value("#"), Cast(F("id"), output_field=CharField()))


def items_due(kinds: tuple[str, ...], period: Period) -> QuerySet[Item]:
    """Return the closed items of ``kinds`` opened within ``period``."""
    return Item.objects.filter(kind__in=kinds, is_open=False).filter(period.instants("opened_at"))


def item_purgers(
    *, key: str, kinds: tuple[str, ...], entries_label: Any, items_label: Any, drop_subject: bool
) -> tuple[Purger, Purger]:
    """Return the two purgers of ``kinds``: their history entries, then the items.

    ``drop_subject``: the item's subject is the person, so the link to it goes as well
    (person emptied, subject id 0); otherwise the subject is a record its own app erases.
    """
    changes: dict[str, Any] = {
        "title": ANONYMOUS_TITLE,
        "data": {},
        "close_reason": "",
        "open_key": None,
    }
    if drop_subject:
        changes.update(person=None, object_id=0)

    def entries(period: Period) -> QuerySet[Entry]:
        return Entry.objects.filter(item__in=items_due(kinds, period).values("pk"))

    def items(period: Period) -> QuerySet[Item]:
        return items_due(kinds, period).exclude(title=ANONYMOUS_TITLE)

    return (
        Purger(key=f"{key}.entries", label=entries_label, due=entries, file_field="file"),
        Purger(key=f"{key}.items", label=items_label, due=items, changes=changes),
    )
