"""Every write of the health card: declarations (one or a batch) and personal links."""

import datetime as dt
import functools
import uuid as uuid_lib
from collections import Counter
from collections.abc import Iterable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.accounts.actors import Actor, acting_user
from fangkong.accounts.roles import Perm, Role
from fangkong.accounts.selectors import require_perm, scope_for
from fangkong.core.audit import audit_record, snapshot
from fangkong.core.bulk import insert_returning_pks
from fangkong.core.divisions import known_division_codes
from fangkong.core.errors import (
    Conflict,
    InvalidInput,
    KeyReused,
    NotFound,
    PermissionDenied,
    Throttled,
    validation_detail,
)
from fangkong.core.models import AuditLog
from fangkong.core.numbers import to_decimal
from fangkong.core.prepared import Prepared, instance
from fangkong.core.schema import MAX_ID
from fangkong.notify.models import Event
from fangkong.notify.services import notify
from fangkong.orgs.models import OrgUnit, Person, place_related

from . import signals, tally
from .models import (
    TEMPERATURE_MAX,
    TEMPERATURE_MIN,
    Colour,
    Contact,
    Declaration,
    FiledBy,
    HealthRule,
    OutbreakProfile,
    PersonLink,
    Symptom,
    TestResult,
    Whereabouts,
)
from .selectors import catalogue, covers_person, require_proxy
from .status import RuleSpec, assess

BATCH_LIMIT = 1000
# A personal link stores at most this many declarations a day: a leaked link cannot fill
# the table, and nobody corrects a declaration twenty times in a day.
LINK_DECLARATIONS_A_DAY = 20
# How far back a declaration may be filed (a grid worker catching up after a weekend).
BACKFILL_DAYS = 7


# A day of one person's declarations, read before the transaction: (day, rows).
DayRead = tuple[dt.date, list[Declaration]]


@dataclass
class DeclarationData:
    """One cleaned declaration, ready to store."""

    uuid: uuid_lib.UUID
    person_id: int
    day: dt.date
    temperature: Decimal
    division_code: str
    symptoms: list[str] = field(default_factory=list)
    whereabouts: str = Whereabouts.AT_POST
    contact: str = Contact.NONE
    risk_area_stay: bool = False
    test_result: str = TestResult.NONE
    # The phone form leaves the day out (it means today); a retry after midnight is the same.
    day_given: bool = True

    def same_content(self, row: Declaration) -> bool:
        """Is ``row`` this declaration, stored before (a retry), rather than another one?"""
        return (
            row.person_id == self.person_id
            and (row.day == self.day or not self.day_given)
            and row.temperature == self.temperature
            and row.division_id == self.division_code
            and sorted(row.symptoms) == self.symptoms
            and (row.whereabouts, row.contact, row.test_result)
            == (self.whereabouts, self.contact, self.test_result)
            and row.risk_area_stay == self.risk_area_stay
        )


@dataclass
class Catalogue:
    """What validation and assessment need, loaded once per request or batch."""

    symptom_codes: frozenset[str]
    rules: list[RuleSpec]
    today: dt.date

    @classmethod
    def load(cls, today: dt.date | None = None) -> "Catalogue":
        memo = catalogue.get()
        return cls(
            symptom_codes=memo.symptom_codes,
            rules=list(memo.rules),
            today=today or timezone.localdate(),
        )


def _clean_temperature(value: Any, errors: dict[str, str]) -> Decimal:
    try:
        temperature = to_decimal(value, places=1)
    except ValueError:
        errors["temperature"] = _("Enter the temperature as a number, e.g. 36.5.")
        return Decimal(0)
    if not TEMPERATURE_MIN <= temperature <= TEMPERATURE_MAX:
        errors["temperature"] = _(
            "The temperature must be between %(low).1f and %(high).1f °C; it was %(value)s."
        ) % {"low": TEMPERATURE_MIN, "high": TEMPERATURE_MAX, "value": value}
    return temperature


