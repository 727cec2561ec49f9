"""Every write of the travel app: itineraries, returnee cards, risk areas, rules, decisions."""

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.accounts.actors import Actor, acting_user
from fangkong.accounts.roles import Perm
from fangkong.accounts.selectors import require_perm
from fangkong.core.audit import audit_record, snapshot
from fangkong.core.errors import InvalidInput, PermissionDenied
from fangkong.core.models import AuditLog, Division
from fangkong.core.paths import subtree_q
from fangkong.core.text import clean_cell, clean_text, parse_date
from fangkong.health.models import Contact, FiledBy, PersonLink
from fangkong.health.selectors import require_proxy
from fangkong.orgs.models import OrgUnit, Person

from .decide import decide
from .models import (
    LEVEL_RANK,
    Decision,
    Itinerary,
    QuarantineMode,
    ReturneeCard,
    ReturnRule,
    RiskArea,
    RiskAreaBatch,
    RiskLevel,
    Transport,
)
from .recheck import announce, default_stays_since, exposures_for, look_back_window
from .regions import code_range_q, covering_prefix
from .signals import Exposure

MAX_ITINERARY_ROWS = 30
# A return journey may be booked ahead; further than this is a typing mistake.
MAX_DAYS_AHEAD = 60

# ---------------------------------------------------------------- permissions


# Writes for a person go through health's proxy rule (require_proxy). Group-wide settings
# (risk areas, the group rules) need the outbreak permission, held anywhere.


def _rule_perm(unit: OrgUnit | None) -> tuple[Perm, str | None]:
    """The permission (and where) to change a rule: the group's, or a unit's override."""
    if unit is None:
        return Perm.MANAGE_OUTBREAK, None
    return Perm.MANAGE_RETURN_RULES, unit.path


# ---------------------------------------------------------------- cleaning input


def _date(value: Any) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    return parse_date(clean_cell(value))


def _clean_date(
    raw: dict[str, Any], name: str, errors: dict[str, list[str]], *, required: bool
) -> dt.date | None:
    try:
        day = _date(raw.get(name))
    except (ValueError, OverflowError):
        errors[name] = [_("Not a date.")]
        return None
    if day is None and required:
        errors[name] = [_("This date is required.")]
    return day


def _clean_division(code: Any, errors: dict[str, list[str]], name: str = "division") -> str:
    code = clean_cell(code)
    if not code:
        errors[name] = [_("Choose a region.")]
    elif not Division.objects.filter(code=code).exists():
        errors[name] = [_("Unknown region code %(code)s.") % {"code": code}]
    return code


@dataclass(frozen=True)
class ItineraryData:
    division_id: str
    from_day: dt.date
    to_day: dt.date
    transport: str
    transport_number: str
    note: str


def itinerary_clean(raw: dict[str, Any], *, today: dt.date) -> ItineraryData:
    """Check one itinerary entry; raise InvalidInput with the field problems."""
    errors: dict[str, list[str]] = {}
    division = _clean_division(raw.get("division"), errors)
    first = _clean_date(raw, "from_day", errors, required=True)
    last = _clean_date(raw, "to_day", errors, required=False) or first
    if first and last and last < first:
        errors["to_day"] = [_("The last day comes before the first.")]
    if last and last > today + dt.timedelta(days=MAX_DAYS_AHEAD):
        errors["to_day"] = [_("The dates lie too far ahead.")]
    transport = clean_cell(raw.get("transport")) or Transport.OTHER
    if transport not in Transport.values:
        errors["transport"] = [_("Unknown means of transport.")]
    number = clean_cell(raw.get("transport_number")).upper()
    if len(number) > 32:
        errors["transport_number"] = [_("At most 32 characters.")]
    if errors:
        raise InvalidInput(detail=errors)
    assert first is not None and last is not None
    note = clean_cell(raw.get("note"))[:200]
    return ItineraryData(division, first, last, transport, number, note)


def _answer(value: Any) -> bool | None:
    """Read a yes/no answer: True, False, or None when not answered."""
    if value is None or isinstance(value, bool):
        return value
    text = clean_cell(value).lower()
    if text in ("1", "yes", "true", "on", "是", "有"):
        return True
    if text in ("0", "no", "false", "否", "无"):
        return False
    return None


@dataclass(frozen=True)
class CardData:
    planned_return: dt.date | None
    coming_from_id: str | None
    no_travel: bool
    fever: bool | None
    symptoms: bool | None
    contact: str
    note: str
    itineraries: list[ItineraryData]


