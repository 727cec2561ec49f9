"""Builders for the tracking tests: declarations through the real service, card lookups."""

import datetime as dt
from typing import Any

from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from fangkong.health import services as health
from fangkong.health.models import Declaration
from fangkong.health.tests.factories import raw_declaration
from fangkong.ledger.keys import person_key
from fangkong.ledger.models import Item
from fangkong.tracking.kinds import ABNORMAL


def days_ago(n: int) -> str:
    return (timezone.localdate() - dt.timedelta(days=n)).isoformat()


def declare(org: Any, person: Any, *, ago: int = 0, **fields: Any) -> Any:
    """File one declaration for ``person`` as a group grid worker (a proxy)."""
    worker = org.user("grid_worker", org.group)
    [stored] = health.declarations_submit(
        actor=worker, items=[raw_declaration(person, day=days_ago(ago), **fields)]
    )
    return stored.declaration


def card_of(person: Any, kind: str = ABNORMAL) -> Item | None:
    return Item.objects.filter(kind=kind, open_key=person_key(person.pk), is_open=True).first()


def abnormal_without_card() -> list[int]:
    """The invariant: people with a current abnormal declaration and no card that was open
    when it was stored (an open card, or one closed out after the declaration came in).
    """
    card = Item.objects.filter(kind=ABNORMAL, person=OuterRef("person_id")).filter(
        Q(is_open=True) | Q(closed_at__gte=OuterRef("created_at"))
    )
    return sorted(
        Declaration.objects.filter(is_current=True)
        .exclude(status="green")
        .exclude(Exists(card))
        .values_list("person_id", flat=True)
        .distinct()
    )


def open_card_for(person: Any, *, ready: bool = False) -> Item:
    """Open an abnormal card for ``person`` as the system; ``ready``: 3 normal days first."""
    from fangkong.health.demo import declaration
    from fangkong.ledger.services import item_open

    if ready:
        today = timezone.localdate()
        for n in range(3):
            day = today - dt.timedelta(days=n)
            Declaration.objects.filter(person=person, day=day).update(is_current=False)
            declaration(person, day).save()
    item, _created = item_open(
        actor=None,
        kind=ABNORMAL,
        subject=person,
        unit=person.unit,
        title=person.name,
        person=person,
        open_key=person_key(person.pk),
    )
    return item
