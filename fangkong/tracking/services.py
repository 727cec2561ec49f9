"""Every write of tracking: cards from declarations, exposures and by hand; contacts; close-out.

Cards are ledger items (kinds in ``kinds``); opening goes through the ledger's services.
Automatic openings run as the system (``actor=None``): whoever filed a declaration, the
card must exist, whether or not the filer may work cards.
"""

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.accounts.actors import Actor
from fangkong.accounts.roles import Perm
from fangkong.accounts.selectors import require_perm
from fangkong.core.audit import audit_record, audit_rows, snapshot
from fangkong.core.bulk import insert_values
from fangkong.core.errors import InvalidInput
from fangkong.core.models import AuditLog, Division
from fangkong.health.models import Declaration
from fangkong.health.status import reason_labels
from fangkong.ledger import services as ledger
from fangkong.ledger.keys import person_from_key, person_key
from fangkong.ledger.models import Entry, Item
from fangkong.ledger.owners import owners_for, owners_for_paths
from fangkong.orgs.models import Person
from fangkong.quarantine.models import Placement
from fangkong.travel.models import LEVEL_RANK, RiskLevel

from .kinds import ABNORMAL, CONTACT, DAILY_HOURS, QUARANTINE_HOURS
from .models import CloseContact, Relation
from .rules import close_check, observation_end

_CHUNK = 500


def _chunks(values: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start : start + _CHUNK]


def _open_cards(kind: str, person_ids: Iterable[int]) -> dict[int, Item]:
    """Return {person id: open card of ``kind``} for the given people."""
    keys = [person_key(pk) for pk in sorted(set(person_ids))]
    found: dict[int, Item] = {}
    for chunk in _chunks(keys):
        for item in Item.objects.filter(kind=kind, is_open=True, open_key__in=chunk):
            found[person_from_key(str(item.open_key))] = item
    return found


def _in_quarantine(person_ids: Iterable[int]) -> set[int]:
    ids = sorted(set(person_ids))
    found: set[int] = set()
    for chunk in _chunks(ids):
        found.update(
            Placement.objects.filter(
                state__in=Placement.OPEN_STATES, person_id__in=chunk
            ).values_list("person_id", flat=True)
        )
    return found


def _people(person_ids: Iterable[int]) -> dict[int, Person]:
    ids = sorted(set(person_ids))
    people: dict[int, Person] = {}
    for chunk in _chunks(ids):
        people.update(
            Person.objects.filter(pk__in=chunk, is_active=True)
            .select_related("unit")
            # What a card needs: thousands at a time after a risk-area raise.
            .only("name", "unit_path", "unit__path", "unit__name", "unit__code")
            .in_bulk()
        )
    return people


def _add_notes(cards: dict[int, Item], texts: dict[int, tuple[str, dict[str, Any]]]) -> None:
    """Add a system entry to each refreshed card (multi-row INSERTs) and audit per unit."""
    now = timezone.now()
    insert_values(
        Entry,
        ["item_id", "kind", "at", "text", "data"],
        [
            (item.pk, Entry.Kind.SYSTEM, now, texts[pid][0], texts[pid][1])
            for pid, item in cards.items()
        ],
    )
    by_path: dict[str, list[int]] = defaultdict(list)
    for item in cards.values():
        by_path[item.unit_path].append(item.pk)
    kind = next(iter(cards.values())).kind
    audit_rows(
        actor=None,
        action=AuditLog.Action.UPDATE,
        rows=(
            {
                "object_type": "ledger.item",
                "object_id": str(ids[0]),
                "object_repr": f"{kind}: {len(ids)} card(s) refreshed",
                "scope_path": path,
                "after": {"ids": ids},
            }
            for path, ids in by_path.items()
        ),
    )


def _open_many(
    kind: str,
    rows: dict[int, tuple[str, dict[str, Any]]],
    people: dict[int, Person],
    *,
    opened_at: dict[int, dt.datetime] | None = None,
) -> int:
    """Open a card for each person of ``rows`` ({person id: (title, data)}) in one go."""
    owners = owners_for_paths({people[pid].unit_path for pid in rows})
    person_type = ContentType.objects.get_for_model(Person)
    new_rows = [
        ledger.NewItem(
            subject=None,
            content_type=person_type,
            object_id=pid,
            unit=people[pid].unit,
            title=title,
            person=people[pid],
            owner_ids=[user.pk for user in owners[people[pid].unit_path]],
            open_key=person_key(pid),
            data=data,
            opened_at=(opened_at or {}).get(pid),
        )
        for pid, (title, data) in rows.items()
    ]
    opened = ledger.items_open_bulk(actor=None, kind=kind, rows=new_rows)
    _quarantine_cadence(kind, list(rows))
    return opened


