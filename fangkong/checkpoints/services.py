"""Every write of checkpoints: sites' policies, checkpoints, the gate's log, visitors, the
watch list, duty posts and rosters.

Who may write:
- *manage checkpoints* on the site: policies, checkpoints, posts and rosters;
- *record at the gate* on the site: scans, manual entries, walk-in visitors;
- *override refusals* on the site: a supervisor admits a refused entry, with a reason,
  and keeps the watch list;
- any role on the site (*view units*): a host pre-registers a visitor.
"""

import datetime as dt
import hashlib
import hmac
import re
import uuid as uuid_lib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from fangkong.accounts.actors import Actor, acting_user
from fangkong.accounts.models import RoleAssignment, User
from fangkong.accounts.roles import Perm, Role
from fangkong.accounts.selectors import require_perm, scope_for
from fangkong.core.audit import audit_record, snapshot
from fangkong.core.bulk import insert_returning_pks
from fangkong.core.errors import ApplicationError, Conflict, InvalidInput, KeyReused, NotFound
from fangkong.core.masking import mask_id_number, name_masked
from fangkong.core.models import AuditLog
from fangkong.core.numbers import to_decimal
from fangkong.core.paths import ancestor_paths, subtree_q
from fangkong.core.text import clean_cell, compact
from fangkong.health.models import (
    TEMPERATURE_MAX,
    TEMPERATURE_MIN,
    Colour,
    Declaration,
)
from fangkong.health.selectors import catalogue as health_catalogue
from fangkong.orgs.models import OrgUnit, Person
from fangkong.orgs.validators import normalize_phone, normalize_resident_id
from fangkong.passes import selectors as passes
from fangkong.passes import services as pass_services
from fangkong.passes.format import FormatError, split_moving_code
from fangkong.passes.holders import plate_normalise
from fangkong.passes.models import Pass, PassLink
from fangkong.passes.services import verify_online
from fangkong.passes.verify import Policy as PassPolicy
from fangkong.quarantine.models import Placement
from fangkong.tracking import services as tracking

from .models import (
    RESTRICTED_VERDICTS,
    Checkpoint,
    Direction,
    GateEvent,
    Post,
    RosterSlot,
    SitePolicy,
    Verdict,
    Visitor,
    WatchEntry,
)
from .selectors import may_manage_visit, visible_checkpoints, visit_of_pass, visitor_pass, works_at

BATCH_LIMIT = 500
# ``TextChoices.values`` builds a new list on each access: a batch checks 500 scans.
_DIRECTIONS = frozenset(Direction.values)
_VERDICTS = frozenset(Verdict.values)


def _audit(actor: Actor, action: str, obj: Any, scope_path: str, before: Any = None) -> None:
    audit_record(
        actor=actor,
        action=action,
        obj=obj,
        scope_path=scope_path,
        before=before,
        after=snapshot(obj),
    )


def _plate_or_none(value: Any) -> str:
    """Return a plate as stored (鲁C12345, upper case, no dot or space), "" for none, or
    raise InvalidInput on ``plate``; the passes' rule (new-energy plates included)."""
    text = compact(value)
    return plate_normalise(text) if text else ""


# ------------------------------------------------------------------ sites and checkpoints


def policy_for(site: OrgUnit) -> SitePolicy:
    """The site's policy, or the default (green only, nothing banned) if none was saved."""
    return SitePolicy.objects.filter(site=site).first() or SitePolicy(
        site=site, site_path=site.path
    )


@transaction.atomic
def policy_update(
    *,
    actor: Actor,
    site: OrgUnit,
    admit_colours: Iterable[str],
    refuse_printed: bool = False,
    refuse_without_device_key: bool = False,
    outsiders_banned: bool = False,
) -> SitePolicy:
    """Set which status colours admit at the site and what its checkpoints refuse."""
    require_perm(actor, Perm.MANAGE_CHECKPOINTS, site.path)
    colours = [colour for colour in Colour.values if colour in set(admit_colours)]
    if not colours:
        raise InvalidInput.at("admit_colours", _("Choose at least one status colour that admits."))
    policy = policy_for(site)
    before = snapshot(policy) if policy.pk else None
    policy.admit_colours = colours
    policy.refuse_printed = bool(refuse_printed)
    policy.refuse_without_device_key = bool(refuse_without_device_key)
    policy.outsiders_banned = bool(outsiders_banned)
    policy.save()
    action = AuditLog.Action.UPDATE if before else AuditLog.Action.CREATE
    _audit(actor, action, policy, site.path, before)
    return policy


def _zones(value: Any) -> list[str]:
    if isinstance(value, str):
        value = re.split(r"[\s,，、]+", value)
    zones = [clean_cell(zone).upper() for zone in value or [] if clean_cell(zone)]
    if any(len(zone) > 32 for zone in zones):
        raise InvalidInput.at("zones", _("A zone code has at most 32 characters."))
    return sorted(set(zones))


def _checkpoint_fields(code: str, name: str, zones: Any) -> dict[str, Any]:
    fields = {"code": clean_cell(code).upper(), "name": clean_cell(name), "zones": _zones(zones)}
    if not fields["code"] or len(fields["code"]) > 32:
        raise InvalidInput.at("code", _("The code is required (at most 32 characters)."))
    if not fields["name"] or len(fields["name"]) > 64:
        raise InvalidInput.at("name", _("The name is required (at most 64 characters)."))
    return fields


@transaction.atomic
def checkpoint_create(
    *, actor: Actor, site: OrgUnit, code: str, name: str, zones: Any = (), is_mobile: bool = False
) -> Checkpoint:
    """Add a checkpoint (or a mobile post) to a site."""
    require_perm(actor, Perm.MANAGE_CHECKPOINTS, site.path)
    fields = _checkpoint_fields(code, name, zones)
    if Checkpoint.objects.filter(site=site, code=fields["code"]).exists():
        raise InvalidInput.at("code", _("This site already has a checkpoint with that code."))
    checkpoint = Checkpoint.objects.create(
        site=site, site_path=site.path, is_mobile=bool(is_mobile), **fields
    )
    _audit(actor, AuditLog.Action.CREATE, checkpoint, site.path)
    return checkpoint