def card_clean(raw: dict[str, Any], *, today: dt.date) -> CardData:
    """Check a returnee card; problems of itinerary row i are under ``itineraries.i``.

    A card may be saved incomplete (it then waits); only what is given must be right.
    """
    errors: dict[str, Any] = {}
    planned = _clean_date(raw, "planned_return", errors, required=False)
    if planned and not today - dt.timedelta(days=30) <= planned <= today + dt.timedelta(
        days=MAX_DAYS_AHEAD
    ):
        errors["planned_return"] = [_("The planned return date is out of range.")]
    coming_from = clean_cell(raw.get("coming_from"))
    if coming_from:
        _clean_division(coming_from, errors, "coming_from")
    contact = clean_cell(raw.get("contact"))
    if contact and contact not in Contact.values:
        errors["contact"] = [_("Unknown answer.")]
    rows = [row for row in raw.get("itineraries") or [] if _has_content(row)]
    if len(rows) > MAX_ITINERARY_ROWS:
        errors["itineraries"] = [_("At most %(n)d entries.") % {"n": MAX_ITINERARY_ROWS}]
        rows = []
    no_travel = bool(_answer(raw.get("no_travel")))
    if no_travel and rows:
        errors["no_travel"] = [_("Either stayed at home throughout, or list the itinerary.")]
    itineraries = []
    for index, row in enumerate(rows):
        try:
            itineraries.append(itinerary_clean(row, today=today))
        except InvalidInput as exc:
            errors[f"itineraries.{index}"] = exc.detail
    if errors:
        raise InvalidInput(detail=errors)
    return CardData(
        planned_return=planned,
        coming_from_id=coming_from or None,
        no_travel=no_travel,
        fever=_answer(raw.get("fever")),
        symptoms=_answer(raw.get("symptoms")),
        contact=contact,
        note=clean_cell(raw.get("note"))[:500],
        itineraries=itineraries,
    )


def _has_content(row: dict[str, Any]) -> bool:
    return any(clean_cell(row.get(name)) for name in ("division", "from_day", "to_day"))


# ---------------------------------------------------------------- itineraries


def _new_itinerary(person: Person, data: ItineraryData, **extra: Any) -> Itinerary:
    return Itinerary(
        person=person,
        division_id=data.division_id,
        from_day=data.from_day,
        to_day=data.to_day,
        transport=data.transport,
        transport_number=data.transport_number,
        note=data.note,
        **extra,
    )


@transaction.atomic
def itinerary_add(*, actor: Actor, person: Person, raw: dict[str, Any]) -> Itinerary:
    """Record a trip declared by hand (a grid worker's phone call); re-decide the open card."""
    require_proxy(actor, person)
    data = itinerary_clean(raw, today=timezone.localdate())
    row = _new_itinerary(person, data, source=Itinerary.Source.HAND, created_by=actor)
    row.save()
    audit_record(
        actor=actor,
        action=AuditLog.Action.CREATE,
        obj=row,
        scope_path=person.unit_path,
        after=snapshot(row),
    )
    _redecide_people([person.pk])
    return row


@transaction.atomic
def itinerary_delete(*, actor: Actor, itinerary: Itinerary) -> None:
    person = itinerary.person
    require_proxy(actor, person)
    before = snapshot(itinerary)
    audit_record(
        actor=actor,
        action=AuditLog.Action.DELETE,
        obj=itinerary,
        scope_path=person.unit_path,
        before=before,
    )
    itinerary.delete()
    _redecide_people([person.pk])


# ---------------------------------------------------------------- returnee cards