def _clean_day(value: Any, today: dt.date, errors: dict[str, str]) -> dt.date:
    if value in (None, ""):
        return today
    try:
        day = value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))
    except ValueError:
        errors["day"] = _("Enter the date as YYYY-MM-DD.")
        return today
    if day > today:
        errors["day"] = _("A declaration cannot be for a future day.")
    elif day < today - dt.timedelta(days=BACKFILL_DAYS):
        errors["day"] = _("A declaration can be filed at most %(days)d days late.") % {
            "days": BACKFILL_DAYS
        }
    return day


def _choice_values(choices: Any) -> tuple[str, frozenset[str]]:
    return choices.values[0], frozenset(choices.values)


# Default and accepted values per choice field, built once: TextChoices.values makes a new
# list on every access, which was a third of the cleaning time of a batch.
_CHOICES = {
    "whereabouts": _choice_values(Whereabouts),
    "contact": _choice_values(Contact),
    "test_result": _choice_values(TestResult),
}


def _clean_choice(raw: dict[str, Any], name: str, errors: dict[str, str]) -> str:
    default, accepted = _CHOICES[name]
    value = raw.get(name) or default
    if not isinstance(value, str) or value not in accepted:
        errors[name] = _("Choose one of the listed options.")
    return str(value)


def declaration_clean(
    raw: dict[str, Any],
    *,
    catalogue: Catalogue,
    division_codes: set[str],
    person_from_link: bool = False,
) -> tuple[DeclarationData | None, dict[str, str]]:
    """Validate one raw declaration; return the data or the translated field errors.

    ``person_from_link``: the person is the one a link names, found as it is stored
    (``first_declaration_through_link``); the data's person is 0 until then.
    """
    errors: dict[str, str] = {}
    try:
        client_uuid = uuid_lib.UUID(str(raw.get("uuid", "")))
    except ValueError:
        errors["uuid"] = _("A client-generated UUID is required.")
        client_uuid = uuid_lib.UUID(int=0)
    try:
        person_id = int(raw.get("person") or raw.get("person_id") or 0)
    except (TypeError, ValueError):
        person_id = 0
    if not 0 < person_id <= MAX_ID and not person_from_link:
        errors["person"] = _("Choose the person.")
    temperature = _clean_temperature(raw.get("temperature"), errors)
    day = _clean_day(raw.get("day"), catalogue.today, errors)
    symptoms = [str(code) for code in (raw.get("symptoms") or [])]
    if unknown := [code for code in symptoms if code not in catalogue.symptom_codes]:
        errors["symptoms"] = _("Unknown symptom: %(codes)s.") % {"codes": ", ".join(unknown)}
    division_code = str(raw.get("division") or raw.get("division_code") or "")
    if division_code not in division_codes:
        errors["division"] = _("Choose where you are now (province, city, county).")
    whereabouts = _clean_choice(raw, "whereabouts", errors)
    contact = _clean_choice(raw, "contact", errors)
    test_result = _clean_choice(raw, "test_result", errors)
    if errors:
        return None, errors
    return (
        DeclarationData(
            uuid=client_uuid,
            person_id=person_id,
            day=day,
            temperature=temperature,
            division_code=division_code,
            symptoms=sorted(set(symptoms)),
            whereabouts=whereabouts,
            contact=contact,
            risk_area_stay=bool(raw.get("risk_area_stay")),
            test_result=test_result,
            day_given=raw.get("day") not in (None, ""),
        ),
        {},
    )


def _known_divisions(raws: Sequence[dict[str, Any]]) -> set[str]:
    codes = {str(raw.get("division") or raw.get("division_code") or "") for raw in raws}
    return known_division_codes(codes - {""})


@dataclass(frozen=True)
class Stored:
    declaration: Declaration
    created: bool