@transaction.atomic
def checkpoint_update(
    *,
    actor: Actor,
    checkpoint: Checkpoint,
    name: str,
    zones: Any = (),
    is_mobile: bool = False,
    is_active: bool = True,
) -> Checkpoint:
    """Rename a checkpoint, change its zones, mark it mobile or out of use."""
    require_perm(actor, Perm.MANAGE_CHECKPOINTS, checkpoint.site_path)
    before = snapshot(checkpoint)
    fields = _checkpoint_fields(checkpoint.code, name, zones)
    checkpoint.name, checkpoint.zones = fields["name"], fields["zones"]
    checkpoint.is_mobile, checkpoint.is_active = bool(is_mobile), bool(is_active)
    checkpoint.save()
    _audit(actor, AuditLog.Action.UPDATE, checkpoint, checkpoint.site_path, before)
    return checkpoint


# ------------------------------------------------------------------ watch list


def id_hash(id_number: str) -> str:
    """A keyed hash of an ID number: the watch list never stores the number itself."""
    key = getattr(settings, "WATCH_LIST_KEY", "") or settings.SECRET_KEY
    return hmac.new(key.encode(), id_number.encode(), hashlib.sha256).hexdigest()


def _visitor_fields(*, name: str, purpose: str, id_number: str, phone: str, plate: str) -> dict:
    """The visitor's own fields cleaned; every field's problem at once (a host fixes the
    form in one go, not one refusal after another)."""
    problems: dict[str, list[Any]] = {}

    def checked(field: str, read: Any) -> Any:
        try:
            return read()
        except InvalidInput as exc:
            problems.update(exc.detail)
        except ValidationError as exc:
            problems[field] = list(exc.messages)
        return ""

    fields = {
        "name": clean_cell(name),
        "purpose": clean_cell(purpose),
        "id_number": checked("id_number", lambda: _resident_id(id_number)),
        "phone": checked("phone", lambda: normalize_phone(phone)),
        "plate": checked("plate", lambda: _plate_or_none(plate)),
    }
    if not fields["name"] or len(fields["name"]) > 64:
        problems["name"] = [_("The visitor's name is required.")]
    if not fields["purpose"] or len(fields["purpose"]) > 200:
        problems["purpose"] = [_("Say what the visit is for.")]
    if problems:
        raise InvalidInput(next(iter(problems.values()))[0], detail=problems)
    return fields


def _resident_id(value: Any, field: str = "id_number") -> str:
    try:
        return normalize_resident_id(str(value or ""))
    except ValidationError as exc:
        raise InvalidInput.at(field, exc.messages[0]) from None


@transaction.atomic
def watch_add(*, actor: Actor, unit: OrgUnit, id_number: str, name: str, reason: str) -> WatchEntry:
    """Refuse an ID number at every checkpoint under ``unit``; the reason is for supervisors."""
    require_perm(actor, Perm.OVERRIDE_GATE, unit.path)
    number = _resident_id(id_number)
    reason = clean_cell(reason)
    if not reason:
        raise InvalidInput.at("reason", _("Say why this person is on the watch list."))
    entry = WatchEntry.objects.create(
        unit=unit,
        unit_path=unit.path,
        id_hash=id_hash(number),
        id_masked=mask_id_number(number),
        name=clean_cell(name)[:64],
        reason=reason[:255],
        created_by=acting_user(actor),
    )
    _audit(actor, AuditLog.Action.CREATE, entry, unit.path)
    return entry


@transaction.atomic
def watch_remove(*, actor: Actor, entry: WatchEntry) -> WatchEntry:
    require_perm(actor, Perm.OVERRIDE_GATE, entry.unit_path)
    before = snapshot(entry)
    entry.is_active = False
    entry.save(update_fields=["is_active", "updated_at"])
    _audit(actor, AuditLog.Action.UPDATE, entry, entry.unit_path, before)
    return entry


def watched(id_number: str, site_path: str) -> WatchEntry | None:
    """The active watch-list entry covering ``site_path`` for this ID number, if any."""
    if not id_number:
        return None
    return WatchEntry.objects.filter(
        id_hash=id_hash(id_number), is_active=True, unit_path__in=ancestor_paths(site_path)
    ).first()


# ------------------------------------------------------------------ visitors


def _window(day: dt.date, start: dt.time | None, end: dt.time | None) -> tuple[Any, Any]:
    zone = timezone.get_current_timezone()
    valid_from = dt.datetime.combine(day, start or dt.time(0), zone)
    valid_until = (
        dt.datetime.combine(day, end, zone)
        if end is not None
        else dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), zone)
    )
    if valid_until <= valid_from:
        raise InvalidInput.at("until", _("The visit must end after it starts."))
    return valid_from, valid_until


@transaction.atomic
def visitor_register(
    *,
    actor: Actor,
    site: OrgUnit,
    name: str,
    id_number: str,
    purpose: str,
    day: dt.date,
    phone: str = "",
    plate: str = "",
    start: dt.time | None = None,
    end: dt.time | None = None,
    walk_in: bool = False,
) -> Visitor:
    """Register a visitor for one day: a host in advance, or the guard at the gate.

    The visitor's one-day pass (its window and zones stored here) is issued by the passes
    app; see docs/checkpoints.md.
    """
    if walk_in:
        require_perm(actor, Perm.RECORD_GATE, site.path)
    elif not works_at(actor, site.path):
        require_perm(actor, Perm.VIEW_UNITS, site.path)
    fields = _visitor_fields(
        name=name, purpose=purpose, id_number=id_number, phone=phone, plate=plate
    )
    today = timezone.localdate()
    if not walk_in and not today <= day <= today + dt.timedelta(days=30):
        raise InvalidInput.at("day", _("A visit is registered for today or a day within 30 days."))
    valid_from, valid_until = _window(today if walk_in else day, start, end)
    if not walk_in and valid_until <= timezone.now():
        raise InvalidInput.at(
            "end", _("This visit's time is already over: choose a later time or day.")
        )
    visitor = Visitor.objects.create(
        site=site,
        site_path=site.path,
        day=today if walk_in else day,
        valid_from=valid_from,
        valid_until=valid_until,
        zones=sorted(
            {
                zone
                for zones in Checkpoint.objects.filter(site=site).values_list("zones", flat=True)
                for zone in zones
            }
        ),
        source=Visitor.Source.WALK_IN if walk_in else Visitor.Source.PRE_REGISTERED,
        host=None if walk_in else acting_user(actor),
        created_by=acting_user(actor),
        **fields,
    )
    if not walk_in:
        _visitor_pass_issue(visitor)
    _audit(actor, AuditLog.Action.CREATE, visitor, site.path)
    return visitor