@transaction.atomic
def card_file(
    *,
    actor: Actor,
    person: Person,
    raw: dict[str, Any],
    via_link: PersonLink | None = None,
) -> ReturneeCard:
    """File (or update) the person's open returnee card, replace its itinerary, decide.

    From the personal link page ``via_link`` is the credential and ``actor`` is None;
    otherwise the actor must be allowed to declare for the person.
    """
    if via_link is not None:
        if via_link.person_id != person.pk:
            raise PermissionDenied(_("This link only files for its own person."))
    else:
        require_proxy(actor, person)
    today = timezone.localdate()
    data = card_clean(raw, today=today)
    card = ReturneeCard.objects.select_for_update().filter(person=person, is_open=True).first()
    before = snapshot(card) if card else None
    card = card or ReturneeCard(person=person)
    card.planned_return = data.planned_return
    card.coming_from_id = data.coming_from_id
    card.no_travel = data.no_travel
    card.fever, card.symptoms, card.contact = data.fever, data.symptoms, data.contact
    card.note = data.note
    card.filed_by = FiledBy.SELF if via_link is not None else FiledBy.PROXY
    card.proxy = acting_user(actor) if via_link is None else None
    card.save()
    card.itineraries.all().delete()
    Itinerary.objects.bulk_create(
        [
            _new_itinerary(
                person, row, card=card, source=Itinerary.Source.CARD, created_by=card.proxy
            )
            for row in data.itineraries
        ]
    )
    _store_decision(card)
    audit_record(
        actor=actor,
        action=AuditLog.Action.UPDATE if before else AuditLog.Action.CREATE,
        obj=card,
        scope_path=person.unit_path,
        before=before,
        after={**snapshot(card), "itineraries": len(data.itineraries)},
    )
    return card


def _store_decision(card: ReturneeCard) -> Decision:
    """Decide the card now and keep the decision (the newest is the current one)."""
    verdict = decide(card)
    measures = verdict.measures
    decision = Decision.objects.create(
        card=card,
        outcome=verdict.outcome,
        level=verdict.level,
        rule=measures.rule if measures else None,
        rule_label=measures.label[:200] if measures else "",
        areas=[hit.as_dict() for hit in verdict.hits],
        quarantine_days=measures.quarantine_days if measures else 0,
        quarantine_until=verdict.quarantine_until,
        mode=measures.mode if measures and measures.quarantine_days else "",
        tests=measures.tests if measures else 0,
        monitoring_days=measures.monitoring_days if measures else 0,
        explanation=verdict.explanation,
    )
    card.outcome, card.decided_at = verdict.outcome, decision.decided_at
    card.save(update_fields=["outcome", "decided_at"])
    return decision


@transaction.atomic
def card_redecide(*, actor: Actor, card: ReturneeCard) -> Decision:
    """Decide again (after the rules or the list changed); audited."""
    # Re-deciding changes nothing the person said: whoever sees their health data may ask.
    require_perm(actor, Perm.VIEW_HEALTH, card.person.unit_path, seen_with=Perm.VIEW_HEALTH)
    before = card.outcome
    decision = _store_decision(card)
    audit_record(
        actor=actor,
        action=AuditLog.Action.UPDATE,
        obj=card,
        scope_path=card.person.unit_path,
        before={"outcome": before},
        after={"outcome": decision.outcome, "decision": decision.pk},
    )
    return decision


@transaction.atomic
def card_close(*, actor: Actor, card: ReturneeCard, reason: str) -> ReturneeCard:
    """Close the card (the person is back at post, or will not return); a reason is required."""
    require_proxy(actor, card.person)
    reason = clean_cell(reason)
    if not reason:
        raise InvalidInput(detail={"reason": [_("Give a reason.")]})
    before = snapshot(card)
    card.is_open = False
    card.save(update_fields=["is_open", "updated_at"])
    audit_record(
        actor=actor,
        action=AuditLog.Action.CLOSE,
        obj=card,
        scope_path=card.person.unit_path,
        before=before,
        after={"is_open": False, "reason": reason},
    )
    return card


def cards_redecide_for(*, person_ids: Sequence[int]) -> int:
    """Decide these people's open cards again (their quarantine started or ended)."""
    return _redecide_people(person_ids)


def _redecide_people(person_ids: Sequence[int]) -> int:
    """Re-decide the open cards of these people; return how many."""
    cards = ReturneeCard.objects.filter(person_id__in=person_ids, is_open=True).select_related(
        "person"
    )
    count = 0
    for card in cards:
        _store_decision(card)
        count += 1
    return count


# ---------------------------------------------------------------- risk areas


@dataclass(frozen=True)
class AreaChange:
    """A region's new level from a day; ``stays_since`` None: the look-back default."""

    division: Division
    level: str
    effective_from: dt.date
    stays_since: dt.date | None = None


@dataclass
class ListChange:
    """What a new version of the list did; no version (``batch`` None) when nothing changed."""

    batch: RiskAreaBatch | None
    changed: list[RiskArea]
    raised: list[RiskArea]
    exposures: list[Exposure]
    redecided: int