def declarations_submit(
    *,
    actor: Actor,
    items: Sequence[dict[str, Any]],
    via_link: PersonLink | None = None,
    day_read: DayRead | None = None,
    today: dt.date | None = None,
) -> list[Stored]:
    """Store declarations all-or-nothing; a UUID seen before returns the stored row.

    ``actor`` files on behalf (needs DECLARE_FOR_OTHERS over each person) unless the
    declaration comes through the person's own link (``via_link``). A later declaration
    for the same person and day supersedes the earlier one, which stays as history.

    ``day_read``: the link's person's declarations of a day, read with the link
    (``selectors.link_with_day``), so that the phone's submit reads nothing more. Read
    before the transaction, they may be stale: a write they did not foresee breaks a
    constraint (one current declaration a day, one row per UUID, see ``_supersede``) and
    the submission is stored again from the transaction's own read.
    """
    if not items:
        raise InvalidInput(_("Send at least one declaration."))
    if len(items) > BATCH_LIMIT:
        raise InvalidInput(
            _("Send at most %(limit)d declarations at a time.") % {"limit": BATCH_LIMIT}
        )
    catalogue = Catalogue.load(today)
    divisions = _known_divisions(items)
    cleaned: list[DeclarationData] = []
    problems: dict[str, dict[str, str]] = {}
    for index, raw in enumerate(items):
        data, errors = declaration_clean(raw, catalogue=catalogue, division_codes=divisions)
        if data is None:
            problems[str(index)] = errors
        else:
            cleaned.append(data)
    if problems:
        raise _invalid(problems, single=len(items) == 1)
    people = _people_for(actor=actor, cleaned=cleaned, via_link=via_link)
    store = functools.partial(
        _store, cleaned, people=people, catalogue=catalogue, actor=actor, via_link=via_link
    )
    try:
        return store(day_read=day_read)
    except IntegrityError as exc:
        if day_read is None:
            raise _raced() from exc
    try:  # the day read before the transaction was stale: read it again, inside
        return store(day_read=None)
    except IntegrityError as exc:
        raise _raced() from exc


def _raced() -> Conflict:
    # Two submissions for the same person and day raced; the client retries safely.
    return Conflict(
        _(
            "Another declaration for the same person and day was saved at the same "
            "moment; send again."
        )
    )


def _invalid(problems: dict[str, dict[str, str]], *, single: bool) -> InvalidInput:
    """Build the error: field -> [message] for one declaration, per row index for a batch."""
    as_lists = {
        index: {name: [message] for name, message in errors.items()}
        for index, errors in problems.items()
    }
    if single:
        errors = next(iter(problems.values()))
        return InvalidInput(" ".join(errors.values()), detail=next(iter(as_lists.values())))
    return InvalidInput(
        _("%(count)d of the declarations are not valid; nothing was saved.")
        % {"count": len(problems)},
        detail={"items": as_lists},
    )


def _people_for(
    *, actor: Actor, cleaned: list[DeclarationData], via_link: PersonLink | None
) -> dict[int, tuple[int, str]]:
    """Return {person id: (unit id, unit path)} and check the filer may declare for each."""
    ids = {data.person_id for data in cleaned}
    if via_link is not None:
        # The link was looked up with its active person (health.selectors.link_from_token).
        person = via_link.person
        if ids != {person.pk} or not person.is_active:
            raise PermissionDenied(_("This link only declares for its own person."))
        return {person.pk: (person.unit_id, person.unit_path)}
    rows = Person.objects.filter(pk__in=ids, is_active=True).values_list(
        "pk", "unit_id", "unit_path", "household__path"
    )
    people = {pk: (unit_id, path) for pk, unit_id, path, _household in rows}
    households = {pk: household for pk, _unit, _path, household in rows}
    scope = scope_for(actor, Perm.DECLARE_FOR_OTHERS)
    unknown = sorted(
        pk
        for pk in ids
        if pk not in people or not covers_person(scope, people[pk][1], households[pk])
    )
    if unknown:
        raise NotFound(
            _("Unknown people or people outside your units: %(ids)s.")
            % {"ids": ", ".join(map(str, unknown[:20]))},
            detail={"people": unknown[:100]},
        )
    return people