def _visitor_pass_issue(visitor: Visitor) -> PassLink:
    """Issue the pre-registered visitor's one-day pass and its personal link.

    The system issues it on the host's behalf: hosting is the permission asked for (a
    host needs no *manage people*). The pass names the site (its unit and key), the
    visitor masked, the site's zones (else the site's code, which every checkpoint of the
    site admits) and exactly the visit's window.
    """
    display = name_masked(visitor.name)
    if len(display) > 32:  # what a pass may carry
        display = display[:31] + display[-1]
    row, _text = pass_services.pass_issue(
        None,
        kind=Pass.Kind.VISITOR,
        unit=visitor.site,
        holder_display=display,
        zones=list(visitor.zones) or [visitor.site.code],
        valid_from=visitor.valid_from,
        valid_until=visitor.valid_until,
        holder_name=visitor.name,
        purpose=visitor.purpose,
    )
    link = pass_services.pass_link_create(None, row)
    visitor.pass_id_hash = row.pass_hash
    visitor.save(update_fields=["pass_id_hash", "updated_at"])
    return link


def require_visit_manager(actor: Actor, visitor: Visitor) -> None:
    """Raise unless the actor hosts the visit or manages the site's checkpoints."""
    if not may_manage_visit(actor, visitor):
        require_perm(
            actor,
            Perm.MANAGE_CHECKPOINTS,
            visitor.site_path,
            message=_("Only the visit's host or the site's administrator may cancel it."),
        )


@transaction.atomic
def visitor_cancel(*, actor: Actor, visitor: Visitor, reason: str = "") -> Visitor:
    """Cancel a visit (its host or a site admin): its pass is revoked, so its link shows
    the visit cancelled and every gate refuses the pass; audited."""
    require_visit_manager(actor, visitor)
    visitor = Visitor.objects.select_for_update().get(pk=visitor.pk)
    if visitor.cancelled_at is not None:
        return visitor
    if visitor.valid_until <= timezone.now():
        raise Conflict(_("This visit is over; there is nothing to cancel."))
    reason = clean_cell(reason)[:200]
    before = snapshot(visitor)
    visitor.cancelled_at = timezone.now()
    visitor.cancelled_by = acting_user(actor)
    visitor.cancel_reason = reason
    visitor.save(update_fields=["cancelled_at", "cancelled_by", "cancel_reason", "updated_at"])
    row = visitor_pass(visitor)
    if row is not None:
        # Stored in the site's language: the visitor's page shows it as the reason.
        with translation.override(settings.LANGUAGE_CODE):
            text = (
                _("The visit was cancelled: %(reason)s") % {"reason": reason}
                if reason
                else _("The visit was cancelled.")
            )
        pass_services.pass_revoke(None, row, text)
    _audit(actor, AuditLog.Action.UPDATE, visitor, visitor.site_path, before)
    return visitor


# ------------------------------------------------------------------ the gate's log


@dataclass(frozen=True)
class Decision:
    verdict: str
    reason: str


def _temperature(value: Any) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        number = to_decimal(value, places=1)
    except ValueError:
        number = None
    if number is None or not TEMPERATURE_MIN <= number <= TEMPERATURE_MAX:
        raise InvalidInput.at(
            "temperature",
            _("Enter a temperature between %(low)s and %(high)s °C.")
            % {"low": TEMPERATURE_MIN, "high": TEMPERATURE_MAX},
        )
    return number


class GateRules:
    """What the site's rules read: the watch list, the site's outsiders flag and the fever
    threshold, each read when a scan needs it. A batch reads its scans' at once
    (:class:`_BatchRules`)."""

    def watch_reason(self, id_number: str, site_path: str) -> str | None:
        entry = watched(id_number, site_path)
        return None if entry is None else entry.reason

    def outsiders_banned(self, checkpoint: Checkpoint) -> bool:
        return policy_for(checkpoint.site).outsiders_banned

    def fever_threshold(self) -> Decimal:
        # The profile as the declarations read it (health's per-process memo): a change
        # reaches every worker within its seconds, at the gate as on the phone.
        return health_catalogue.get().profile.fever_threshold


def _gate_rules(
    checkpoint: Checkpoint,
    direction: str,
    decision: Decision,
    *,
    person: Person | None,
    visitor: Visitor | None,
    temperature: Decimal | None,
    rules: GateRules,
) -> Decision:
    """Apply the site's own rules on entry, over whatever the pass said.

    Order: the watch list (its reason stays hidden from guards), outsiders banned, then a
    fever taken at the gate.
    """
    if direction != Direction.IN:
        return decision
    id_number = person.id_number if person else visitor.id_number if visitor else ""
    reason = rules.watch_reason(id_number, checkpoint.site_path) if id_number else None
    if reason is not None:
        return Decision(Verdict.WATCH_LIST, reason)
    if visitor is not None and rules.outsiders_banned(checkpoint):
        return Decision(
            Verdict.OUTSIDERS_BANNED, _("Outsiders are banned from entering this site.")
        )
    if temperature is not None:
        threshold = rules.fever_threshold()
        if temperature >= threshold:
            return Decision(
                Verdict.FEVER,
                _("Temperature %(t)s °C at or above %(threshold)s °C: entry refused.")
                % {"t": temperature, "threshold": threshold},
            )
    return decision