def change_problems(change: AreaChange, today: dt.date) -> dict[str, list[str]]:
    """Return one change's problems by field (level, effective_from, stays_since)."""
    errors: dict[str, list[str]] = {}
    if change.level not in RiskLevel.values:
        errors["level"] = [_("Unknown risk level.")]
    if change.effective_from > today:
        errors["effective_from"] = [_("The effective date lies in the future.")]
    if change.stays_since is not None and change.stays_since > change.effective_from:
        errors["stays_since"] = [
            _("Stays must count from the effective date or earlier, not later.")
        ]
    return errors


def _check_changes(changes: Sequence[AreaChange], today: dt.date) -> None:
    errors: dict[str, list[str]] = {}
    seen: set[str] = set()
    for change in changes:
        code = change.division.code
        problems = change_problems(change, today)
        if problems:
            errors[code] = [message for messages in problems.values() for message in messages]
        elif code in seen:
            errors[code] = [_("The region is listed twice.")]
        seen.add(code)
    if not changes:
        errors["areas"] = [_("No areas were given.")]
    if errors:
        raise InvalidInput(detail=errors)


def _new_rows(
    changes: Sequence[AreaChange], current: dict[str, RiskArea], today: dt.date
) -> list[tuple[RiskArea | None, RiskArea]]:
    """Return (the row it ends, the new row) for each change of level; same levels drop out."""
    rows = []
    for change in changes:
        old = current.get(change.division.code)
        if old is not None and old.level == change.level:
            continue
        stays_since = change.stays_since or default_stays_since(change.effective_from, today)
        rows.append(
            (
                old,
                RiskArea(
                    division=change.division,
                    level=change.level,
                    effective_from=change.effective_from,
                    stays_since=stays_since,
                ),
            )
        )
    return rows


@transaction.atomic
def risk_areas_apply(
    *,
    actor: Actor,
    changes: Sequence[AreaChange],
    kind: str = RiskAreaBatch.Kind.MANUAL,
    notice: str = "",
    original_name: str = "",
    today: dt.date | None = None,
) -> ListChange:
    """Enter a new version of the list: all of ``changes`` or none.

    Each change ends the region's current row (history kept) and starts a new one; a
    region whose level does not change keeps its row, and when no region changes no
    version is made. Raised regions are re-checked against the itineraries of the
    look-back window since each one's ``stays_since`` and the exposures are announced
    (``exposures_found``); the open returnee cards that touch a changed region are decided
    again.
    """
    require_perm(actor, Perm.MANAGE_OUTBREAK)
    today = today or timezone.localdate()
    _check_changes(changes, today)
    codes = [change.division.code for change in changes]
    current = {
        row.division_id: row
        for row in RiskArea.objects.select_for_update().filter(
            division_id__in=codes, effective_to__isnull=True
        )
    }
    pairs = _new_rows(changes, current, today)
    if not pairs:
        return ListChange(None, [], [], [], 0)
    batch = RiskAreaBatch.objects.create(
        kind=kind,
        notice=clean_text(notice)[:200],  # keep the notice's full-width colon
        original_name=original_name[:255],
        rows=len(changes),
        created_by=acting_user(actor),
    )
    fresh: list[RiskArea] = []
    raised: list[RiskArea] = []
    for old, row in pairs:
        if old is not None:
            old.effective_to = max(old.effective_from, row.effective_from)
            old.save(update_fields=["effective_to"])
        row.batch = batch
        fresh.append(row)
        if LEVEL_RANK[row.level] > LEVEL_RANK[old.level if old else ""]:
            raised.append(row)
    RiskArea.objects.bulk_create(fresh)
    window = look_back_window(today)
    exposures = exposures_for(raised, window=window)
    batch.raised, batch.exposures = len(raised), len(exposures)
    batch.save(update_fields=["raised", "exposures"])
    audit_record(
        actor=actor,
        action=AuditLog.Action.IMPORT
        if kind == RiskAreaBatch.Kind.IMPORT
        else AuditLog.Action.UPDATE,
        obj=batch,
        after={
            "changed": [
                {
                    "code": r.division_id,
                    "level": r.level,
                    "from": r.effective_from.isoformat(),
                    "stays_since": r.stays_since.isoformat(),
                }
                for r in fresh[:500]
            ],
            "raised": len(raised),
            "exposures": len(exposures),
        },
    )
    announce(exposures)
    redecided = _redecide_people(_people_in_areas(fresh, window))
    return ListChange(batch, fresh, raised, exposures, redecided)