def first_declaration_through_link(
    *, link_key: str, raw: dict[str, Any], today: dt.date
) -> Stored | None:
    """The phone's usual morning, the link's read inside the write: a valid, normal
    declaration of ``today`` (``raw``, its person left out) through the live link
    ``link_key`` whose person has none of the day yet (``tally.insert_counted_through_link``;
    committed at once unless called inside a transaction). None for anything else (no such
    link, a declaration that is not valid, a retry, a correction, an abnormal one, a
    constraint it breaks): the usual path (``declarations_submit``, after reading the
    link) then answers it as always.
    """
    catalogue = Catalogue.load(today)
    data, _errors = declaration_clean(
        raw, catalogue=catalogue, division_codes=_known_divisions([raw]), person_from_link=True
    )
    if data is None or data.day != today:
        return None
    row = _build(data, path="", catalogue=catalogue, proxy=None, current=True)
    if row.status != Colour.GREEN:
        return None
    try:
        with transaction.atomic() if connection.in_atomic_block else nullcontext():
            stored = tally.insert_counted_through_link(row, link_key=link_key)
    except IntegrityError:
        return None
    return Stored(row, True) if stored else None


@transaction.atomic
def _store(
    cleaned: list[DeclarationData],
    *,
    people: dict[int, tuple[int, str]],
    catalogue: Catalogue,
    actor: Actor,
    via_link: PersonLink | None,
    day_read: DayRead | None,
) -> list[Stored]:
    seen, current_before = _stored_before(cleaned, via_link=via_link, day_read=day_read)
    fresh = _fresh_by_uuid(cleaned, seen)
    # Within one batch the last declaration for a person and day is the current one.
    latest: dict[tuple[int, dt.date], uuid_lib.UUID] = {}
    for data in fresh.values():
        latest[(data.person_id, data.day)] = data.uuid
    deltas = tally.Deltas()
    _supersede([row for row in current_before if (row.person_id, row.day) in latest], deltas)
    proxy = None if via_link is not None else actor
    rows = [
        _build(
            data,
            path=people[data.person_id][1],
            catalogue=catalogue,
            proxy=proxy,
            current=latest[(data.person_id, data.day)] == data.uuid,
        )
        for data in fresh.values()
    ]
    insert_returning_pks(rows)
    current = [row for row in rows if row.is_current]
    deltas.add_rows(current)
    deltas.apply()
    abnormal = [row for row in current if row.status != Colour.GREEN]
    if abnormal:
        signals.abnormal_declared.send(sender=Declaration, declarations=abnormal, actor=actor)
        # The card commits with the declaration (the receivers above); the units' notices
        # are written after the commit, as the ledger's own, so that SQLite's writers'
        # lock is not held for them (about a fifth of an abnormal submit).
        # (A lambda, not a partial: a robust hook's failure is logged by its __qualname__.)
        transaction.on_commit(lambda: _announce_abnormal(abnormal, people=people), robust=True)
    return _results(cleaned, created={row.uuid: row for row in rows}, seen=seen)


def _results(
    cleaned: list[DeclarationData],
    *,
    created: dict[uuid_lib.UUID, Declaration],
    seen: dict[uuid_lib.UUID, Declaration],
) -> list[Stored]:
    """One result per item sent; a UUID repeated in the batch is created once, then a duplicate."""
    results = []
    reported: set[uuid_lib.UUID] = set()
    for data in cleaned:
        if data.uuid in created and data.uuid not in reported:
            results.append(Stored(created[data.uuid], True))
        else:
            results.append(Stored(seen.get(data.uuid) or created[data.uuid], False))
        reported.add(data.uuid)
    return results