def _subject_key(values: dict[str, Any], source: str) -> str:
    if values["person_id"] is not None:
        return f"p{values['person_id']}"
    if values["visitor_id"] is not None:
        return f"v{values['visitor_id']}"
    if values["plate"]:
        return f"c{values['plate']}"
    if values["pass_id_hash"]:
        return f"h{values['pass_id_hash'][:32]}"  # a pass whose holder is not on record here
    if source == GateEvent.Source.SCAN:
        return "unreadable"  # a forged or unreadable code is logged as refused
    raise InvalidInput(_("Name the person, the visitor or the vehicle."))


def _scan_values(
    *,
    checkpoint: Checkpoint,
    direction: str,
    verdict_code: str,
    person: Person | None,
    visitor: Visitor | None,
    plate: str | None,
    pass_id_hash: str,
    temperature: Any,
    client_uuid: uuid_lib.UUID | str,
) -> tuple[uuid_lib.UUID, dict[str, Any]]:
    """Check and clean what identifies a scan: its UUID and the values a retry must repeat."""
    if direction not in _DIRECTIONS:
        raise InvalidInput.at("direction", _("The direction is in or out."))
    if verdict_code not in _VERDICTS:
        raise InvalidInput.at("verdict", _("Unknown verdict code."))
    try:
        key = (
            client_uuid
            if isinstance(client_uuid, uuid_lib.UUID)
            else uuid_lib.UUID(str(client_uuid))
        )
    except ValueError:
        raise InvalidInput.at("client_uuid", _("The client UUID is not a UUID.")) from None
    plate = _plate_or_none(plate or "")
    kind = (
        GateEvent.Kind.VISITOR
        if visitor is not None
        else GateEvent.Kind.PERSON
        if person is not None
        else GateEvent.Kind.VEHICLE
    )
    return key, {
        "checkpoint_id": checkpoint.pk,
        "direction": direction,
        "kind": kind,
        "person_id": person.pk if person else None,
        "visitor_id": visitor.pk if visitor else None,
        "plate": plate,
        "pass_id_hash": clean_cell(pass_id_hash)[:64],
        "temperature": _temperature(temperature),
    }


def _retried(earlier: GateEvent, values: dict[str, Any]) -> GateEvent:
    """The row a UUID stored, when sent again with the same content; else 409."""
    if not all(getattr(earlier, name) == value for name, value in values.items()):
        raise KeyReused(detail={"client_uuid": [str(KeyReused.default_message)]})
    return earlier


def _new_event(
    actor: Actor,
    checkpoint: Checkpoint,
    key: uuid_lib.UUID,
    values: dict[str, Any],
    decision: Decision,
    *,
    at: dt.datetime | None,
    source: str,
    driver: str,
    disinfected: bool | None,
    cargo: str,
) -> GateEvent:
    """The gate's log row of a decided scan, not saved yet."""
    now = timezone.now()
    return GateEvent(
        **values,
        site_path=checkpoint.site_path,
        at=min(at, now) if at else now,
        guard=acting_user(actor),
        source=source,
        driver=clean_cell(driver)[:64],
        subject_key=_subject_key(values, source),
        verdict=decision.verdict,
        reason=decision.reason,
        admitted=decision.verdict == Verdict.OK,
        disinfected=disinfected,
        cargo=clean_cell(cargo)[:200],
        client_uuid=key,
    )


def _fever_card(event: GateEvent, person: Person, checkpoint: Checkpoint) -> None:
    """A fever at the gate opens an abnormal-person card (the system acts)."""
    tracking.card_open(
        actor=None,
        person=person,
        reason=_("fever %(t)s °C at %(checkpoint)s")
        % {"t": event.temperature, "checkpoint": checkpoint.name},
    )


@transaction.atomic
def scan_record(
    actor: Actor,
    *,
    checkpoint: Checkpoint,
    direction: str,
    verdict_code: str,
    reason_message: str,
    person: Person | None = None,
    plate: str | None = None,
    visitor: Visitor | None = None,
    pass_id_hash: str = "",
    temperature: Any = None,
    disinfected: bool | None = None,
    cargo: str = "",
    client_uuid: uuid_lib.UUID | str,
    at: dt.datetime | None = None,
    driver: str = "",
    source: str = GateEvent.Source.SCAN,
) -> tuple[GateEvent, bool]:
    """Record one scan or manual entry with its verdict, from any source; idempotent.

    ``verdict_code`` is what decided the pass (the verifier's code, or the gate's own); the
    site's rules (watch list, outsiders banned, fever) may still refuse an entry. A
    temperature at or above the outbreak profile's threshold opens an abnormal-person card.
    The same ``client_uuid`` sent again with the same content answers the stored row
    (created False); with other content it is refused (409). A scanner's batch goes
    through :func:`scans_record`, which decides each scan the same way.
    """
    require_perm(actor, Perm.RECORD_GATE, checkpoint.site_path)
    key, values = _scan_values(
        checkpoint=checkpoint,
        direction=direction,
        verdict_code=verdict_code,
        person=person,
        visitor=visitor,
        plate=plate,
        pass_id_hash=pass_id_hash,
        temperature=temperature,
        client_uuid=client_uuid,
    )
    earlier = GateEvent.objects.filter(client_uuid=key).first()
    if earlier is not None:
        return _retried(earlier, values), False
    decision = _gate_rules(
        checkpoint,
        direction,
        Decision(verdict_code, clean_cell(reason_message)[:255]),
        person=person,
        visitor=visitor,
        temperature=values["temperature"],
        rules=GateRules(),
    )
    event = _new_event(
        actor,
        checkpoint,
        key,
        values,
        decision,
        at=at,
        source=source,
        driver=driver,
        disinfected=disinfected,
        cargo=cargo,
    )
    event.save(force_insert=True)
    if event.verdict == Verdict.FEVER and person is not None:
        _fever_card(event, person, checkpoint)
    return event, True


# ------------------------------------------------------------------ a scanner's batch