def _people_in_areas(areas: Sequence[RiskArea], window: tuple[dt.date, dt.date]) -> list[int]:
    """People with an open card and an itinerary in one of ``areas`` inside the window."""
    if not areas:
        return []
    condition = Q()
    for area in areas:
        condition |= code_range_q(
            "division_id", covering_prefix(area.division_id, area.division.level)
        )
    people = Itinerary.objects.filter(
        condition,
        to_day__gte=window[0],
        person__returnee_cards__is_open=True,
    ).values_list("person_id", flat=True)
    return sorted(set(people))


def risk_area_set(
    *,
    actor: Actor,
    division: Division,
    level: str,
    effective_from: dt.date,
    stays_since: dt.date | None = None,
    notice: str = "",
) -> ListChange:
    """Set one region's level (a one-row version of the list); problems come by field."""
    require_perm(actor, Perm.MANAGE_OUTBREAK)
    change = AreaChange(division, level, effective_from, stays_since)
    problems = change_problems(change, timezone.localdate())
    if problems:
        raise InvalidInput(detail=problems)
    return risk_areas_apply(actor=actor, changes=[change], notice=notice)


@transaction.atomic
def risk_area_lift(*, actor: Actor, area: RiskArea, on: dt.date | None = None) -> RiskArea:
    """Take a region off the list from ``on`` (today); its history stays."""
    require_perm(actor, Perm.MANAGE_OUTBREAK)
    if area.effective_to is not None:
        raise InvalidInput(_("This entry is no longer in force."))
    on = on or timezone.localdate()
    before = snapshot(area)
    area.effective_to = max(area.effective_from, on)
    area.save(update_fields=["effective_to"])
    audit_record(
        actor=actor, action=AuditLog.Action.CLOSE, obj=area, before=before, after=snapshot(area)
    )
    _redecide_people(_people_in_areas([area], look_back_window()))
    return area


# ---------------------------------------------------------------- return rules


def _clean_rule(raw: dict[str, Any]) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    for name, limit in (("quarantine_days", 60), ("tests", 10), ("monitoring_days", 60)):
        text = clean_cell(raw.get(name))
        if text == "":
            values[name] = None if name == "quarantine_days" else 0
            continue
        try:
            number = int(text)
        except ValueError:
            errors[name] = [_("Enter a whole number.")]
            continue
        if not 0 <= number <= limit:
            errors[name] = [_("Enter a number from 0 to %(max)d.") % {"max": limit}]
        values[name] = number
    mode = clean_cell(raw.get("mode")) or QuarantineMode.CENTRALISED
    if mode not in QuarantineMode.values:
        errors["mode"] = [_("Unknown quarantine mode.")]
    values["mode"] = mode
    values["note"] = clean_cell(raw.get("note"))[:200]
    if errors:
        raise InvalidInput(detail=errors)
    return values


@transaction.atomic
def rule_save(*, actor: Actor, unit: OrgUnit | None, level: str, raw: dict[str, Any]) -> ReturnRule:
    """Create or change the group rule (``unit`` None) or a unit's override for ``level``."""
    require_perm(actor, *_rule_perm(unit))
    if level not in RiskLevel.values:
        raise InvalidInput(detail={"level": [_("Unknown risk level.")]})
    values = _clean_rule(raw)
    rule = ReturnRule.objects.select_for_update().filter(unit=unit, level=level).first()
    before = snapshot(rule) if rule else None
    rule = rule or ReturnRule(unit=unit, level=level)
    for name, value in values.items():
        setattr(rule, name, value)
    rule.save()
    audit_record(
        actor=actor,
        action=AuditLog.Action.UPDATE if before else AuditLog.Action.CREATE,
        obj=rule,
        scope_path=unit.path if unit else "",
        before=before,
        after=snapshot(rule),
    )
    _redecide_subtree(unit)
    return rule


@transaction.atomic
def rule_delete(*, actor: Actor, rule: ReturnRule) -> None:
    unit = rule.unit
    require_perm(actor, *_rule_perm(unit))
    audit_record(
        actor=actor,
        action=AuditLog.Action.DELETE,
        obj=rule,
        scope_path=unit.path if unit else "",
        before=snapshot(rule),
    )
    rule.delete()
    _redecide_subtree(unit)


def _redecide_subtree(unit: OrgUnit | None) -> int:
    """Apply a changed rule to the open, decided cards it may concern."""
    cards = ReturneeCard.objects.filter(is_open=True)
    if unit is not None:
        cards = cards.filter(subtree_q("person__unit_path", unit.path))
    return _redecide_people(list(cards.values_list("person_id", flat=True)))