def _fresh_by_uuid(
    cleaned: list[DeclarationData], seen: dict[uuid_lib.UUID, Declaration]
) -> dict[uuid_lib.UUID, DeclarationData]:
    """Return the declarations to store, by UUID; refuse a UUID that names another one.

    A UUID is the client's idempotency key: sent again with the same content it is a retry
    and answers the stored row. Sent with another person or other content it is a
    client bug or a probe, and it must neither reveal the stored declaration (whose person
    may be out of the sender's scope) nor silently drop the new one.
    """
    fresh: dict[uuid_lib.UUID, DeclarationData] = {}
    for data in cleaned:
        earlier = seen.get(data.uuid)
        first = fresh.setdefault(data.uuid, data) if earlier is None else None
        if (earlier is not None and not data.same_content(earlier)) or (
            first is not None and first is not data and first != data
        ):
            raise KeyReused(detail={"uuid": [str(KeyReused.default_message)]})
    return fresh


def _announce_abnormal(rows: list[Declaration], *, people: dict[int, tuple[int, str]]) -> None:
    """Tell each unit's reporters and grid workers (and subscribed robots) about abnormal
    cases, after the declarations' commit.

    One message per unit and batch, with counts by reason and no names: robot messages
    land in group chats, and the inbox link leads to the scoped declarations list.
    """
    by_unit: dict[int, list[Declaration]] = {}
    for row in rows:
        if row.status != Colour.GREEN:
            by_unit.setdefault(people[row.person_id][0], []).append(row)
    if not by_unit:
        return
    units = OrgUnit.objects.select_related(place_related()).in_bulk(list(by_unit))
    for unit_id, abnormal in by_unit.items():
        reasons = Counter(reason for row in abnormal for reason in row.reasons)
        summary = "，".join(
            f"{label} {reasons[code]}"
            for code, label in HealthRule.Condition.choices
            if code in reasons
        )
        unit = units[unit_id]
        notify(
            event=Event.ABNORMAL_DECLARATION,
            unit=unit,
            subject=_("%(unit)s: %(count)d abnormal health declarations")
            % {"unit": unit.place, "count": len(abnormal)},
            body=_("Reasons: %(summary)s. Open the declarations list to follow up.")
            % {"summary": summary},
            link=reverse("health:declarations") + f"?unit={unit.code}&day={abnormal[0].day}",
            to_roles=[Role.REPORTER, Role.GRID_WORKER, Role.UNIT_ADMIN],
        )


def _stored_before(
    cleaned: list[DeclarationData], *, via_link: PersonLink | None, day_read: DayRead | None
) -> tuple[dict[uuid_lib.UUID, Declaration], list[Declaration]]:
    """Return the rows stored under these UUIDs, and the current rows of their people's days.

    One query for both: a retry is recognised by its UUID, and a new declaration
    supersedes the current one of its person and day. Through a personal link it reads
    the person's whole day, to keep to ``LINK_DECLARATIONS_A_DAY``; none when that day
    was read with the link (``day_read``: a UUID of another day is then found by its
    unique index, at the INSERT).
    """
    uuids = {data.uuid for data in cleaned}
    people = {data.person_id for data in cleaned}
    days = {data.day for data in cleaned}
    current_only = via_link is None
    if day_read is not None and days == {day_read[0]} and len(cleaned) == 1:
        rows = day_read[1]
    elif len(uuids) == len(people) == len(days) == 1:  # one declaration: the phone's
        [(uuid, person, day)] = [(data.uuid, data.person_id, data.day) for data in cleaned[:1]]
        rows = [
            instance(Declaration, row)
            for row in _ONE_STORED_BEFORE[current_only].rows(uuid, person, day)
        ]
    else:
        rows = list(_stored_before_query(uuids, people, days, current_only=current_only))
    seen = {row.uuid: row for row in rows if row.uuid in uuids}
    if via_link is not None and not seen:
        _keep_to_the_daily_limit(rows, days)
    return seen, [row for row in rows if row.is_current]


def _stored_before_query(
    uuids: Iterable[uuid_lib.UUID],
    people: Iterable[int],
    days: Iterable[dt.date],
    *,
    current_only: bool,
) -> QuerySet[Declaration]:
    """Rows with these UUIDs, and the rows of these people's days (current ones only)."""
    same_days = Q(person_id__in=people, day__in=days)
    if current_only:
        same_days &= Q(is_current=True)
    return Declaration.objects.filter(Q(uuid__in=uuids) | same_days).order_by()