class ScanSent(Protocol):
    """One scan of a scanner's batch, as the API received it (``schemas.ScanIn``)."""

    client_uuid: uuid_lib.UUID
    checkpoint_id: int
    direction: str
    verdict: str
    reason: str
    at: dt.datetime | None
    person_id: int | None
    visitor_id: int | None
    plate: str
    driver: str
    pass_id_hash: str
    temperature: Decimal | None
    disinfected: bool | None
    cargo: str


@dataclass(frozen=True)
class ScanAnswer:
    """How one scan of a batch was answered: stored now (``created``), stored before (a
    retry), or refused with ``error``."""

    client_uuid: uuid_lib.UUID
    event: GateEvent | None = None
    created: bool = False
    error: ApplicationError | None = None


class _BatchRules(GateRules):
    """The site rules' data for every scan of a batch, read in at most three queries."""

    def __init__(self, watch: dict[str, list[tuple[str, str]]], banned: set[int]) -> None:
        self.watch = watch  # id hash -> (unit path, reason), newest entry first
        self.banned = banned  # sites whose policy bans outsiders
        self.threshold: Decimal | None = None

    def watch_reason(self, id_number: str, site_path: str) -> str | None:
        entries = self.watch.get(id_hash(id_number), ())
        return next((reason for path, reason in entries if site_path.startswith(path)), None)

    def outsiders_banned(self, checkpoint: Checkpoint) -> bool:
        return checkpoint.site_id in self.banned

    def fever_threshold(self) -> Decimal:
        if self.threshold is None:
            self.threshold = super().fever_threshold()
        return self.threshold


@dataclass
class _Batch:
    """What a batch's scans name, each read once for the whole batch."""

    checkpoints: dict[int, Checkpoint]
    people: dict[int, Person]  # named by id: only those in the actor's gate scope
    visitors: dict[int, Visitor]
    passes: dict[str, Pass]  # by pass id hash: an offline scanner names only the pass
    visits: dict[tuple[str, str], Visitor]  # (pass id hash, site path): a visitor pass's visit
    stored: dict[uuid_lib.UUID, GateEvent]  # by client UUID: before, and in this batch
    rules: _BatchRules
    recording_at: set[str] = field(default_factory=set)  # site paths the actor may record at

    @classmethod
    def load(cls, actor: Actor, scans: Sequence[ScanSent]) -> "_Batch":
        checkpoints = Checkpoint.objects.filter(pk__in={scan.checkpoint_id for scan in scans})
        if actor is not None:
            checkpoints = visible_checkpoints(actor, checkpoints)
        checkpoint_of = {checkpoint.pk: checkpoint for checkpoint in checkpoints}
        person_ids = {scan.person_id for scan in scans if scan.person_id is not None}
        visitor_ids = {scan.visitor_id for scan in scans if scan.visitor_id is not None}
        pass_hashes = {
            scan.pass_id_hash.lower()
            for scan in scans
            if scan.person_id is None and scan.visitor_id is None and scan.pass_id_hash
        }
        people = Person.objects.filter(pk__in=person_ids, is_active=True).only(
            "id", "id_number", "unit_path", "is_active"
        )
        if actor is not None:
            people = scope_for(actor, Perm.RECORD_GATE).filter(people, "unit_path")
        person_of = {person.pk: person for person in people} if person_ids else {}
        visitors = Visitor.objects.filter(pk__in=visitor_ids).only("id", "site_id", "id_number")
        visitor_of = {visitor.pk: visitor for visitor in visitors} if visitor_ids else {}
        pass_of = (
            {
                row.pass_hash: row
                for row in Pass.objects.filter(pass_hash__in=pass_hashes).select_related("person")
            }
            if pass_hashes
            else {}
        )
        visitor_passes = [h for h, row in pass_of.items() if row.kind == Pass.Kind.VISITOR]
        visit_of = (
            {
                (visit.pass_id_hash, visit.site_path): visit
                for visit in Visitor.objects.filter(pass_id_hash__in=visitor_passes)
            }
            if visitor_passes
            else {}
        )
        keys = {scan.client_uuid for scan in scans}
        stored = {
            event.client_uuid: event for event in GateEvent.objects.filter(client_uuid__in=keys)
        }
        numbers = [person.id_number for person in person_of.values()]
        numbers += [row.person.id_number for row in pass_of.values() if row.person is not None]
        numbers += [visitor.id_number for visitor in visitor_of.values()]
        numbers += [visit.id_number for visit in visit_of.values()]
        hashes = {id_hash(number) for number in numbers if number}
        ancestors = {
            path
            for checkpoint in checkpoint_of.values()
            for path in ancestor_paths(checkpoint.site_path)
        }
        watch: dict[str, list[tuple[str, str]]] = {}
        if hashes and ancestors:
            entries = WatchEntry.objects.filter(
                id_hash__in=hashes, is_active=True, unit_path__in=ancestors
            ).order_by("-created_at", "-id")
            for hashed, path, reason in entries.values_list("id_hash", "unit_path", "reason"):
                watch.setdefault(hashed, []).append((path, reason))
        visited = {
            checkpoint_of[scan.checkpoint_id].site_id
            for scan in scans
            if (scan.visitor_id is not None or scan.pass_id_hash.lower() in visitor_passes)
            and scan.checkpoint_id in checkpoint_of
        }
        banned = (
            set(
                SitePolicy.objects.filter(site_id__in=visited, outsiders_banned=True).values_list(
                    "site_id", flat=True
                )
            )
            if visited
            else set()
        )
        return cls(
            checkpoint_of,
            person_of,
            visitor_of,
            pass_of,
            visit_of,
            stored,
            _BatchRules(watch, banned),
        )

    def holder(
        self, scan: ScanSent, checkpoint: Checkpoint
    ) -> tuple[Person | None, Visitor | None, str]:
        """Whom a scan names, by the rule of :func:`scanned_holder` (online checks alike):
        by id within the actor's gate scope, else the pass's holder from the server's
        record; the plate typed at the gate, else a vehicle pass's own."""
        person = visitor = None
        if scan.person_id is not None:
            person = self.people.get(scan.person_id)
            if person is None:
                raise NotFound(detail={"person_id": [str(NotFound.default_message)]})
        if scan.visitor_id is not None:
            visitor = self.visitors.get(scan.visitor_id)
            if visitor is None or visitor.site_id != checkpoint.site_id:
                raise NotFound(detail={"visitor_id": [str(NotFound.default_message)]})
        if person is not None or visitor is not None or not scan.pass_id_hash:
            return person, visitor, scan.plate
        row = self.passes.get(scan.pass_id_hash.lower())
        if row is None:
            return None, None, scan.plate
        visit = self.visits.get((row.pass_hash, checkpoint.site_path))
        return holder_of_pass(row, visit, scan.plate)

    def require_recording(self, actor: Actor, site_path: str) -> None:
        if site_path not in self.recording_at:
            require_perm(actor, Perm.RECORD_GATE, site_path)
            self.recording_at.add(site_path)