def _quarantine_cadence(kind: str, person_ids: list[int]) -> None:
    """Follow people who are in quarantine twice a day from the start."""
    quarantined = _in_quarantine(person_ids)
    if quarantined:
        for item in _open_cards(kind, quarantined).values():
            ledger.item_set_cadence(actor=None, item=item, every_hours=QUARANTINE_HOURS)


# ------------------------------------------------------------------ abnormal declarations


@transaction.atomic
def cards_for_declarations(*, declarations: Sequence[Declaration], backdate: bool = False) -> int:
    """Open a card for each person with a new abnormal declaration; refresh open cards.

    A person with an open card gets a system entry naming the new abnormal day. Return how
    many cards were opened. Called inside ``declarations_submit``'s transaction.
    """
    latest: dict[int, Declaration] = {}
    for row in sorted(declarations, key=lambda r: r.day):
        latest[row.person_id] = row
    if not latest:
        return 0
    texts = {
        pid: (
            _("Abnormal declaration on %(day)s: %(reasons)s")
            % {"day": row.day.isoformat(), "reasons": "、".join(reason_labels(row.reasons))},
            {"declaration": row.pk, "day": row.day.isoformat(), "reasons": row.reasons},
        )
        for pid, row in latest.items()
    }
    existing = _open_cards(ABNORMAL, latest)
    if existing:
        _add_notes(existing, texts)
    missing = [pid for pid in latest if pid not in existing]
    if not missing:
        return 0
    people = _people(missing)
    rows = {
        pid: (
            f"{people[pid].name}：{'、'.join(reason_labels(latest[pid].reasons))}",
            {"source": "declaration", **texts[pid][1]},
        )
        for pid in missing
        if pid in people
    }
    opened_at = {pid: _morning(latest[pid].day) for pid in rows} if backdate else None
    return _open_many(ABNORMAL, rows, people, opened_at=opened_at)


def _morning(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(8), timezone.get_current_timezone())


@transaction.atomic
def cards_backfill(*, since: dt.date, until: dt.date | None = None, backdate: bool = False) -> int:
    """Open the missing cards for current abnormal declarations of a day range (repairs, demo).

    ``backdate`` opens each card at 08:00 of its declaration's day, so its deadlines run as
    if it had been opened then (the demo's week).
    """
    rows = Declaration.objects.filter(is_current=True, day__gte=since).exclude(status="green")
    if until is not None:
        rows = rows.filter(day__lte=until)
    return cards_for_declarations(declarations=list(rows.order_by("day", "pk")), backdate=backdate)


@transaction.atomic
def card_open(*, actor: Actor, person: Person, reason: str) -> tuple[Item, bool]:
    """Open an abnormal-person card by hand (or return the person's open one)."""
    require_perm(
        actor,
        Perm.TRACK,
        person.unit_path,
        seen_with=Perm.VIEW_HEALTH,
        message=_("Your role may not open tracking cards."),
    )
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(detail={"reason": [_("Say why the card is opened.")]})
    item, created = ledger.item_open(
        actor=actor,
        kind=ABNORMAL,
        subject=person,
        unit=person.unit,
        title=f"{person.name}：{reason}"[:200],
        person=person,
        owners=owners_for(person.unit_path),
        open_key=person_key(person.pk),
        data={"source": "manual", "reason": reason},
    )
    if created:
        _quarantine_cadence(ABNORMAL, [person.pk])
    return item, created


# ------------------------------------------------------------------ travel exposures


@transaction.atomic
def cards_for_exposures(*, exposures: Sequence[Any]) -> int:
    """Open a card per exposed person (the highest level, the latest day); note open cards."""
    worst: dict[int, Any] = {}
    for exposure in exposures:
        seen = worst.get(exposure.person_id)
        if seen is None or (LEVEL_RANK[exposure.level], exposure.last_day) > (
            LEVEL_RANK[seen.level],
            seen.last_day,
        ):
            worst[exposure.person_id] = exposure
    if not worst:
        return 0
    names = dict(
        Division.objects.filter(code__in={e.division_code for e in worst.values()}).values_list(
            "code", "full_name"
        )
    )
    levels = dict(RiskLevel.choices)

    def text(exposure: Any) -> str:
        return _("Stayed in %(area)s (%(level)s risk) until %(day)s") % {
            "area": names.get(exposure.division_code, exposure.division_code),
            "level": levels.get(exposure.level, exposure.level),
            "day": exposure.last_day.isoformat(),
        }

    texts = {
        pid: (
            text(e),
            {
                "source": "exposure",
                "itinerary": e.itinerary_id,
                "division": e.division_code,
                "level": e.level,
                "last_day": e.last_day.isoformat(),
            },
        )
        for pid, e in worst.items()
    }
    existing = _open_cards(ABNORMAL, worst)
    if existing:
        _add_notes(existing, texts)
    missing = [pid for pid in worst if pid not in existing]
    people = _people(missing)
    rows = {
        pid: (f"{people[pid].name}：{texts[pid][0]}", texts[pid][1])
        for pid in missing
        if pid in people
    }
    return _open_many(ABNORMAL, rows, people) if rows else 0