# The same read for one declaration, built once per process (core/prepared.py): the
# phone's submit runs it for each of 170,000 people in a morning.
_ONE_STORED_BEFORE = {
    current_only: Prepared(
        lambda uuid, person, day, current_only=current_only: _stored_before_query(
            [uuid], [person], [day], current_only=current_only
        ).values_list(*(field.attname for field in Declaration._meta.concrete_fields)),
        Declaration._meta.get_field("uuid"),
        Declaration._meta.get_field("person"),
        Declaration._meta.get_field("day"),
    )
    for current_only in (False, True)
}


def _keep_to_the_daily_limit(rows: list[Declaration], days: set[dt.date]) -> None:
    """Refuse a personal link's declaration beyond the day's limit, until the next day."""
    [day] = days
    if sum(1 for row in rows if row.day == day) < LINK_DECLARATIONS_A_DAY:
        return
    tomorrow = dt.datetime.combine(
        day + dt.timedelta(days=1), dt.time(), tzinfo=timezone.get_current_timezone()
    )
    raise Throttled(
        _(
            "%(count)d declarations were already received today for this person; "
            "the next one is accepted tomorrow."
        )
        % {"count": LINK_DECLARATIONS_A_DAY},
        wait=max(60, int((tomorrow - timezone.now()).total_seconds())),
    )


def _supersede(earlier: list[Declaration], deltas: tally.Deltas) -> None:
    """Make these current declarations history, uncounted from the tally.

    Skipped when there is none: the morning's first declaration of a person (nearly every
    one at the peak) then costs no UPDATE.
    """
    if not earlier:
        return
    deltas.add_rows(earlier, sign=-1)
    rows = Declaration.objects.filter(pk__in=[row.pk for row in earlier], is_current=True)
    if rows.update(is_current=False) != len(earlier):  # read before the transaction, and
        raise IntegrityError("a declaration to supersede was superseded meanwhile")


def _build(
    data: DeclarationData, *, path: str, catalogue: Catalogue, proxy: Any, current: bool
) -> Declaration:
    result = assess(
        rules=catalogue.rules,
        temperature=data.temperature,
        symptoms=data.symptoms,
        contact=data.contact,
        risk_area_stay=data.risk_area_stay,
        test_result=data.test_result,
    )
    return Declaration(
        uuid=data.uuid,
        person_id=data.person_id,
        unit_path=path,
        day=data.day,
        temperature=data.temperature,
        symptoms=data.symptoms,
        division_id=data.division_code,
        whereabouts=data.whereabouts,
        contact=data.contact,
        risk_area_stay=data.risk_area_stay,
        test_result=data.test_result,
        filed_by=FiledBy.SELF if proxy is None else FiledBy.PROXY,
        proxy=proxy,
        status=result.status,
        reasons=result.reasons,
        is_current=current,
        created_at=timezone.now(),
        **result.flags,
    )


@transaction.atomic
def link_issue(*, actor: Actor, person: Person) -> PersonLink:
    """Give the person a new declaration link; any earlier link stops working."""
    require_proxy(actor, person)  # links are a proxy's tool
    now = timezone.now()
    PersonLink.objects.filter(person=person, revoked_at__isnull=True).update(revoked_at=now)
    link = PersonLink.objects.create(person=person, created_by=acting_user(actor))
    audit_record(
        actor=actor,
        action=AuditLog.Action.CREATE,
        obj=link,
        object_repr=f"{person.name}: declaration link",
        scope_path=person.unit_path,
    )
    return link