def scans_record(actor: Actor, scans: Sequence[ScanSent]) -> list[ScanAnswer]:
    """Record a scanner's batch; answer each scan on its own, in the order sent.

    Each scan is decided as :func:`scan_record` decides one (the same checks, the same
    site rules, the same idempotency by client UUID, a fever opens a card), but the batch
    is read and written with a fixed number of queries, whatever its size, in one
    transaction. A scan refused for its own reasons (out of scope, invalid, a UUID reused
    for other content) refuses nothing else.
    """
    require_perm(actor, Perm.RECORD_GATE)
    try:
        return _scans_store(actor, scans)
    except IntegrityError:
        pass
    # A concurrent upload stored some of these UUIDs after this one looked (PostgreSQL;
    # SQLite's writers wait for each other): they are stored now, so decide again.
    try:
        return _scans_store(actor, scans)
    except IntegrityError:
        raise Conflict(
            _(
                "Some of these scans were stored by another upload at the same moment; "
                "send them again."
            )
        ) from None


@transaction.atomic
def _scans_store(actor: Actor, scans: Sequence[ScanSent]) -> list[ScanAnswer]:
    batch = _Batch.load(actor, scans)
    answers: list[ScanAnswer] = []
    fresh: list[GateEvent] = []  # saved together at the end
    for scan in scans:
        try:
            event, created = _batch_scan(actor, scan, batch)
        except ApplicationError as exc:
            answers.append(ScanAnswer(scan.client_uuid, error=exc))
            continue
        if created and event.pk is None:
            fresh.append(event)
        answers.append(ScanAnswer(scan.client_uuid, event, created))
    insert_returning_pks(fresh)
    return answers


def _batch_scan(actor: Actor, scan: ScanSent, batch: _Batch) -> tuple[GateEvent, bool]:
    """Decide one scan of a batch; a new row is saved later with the others (a fever's at
    once, with its card)."""
    checkpoint = batch.checkpoints.get(scan.checkpoint_id)
    if checkpoint is None:
        raise NotFound()
    person, visitor, plate = batch.holder(scan, checkpoint)
    batch.require_recording(actor, checkpoint.site_path)
    key, values = _scan_values(
        checkpoint=checkpoint,
        direction=scan.direction,
        verdict_code=scan.verdict,
        person=person,
        visitor=visitor,
        plate=plate,
        pass_id_hash=scan.pass_id_hash,
        temperature=scan.temperature,
        client_uuid=scan.client_uuid,
    )
    earlier = batch.stored.get(key)
    if earlier is not None:
        return _retried(earlier, values), False
    decision = _gate_rules(
        checkpoint,
        scan.direction,
        Decision(scan.verdict, clean_cell(scan.reason)[:255]),
        person=person,
        visitor=visitor,
        temperature=values["temperature"],
        rules=batch.rules,
    )
    event = _new_event(
        actor,
        checkpoint,
        key,
        values,
        decision,
        at=scan.at,
        source=GateEvent.Source.SCAN,
        driver=scan.driver,
        disinfected=scan.disinfected,
        cargo=scan.cargo,
    )
    if event.verdict == Verdict.FEVER and person is not None:
        # Rare: saved now with its card, in a savepoint, so that a card that cannot be
        # opened refuses this scan alone.
        with transaction.atomic():
            event.save(force_insert=True)
            _fever_card(event, Person.objects.get(pk=person.pk), checkpoint)
    batch.stored[key] = event
    return event, True


def _status_decision(person: Person, site: OrgUnit) -> Decision:
    """Whether today's health status admits the person at the site (a manual entry)."""
    if Placement.objects.filter(person=person, state__in=Placement.OPEN_STATES).exists():
        return Decision(Verdict.STATUS, _("In quarantine."))
    today = timezone.localdate()
    colour = (
        Declaration.objects.filter(person=person, day=today, is_current=True)
        .values_list("status", flat=True)
        .first()
    )
    if colour is None:
        return Decision(Verdict.STATUS, _("No health declaration today."))
    if colour not in policy_for(site).admit_colours:
        return Decision(
            Verdict.STATUS,
            _("Health status %(colour)s does not admit here.") % {"colour": Colour(colour).label},
        )
    return Decision(Verdict.OK, "")


def _visitor_decision(visitor: Visitor, now: dt.datetime | None = None) -> Decision:
    now = now or timezone.now()
    if visitor.cancelled_at is not None:
        return Decision(Verdict.NO_PASS, _("The visit was cancelled."))
    if now < visitor.valid_from:
        return Decision(Verdict.NOT_YET_VALID, _("The visit has not started yet."))
    if now >= visitor.valid_until:
        return Decision(Verdict.EXPIRED, _("The visit is over."))
    return Decision(Verdict.OK, "")


def _visitor_today(site: OrgUnit, id_number: str) -> Visitor | None:
    """Today's visit of this ID number at the site; a cancelled one only if it is the only one."""
    return (
        Visitor.objects.filter(site=site, id_number=id_number, day=timezone.localdate())
        .order_by(F("cancelled_at").asc(nulls_first=True), "-valid_until", "-id")
        .first()
    )