# ------------------------------------------------------------------ quarantine cadence


@transaction.atomic
def cadence_follow_quarantine(*, person_id: int, in_quarantine: bool) -> int:
    """Follow a person's open cards every 12 hours in quarantine, daily otherwise."""
    hours = QUARANTINE_HOURS if in_quarantine else DAILY_HOURS
    changed = 0
    for kind in (ABNORMAL, CONTACT):
        item = _open_cards(kind, [person_id]).get(person_id)
        if item is not None and item.follow_up_every_hours != hours:
            ledger.item_set_cadence(actor=None, item=item, every_hours=hours)
            changed += 1
    return changed


# ------------------------------------------------------------------ close contacts


@transaction.atomic
def contact_record(
    *,
    actor: Actor,
    person: Person,
    case: Person,
    last_contact_day: dt.date,
    relation: str = Relation.OTHER,
    note: str = "",
    today: dt.date | None = None,
) -> tuple[CloseContact, Item | None]:
    """Link a close contact to a case and open (or extend) the contact's observation card.

    The observation runs the profile's follow-up days from the latest contact with any
    case; a contact whose period is already over gets the link but no card.
    """
    require_perm(
        actor,
        Perm.TRACK,
        person.unit_path,
        seen_with=Perm.VIEW_HEALTH,
        message=_("Your role may not open tracking cards."),
    )
    # The case: anyone who cannot see its health data does not learn it exists (404).
    require_perm(actor, Perm.VIEW_HEALTH, case.unit_path, seen_with=Perm.VIEW_HEALTH)
    today = today or timezone.localdate()
    errors: dict[str, list[str]] = {}
    if person.pk == case.pk:
        errors["case"] = [_("A person cannot be their own case.")]
    if last_contact_day > today:
        errors["last_contact_day"] = [_("The last contact cannot be in the future.")]
    if relation not in Relation.values:
        errors["relation"] = [_("Choose one of the listed options.")]
    if errors:
        raise InvalidInput(" ".join(m for ms in errors.values() for m in ms), detail=errors)
    link = CloseContact.objects.filter(person=person, case=case).first()
    before = snapshot(link) if link else None
    if link is None:
        link = CloseContact(
            person=person, case=case, created_by=actor if actor and actor.is_authenticated else None
        )
    link.last_contact_day = max(last_contact_day, link.last_contact_day or last_contact_day)
    link.relation, link.note = relation, (note or "").strip()[:500]
    link.save()
    audit_record(
        actor=actor,
        action=AuditLog.Action.UPDATE if before else AuditLog.Action.CREATE,
        obj=link,
        object_repr=f"{person.name} → {case.name}",
        scope_path=person.unit_path,
        before=before,
        after=snapshot(link),
    )
    return link, _contact_card(actor, person, case, today)


def _contact_card(actor: Actor, person: Person, case: Person, today: dt.date) -> Item | None:
    last = (
        CloseContact.objects.filter(person=person)
        .order_by("-last_contact_day")
        .values_list("last_contact_day", flat=True)
        .first()
    )
    assert last is not None
    until = observation_end(last)
    if until < today:
        return None
    data = {"observe_until": until.isoformat(), "last_contact_day": last.isoformat()}
    item, created = ledger.item_open(
        actor=actor,
        kind=CONTACT,
        subject=person,
        unit=person.unit,
        title=_("%(name)s: close contact of %(case)s") % {"name": person.name, "case": case.name},
        person=person,
        owners=owners_for(person.unit_path),
        open_key=person_key(person.pk),
        data=data,
    )
    if created:
        _quarantine_cadence(CONTACT, [person.pk])
    elif item.data.get("observe_until") != data["observe_until"]:
        item.data = {**item.data, **data}
        item.save(update_fields=["data"])
        Entry.objects.create(
            item=item,
            kind=Entry.Kind.SYSTEM,
            author=actor if actor and actor.is_authenticated else None,
            at=timezone.now(),
            text=_("Contact with %(case)s on %(day)s: observed until %(until)s")
            % {"case": case.name, "day": last.isoformat(), "until": until.isoformat()},
            data=data,
        )
    return item


# ------------------------------------------------------------------ close-out


@transaction.atomic
def card_request_close(*, actor: Actor, item: Item, reason: str) -> Item:
    """Ask to close a card out; refused until the close-out rule holds."""
    close_check(item)
    return ledger.item_request_close(actor=actor, item=item, reason=reason)


@transaction.atomic
def card_escalate(*, actor: Actor, item: Item, reason: str) -> Item:
    """Escalate a card that cannot be closed out: the parent unit's admins are told."""
    return ledger.item_escalate(actor=actor, item=item, reason=reason)