@transaction.atomic
def links_issue_missing(
    *, actor: Actor, unit: OrgUnit, people: Sequence[Person]
) -> list[PersonLink]:
    """Give a link to each of a unit's ``people`` who has none (the QR sheet); return them.

    Live links keep working. One INSERT and one audit row (with the people's ids) for the
    whole sheet, however many people it has.
    """
    scope = scope_for(actor, Perm.DECLARE_FOR_OTHERS)
    ids = [person.pk for person in people]
    paths = Person.objects.filter(pk__in=ids).values_list("unit_path", "household__path")
    for path, household in paths:
        if not covers_person(scope, path, household):
            require_perm(actor, Perm.DECLARE_FOR_OTHERS, path, seen_with=Perm.VIEW_HEALTH)
    have = set(
        PersonLink.objects.filter(person_id__in=ids, revoked_at__isnull=True).values_list(
            "person_id", flat=True
        )
    )
    links = PersonLink.objects.bulk_create(
        PersonLink(person=person, created_by=acting_user(actor))
        for person in people
        if person.pk not in have
    )
    if links:
        audit_record(
            actor=actor,
            action=AuditLog.Action.CREATE,
            object_type="health.personlink",
            object_repr=f"{unit.name}: {len(links)} declaration links",
            scope_path=unit.path,
            after={"people": [link.person_id for link in links]},
        )
    return links


@transaction.atomic
def link_revoke(*, actor: Actor, person: Person) -> int:
    """Stop the person's declaration link from working; return how many were revoked."""
    require_proxy(actor, person)  # links are a proxy's tool
    revoked = PersonLink.objects.filter(person=person, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    if revoked:
        audit_record(
            actor=actor,
            action=AuditLog.Action.DELETE,
            object_type="health.personlink",
            object_id=str(person.pk),
            object_repr=f"{person.name}: declaration link",
            scope_path=person.unit_path,
        )
    return revoked


# ------------------------------------------------------------------ outbreak profile

PROFILE_FIELDS = (
    "disease_name",
    "lookback_days",
    "follow_up_days",
    "normal_days_to_close",
    "quarantine_days_high",
    "quarantine_days_medium",
    "quarantine_days_low",
    "fever_threshold",
)
SYMPTOM_FIELDS = ("code", "name", "name_en", "order", "is_active")


def _full_clean(obj: Any) -> None:
    try:
        obj.full_clean()
    except ValidationError as exc:
        raise InvalidInput(detail=validation_detail(exc)) from exc


@transaction.atomic
def outbreak_profile_update(*, actor: Actor, values: dict[str, Any]) -> OutbreakProfile:
    """Change the outbreak profile's numbers (cleaned ``values`` by field name); audited."""
    require_perm(actor, Perm.MANAGE_OUTBREAK)  # one group-wide row: held anywhere
    profile = OutbreakProfile.objects.select_for_update().get(pk=OutbreakProfile.current().pk)
    before = snapshot(profile, exclude=("created_at", "updated_at"))
    changed = [name for name in PROFILE_FIELDS if name in values]
    for name in changed:
        setattr(profile, name, values[name])
    _full_clean(profile)
    profile.save(update_fields=[*changed, "updated_at"])
    audit_record(
        actor=actor,
        action=AuditLog.Action.UPDATE,
        obj=profile,
        before=before,
        after=snapshot(profile, exclude=("created_at", "updated_at")),
    )
    return profile


@transaction.atomic
def symptom_save(*, actor: Actor, symptom: Symptom | None, values: dict[str, Any]) -> Symptom:
    """Add a symptom to the list (``symptom`` None) or change one; audited.

    Symptoms are switched off rather than deleted: old declarations keep their codes.
    """
    require_perm(actor, Perm.MANAGE_OUTBREAK)  # one group-wide row: held anywhere
    before = snapshot(symptom) if symptom is not None else None
    target = symptom or Symptom()
    for name in SYMPTOM_FIELDS:
        if name in values:
            setattr(target, name, values[name])
    _full_clean(target)
    target.save()
    audit_record(
        actor=actor,
        action=AuditLog.Action.UPDATE if before else AuditLog.Action.CREATE,
        obj=target,
        before=before,
        after=snapshot(target),
    )
    return target