def manual_entry(
    actor: Actor,
    *,
    checkpoint: Checkpoint,
    direction: str,
    id_number: str = "",
    plate: str = "",
    driver: str = "",
    temperature: Any = None,
    disinfected: bool | None = None,
    cargo: str = "",
    client_uuid: uuid_lib.UUID | str | None = None,
) -> tuple[GateEvent, bool]:
    """Record an entry typed at the gate by ID number (a person or a visitor) or plate.

    A person is admitted when today's health status admits at the site and they are not in
    quarantine; a visitor registered for today inside the visit's window; a vehicle alone
    is logged with its disinfection and cargo (its driver's pass is checked separately).
    """
    require_perm(actor, Perm.RECORD_GATE, checkpoint.site_path)
    person = visitor = None
    if id_number:
        number = _resident_id(id_number)
        visitor = _visitor_today(checkpoint.site, number)
        if visitor is None:
            person = Person.objects.filter(id_number=number, is_active=True).first()
        if visitor is not None:
            decision = _visitor_decision(visitor)
        elif person is not None:
            decision = _status_decision(person, checkpoint.site)
        else:
            # Nobody of that number: the entry is logged as a refused vehicle or walk-up.
            decision = Decision(Verdict.NO_PASS, _("Not registered: register as a visitor."))
            if not plate:
                raise InvalidInput.at(
                    "id_number",
                    _("Nobody with this ID number is registered; register a walk-in visitor."),
                )
    elif plate:
        decision = Decision(Verdict.OK, "")
    else:
        raise InvalidInput.at("id_number", _("Enter an ID number or a plate."))
    return scan_record(
        actor,
        checkpoint=checkpoint,
        direction=direction,
        verdict_code=decision.verdict if direction == Direction.IN else Verdict.OK,
        reason_message=decision.reason if direction == Direction.IN else "",
        person=person,
        visitor=visitor,
        plate=plate,
        driver=driver,
        temperature=temperature,
        disinfected=disinfected,
        cargo=cargo,
        client_uuid=client_uuid or uuid_lib.uuid4(),
        source=GateEvent.Source.MANUAL,
    )


# The verifier's finer causes that the gate's log names on their own.
_VERDICT_OF_DETAIL = {
    "printed_refused": Verdict.PRINTED_REFUSED,
    "no_device_key": Verdict.NO_DEVICE_KEY,
    "outsiders_banned": Verdict.OUTSIDERS_BANNED,
}


def gate_policy(checkpoint: Checkpoint, site_policy: SitePolicy | None = None) -> PassPolicy:
    """What a pass must show to be admitted here: the site's rule and the checkpoint's zones.

    A pass admits where one of its zones is the checkpoint's code, one of its zones, or the
    code of its site (a daily pass names its holder's unit and every unit above it).
    """
    site_policy = site_policy or policy_for(checkpoint.site)
    return PassPolicy(
        zones=frozenset([checkpoint.code, checkpoint.site.code, *checkpoint.zones]),
        admit_statuses=frozenset(site_policy.admit_colours),
        refuse_printed=site_policy.refuse_printed,
        refuse_without_device_key=site_policy.refuse_without_device_key,
        outsiders_banned=site_policy.outsiders_banned,
    )


def gate_policies(checkpoints: Iterable[Checkpoint]) -> dict[int, PassPolicy]:
    """``gate_policy`` of each checkpoint (with its site loaded), the sites' policies read
    in one query."""
    checkpoints = list(checkpoints)
    saved = {
        policy.site_id: policy
        for policy in SitePolicy.objects.filter(site_id__in={c.site_id for c in checkpoints})
    }
    return {
        c.pk: gate_policy(c, saved.get(c.site_id) or SitePolicy(site=c.site, site_path=c.site_path))
        for c in checkpoints
    }


def scanned_holder(
    pass_row: Any, site_path: str, plate: str = ""
) -> tuple[Person | None, Visitor | None, str]:
    """Whom a scanned pass names as the gate's log records it: the pass's person while
    active, a visitor pass's visit at this site, and the plate typed at the gate (checked),
    else a vehicle pass's own. The online check and an offline scanner's batch both use
    this rule, so the two record the same content under one client UUID."""
    if pass_row is None:
        return None, None, _plate_or_none(plate)
    visit = (
        visit_of_pass(pass_row.pass_hash, site_path) if pass_row.kind == Pass.Kind.VISITOR else None
    )
    return holder_of_pass(pass_row, visit, plate)


def holder_of_pass(
    pass_row: Pass, visit: Visitor | None, plate: str = ""
) -> tuple[Person | None, Visitor | None, str]:
    """:func:`scanned_holder` once the visit (if any) is known: no query."""
    person = pass_row.person if pass_row.person is not None and pass_row.person.is_active else None
    own_plate = pass_row.plate if visit is None else ""
    return person, visit, _plate_or_none(plate) or own_plate


def pass_scan(
    actor: Actor,
    *,
    checkpoint: Checkpoint,
    code: str,
    direction: str,
    temperature: Any = None,
    plate: str = "",
    disinfected: bool | None = None,
    cargo: str = "",
    client_uuid: uuid_lib.UUID | str | None = None,
    now: dt.datetime | None = None,
) -> tuple[GateEvent, bool]:
    """Check a scanned pass online at ``checkpoint`` and record the scan with its verdict.

    The verifier decides the pass (signature, lists, zone, moving code, the holder's live
    status); the site's own rules (watch list, outsiders, fever) still apply on entry. A
    visitor pass is recorded with its visit (found by the pass id's hash), so those rules
    see the visitor's ID number and the outsiders ban. ``plate`` is a vehicle's plate typed
    at the gate (a driver's pass).
    """
    require_perm(actor, Perm.RECORD_GATE, checkpoint.site_path)
    verdict = pass_verdict(checkpoint, code, now=now)
    person, visitor, plate = scanned_holder(passes.pass_of(verdict), checkpoint.site_path, plate)
    decision = Decision(
        _VERDICT_OF_DETAIL.get(verdict.detail, verdict.reason),
        "" if verdict.ok else verdict.message,
    )
    # The visit itself must still stand: not cancelled, inside its window.
    if visitor is not None and verdict.ok and direction == Direction.IN:
        decision = _visitor_decision(visitor, now)
    return scan_record(
        actor,
        checkpoint=checkpoint,
        direction=direction,
        verdict_code=decision.verdict,
        reason_message=decision.reason,
        person=person,
        visitor=visitor,
        plate=plate,
        pass_id_hash=passes.pass_id_hash(verdict),
        temperature=temperature,
        disinfected=disinfected,
        cargo=cargo,
        client_uuid=client_uuid or uuid_lib.uuid4(),
        source=GateEvent.Source.SCAN,
    )


def pass_verdict(checkpoint: Checkpoint, code: str, *, now: dt.datetime | None = None) -> Any:
    """The verifier's verdict on a scanned code (a pass, or a phone's moving code)."""
    # Only a hand scanner's line ending is removed: a space is one of base45's characters.
    scanned = str(code or "").lstrip().rstrip("\r\n")
    try:
        text, proof = split_moving_code(scanned)
    except FormatError:
        text, proof = "", None  # an unreadable moving code is a malformed pass
    return verify_online(text, policy=gate_policy(checkpoint), now=now, proof=proof)


@transaction.atomic
def refusal_override(*, actor: Actor, event: GateEvent, reason: str) -> GateEvent:
    """A supervisor admits a refused entry, with a reason; audited."""
    require_perm(
        actor,
        Perm.OVERRIDE_GATE,
        event.site_path,
        seen_with=Perm.RECORD_GATE,
        message=_("Only the duty leader may override a refusal."),
    )
    event = GateEvent.objects.select_for_update().get(pk=event.pk)
    if event.admitted:
        raise Conflict(_("This entry was not refused."))
    reason = clean_cell(reason)
    if not reason:
        raise InvalidInput.at("reason", _("Say why the refusal is overridden."))
    before = snapshot(event)
    event.admitted = True
    event.overridden_by = acting_user(actor)
    event.overridden_at = timezone.now()
    event.override_reason = reason[:255]
    event.save(update_fields=["admitted", "overridden_by", "overridden_at", "override_reason"])
    _audit(actor, AuditLog.Action.UPDATE, event, event.site_path, before)
    return event


def restricted(event: GateEvent) -> bool:
    return event.verdict in RESTRICTED_VERDICTS


# ------------------------------------------------------------------ posts and rosters


def _post_fields(name: str, starts_at: Any, hours: Any, period_days: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {"name": clean_cell(name)}
    if not fields["name"] or len(fields["name"]) > 64:
        raise InvalidInput.at("name", _("The post's name is required."))
    if isinstance(starts_at, str):
        try:
            starts_at = dt.time.fromisoformat(starts_at) if starts_at else None
        except ValueError:
            raise InvalidInput.at("starts_at", _("Enter the shift's start as 07:30.")) from None
    fields["starts_at"] = starts_at or dt.time(7, 30)
    try:
        fields["hours"] = int(hours or 12)
        fields["period_days"] = int(period_days or 7)
    except (TypeError, ValueError):
        raise InvalidInput.at("hours", _("Enter whole numbers.")) from None
    if not 1 <= fields["hours"] <= 24:
        raise InvalidInput.at("hours", _("A shift lasts 1 to 24 hours."))
    if fields["period_days"] not in (7, 14):
        raise InvalidInput.at(
            "period_days", _("Guards rotate over a week (7) or a fortnight (14).")
        )
    return fields


@transaction.atomic
def post_create(
    *,
    actor: Actor,
    checkpoint: Checkpoint,
    name: str,
    starts_at: Any = None,
    hours: Any = 12,
    period_days: Any = 7,
    anchor: dt.date | None = None,
) -> Post:
    """Add a duty post at a checkpoint; shifts start at 07:30 unless told otherwise."""
    require_perm(actor, Perm.MANAGE_CHECKPOINTS, checkpoint.site_path)
    post = Post.objects.create(
        checkpoint=checkpoint,
        site_path=checkpoint.site_path,
        anchor=anchor or _monday(timezone.localdate()),
        **_post_fields(name, starts_at, hours, period_days),
    )
    _audit(actor, AuditLog.Action.CREATE, post, post.site_path)
    return post


def _monday(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def guards_of(site_path: str) -> QuerySet[User]:
    """Active users holding the guard role on the site, a unit above it or one inside it."""
    holders = RoleAssignment.objects.filter(
        Q(unit__path__in=ancestor_paths(site_path)) | subtree_q("unit__path", site_path),
        role=Role.GUARD,
        unit__valid_to__isnull=True,
    ).values("user_id")
    return User.objects.filter(pk__in=holders, is_active=True).order_by("display_name", "pk")


@transaction.atomic
def roster_set(
    *, actor: Actor, post: Post, assignments: dict[int, User | None], audit: bool = True
) -> Post:
    """Put guards on the days of a post's rotation (None leaves a day unstaffed)."""
    require_perm(actor, Perm.MANAGE_CHECKPOINTS, post.site_path)
    allowed = set(guards_of(post.site_path).values_list("pk", flat=True))
    before = {slot.day_index: slot.guard_id for slot in post.slots.all()}
    for day_index, guard in assignments.items():
        if not 0 <= day_index < post.period_days:
            raise InvalidInput.at("day_index", _("That day is not in the rotation."))
        if guard is not None and guard.pk not in allowed:
            raise InvalidInput.at(
                "guard",
                _("%(name)s holds no guard role at this site.") % {"name": guard},
            )
        if guard is None:
            RosterSlot.objects.filter(post=post, day_index=day_index).delete()
        else:
            RosterSlot.objects.update_or_create(
                post=post, day_index=day_index, defaults={"guard": guard}
            )
    if audit:
        after = {slot.day_index: slot.guard_id for slot in post.slots.all()}
        audit_record(
            actor=actor,
            action=AuditLog.Action.UPDATE,
            obj=post,
            scope_path=post.site_path,
            before={"roster": before},
            after={"roster": after},
        )
    return post
