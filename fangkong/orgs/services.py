"""Every write to the org tree and the people in it."""

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Concat, Substr
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.accounts.actors import Actor
from fangkong.accounts.roles import Perm
from fangkong.accounts.selectors import require_perm, scope_for
from fangkong.core.audit import audit_record, snapshot
from fangkong.core.errors import Conflict, InvalidInput, PermissionDenied
from fangkong.core.models import AuditLog
from fangkong.core.paths import child_path, is_within, subtree_q
from fangkong.core.pinyin import name_initials, name_pinyin
from fangkong.core.text import clean_cell

from . import signals
from .models import IdType, OrgUnit, Person, UnitKind
from .validators import identity_from_document, normalize_document, normalize_phone

# What the audit log leaves out of a person's snapshot: the numbers and what they carry.
NOT_AUDITED = ["id_number", "phone", "birth_date"]


def _clean_unit_fields(*, code: str, name: str, kind: str) -> tuple[str, str]:
    code, name = clean_cell(code).replace(" ", ""), clean_cell(name)
    errors: dict[str, list[str]] = {}
    if not code:
        errors["code"] = [_("The code is required.")]
    if not name:
        errors["name"] = [_("The name is required.")]
    if kind not in UnitKind.values:
        errors["kind"] = [_("Unknown unit kind.")]
    if errors:
        raise InvalidInput(detail=errors)
    return code, name


@transaction.atomic
def unit_create(
    *,
    actor: Actor,
    code: str,
    name: str,
    kind: str,
    parent: OrgUnit | None,
    valid_from: dt.date | None = None,
) -> OrgUnit:
    """Create a unit under ``parent`` (a root when None; only superusers add roots)."""
    code, name = _clean_unit_fields(code=code, name=name, kind=kind)
    if parent is None:
        if actor is not None and not actor.is_superuser:
            raise PermissionDenied()
    else:
        require_perm(actor, Perm.MANAGE_UNITS, parent.path)
        if not parent.is_open:
            raise Conflict(_("The parent unit is closed."))
    if OrgUnit.objects.filter(code=code).exists():
        raise InvalidInput(
            detail={"code": [_("The code %(code)s is already used.") % {"code": code}]}
        )
    unit = OrgUnit(
        code=code,
        name=name,
        kind=kind,
        parent=parent,
        name_initials=name_initials(name),
        name_pinyin=name_pinyin(name),
        valid_from=valid_from or timezone.localdate(),
        path=f"/new-{code}/",  # replaced once the id is known
        depth=(parent.depth + 1) if parent else 0,
    )
    unit.full_clean()
    unit.save()
    unit.path = child_path(parent.path if parent else "", unit.pk)
    unit.save(update_fields=["path"])
    audit_record(
        actor=actor,
        action=AuditLog.Action.CREATE,
        obj=unit,
        scope_path=unit.path,
        after=snapshot(unit),
    )
    return unit


@transaction.atomic
def unit_rename(*, actor: Actor, unit: OrgUnit, name: str) -> OrgUnit:
    """Change a unit's name (its code never changes)."""
    require_perm(actor, Perm.MANAGE_UNITS, unit.path)
    name = clean_cell(name)
    if not name:
        raise InvalidInput(detail={"name": [_("The name is required.")]})
    before = snapshot(unit)
    unit.name, unit.name_initials, unit.name_pinyin = name, name_initials(name), name_pinyin(name)
    unit.save(update_fields=["name", "name_initials", "name_pinyin", "updated_at"])
    audit_record(
        actor=actor,
        action=AuditLog.Action.UPDATE,
        obj=unit,
        scope_path=unit.path,
        before=before,
        after=snapshot(unit),
    )
    return unit


@transaction.atomic
def unit_move(*, actor: Actor, unit: OrgUnit, new_parent: OrgUnit) -> OrgUnit:
    """Move ``unit`` and its subtree under ``new_parent``; paths of units and people follow."""
    require_perm(actor, Perm.MANAGE_UNITS, unit.path)
    require_perm(actor, Perm.MANAGE_UNITS, new_parent.path)
    if is_within(new_parent.path, unit.path):
        raise Conflict(_("A unit cannot be moved under itself or its own sub-units."))
    if not new_parent.is_open:
        raise Conflict(_("The new parent unit is closed."))
    old_path, old_parent = unit.path, unit.parent
    new_path = child_path(new_parent.path, unit.pk)
    depth_change = new_parent.depth + 1 - unit.depth
    cut = len(old_path) + 1
    OrgUnit.objects.filter(subtree_q("path", old_path)).update(
        path=Concat(Value(new_path), Substr("path", cut)),
        depth=F("depth") + depth_change,
    )
    Person.objects.filter(subtree_q("unit_path", old_path)).update(
        unit_path=Concat(Value(new_path), Substr("unit_path", cut))
    )
    OrgUnit.objects.filter(pk=unit.pk).update(parent=new_parent)
    signals.subtree_moved.send(sender=OrgUnit, old_path=old_path, new_path=new_path)
    unit.refresh_from_db()
    audit_record(
        actor=actor,
        action=AuditLog.Action.MOVE,
        obj=unit,
        scope_path=new_path,
        before={"parent": old_parent.code if old_parent else None, "path": old_path},
        after={"parent": new_parent.code, "path": new_path},
    )
    return unit


@transaction.atomic
def unit_close(*, actor: Actor, unit: OrgUnit, on: dt.date | None = None) -> OrgUnit:
    """Close ``unit`` and its open sub-units from ``on``; their history stays.

    Refused while active people still belong to the subtree: move them first.
    """
    require_perm(actor, Perm.MANAGE_UNITS, unit.path)
    on = on or timezone.localdate()
    if on < unit.valid_from:
        raise InvalidInput(detail={"valid_to": [_("A unit cannot close before it opened.")]})
    remaining = Person.objects.filter(subtree_q("unit_path", unit.path), is_active=True).count()
    if remaining:
        raise Conflict(
            _("%(count)d people still belong to this unit or its sub-units; move them first.")
            % {"count": remaining}
        )
    OrgUnit.objects.filter(subtree_q("path", unit.path), valid_to__isnull=True).update(valid_to=on)
    unit.refresh_from_db()
    audit_record(
        actor=actor,
        action=AuditLog.Action.CLOSE,
        obj=unit,
        scope_path=unit.path,
        after={"valid_to": on.isoformat()},
    )
    return unit


def person_clean(
    *,
    name: str,
    id_type: str,
    id_number: str,
    phone: str,
    gender: str,
    category: str,
    birth_date: dt.date | None = None,
) -> dict[str, Any]:
    """Validate and normalise a person's fields; raise InvalidInput with every problem.

    Gender and date of birth are taken from a resident ID when left empty and must agree
    with it when given.
    """
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, Any] = {"name": clean_cell(name), "gender": gender, "category": category}
    cleaned["birth_date"] = birth_date
    if not cleaned["name"]:
        errors["name"] = [_("The name is required.")]
    if id_type not in IdType.values:
        errors["id_type"] = [_("Unknown document type.")]
    else:
        try:
            cleaned["id_number"] = normalize_document(id_type, id_number)
        except ValidationError as exc:
            errors["id_number"] = list(exc.messages)
    cleaned["id_type"] = id_type
    if "id_number" in cleaned:
        try:
            cleaned["gender"], cleaned["birth_date"] = identity_from_document(
                id_type, cleaned["id_number"], gender, birth_date
            )
        except ValidationError as exc:
            errors.update(exc.message_dict)
    try:
        cleaned["phone"] = normalize_phone(phone)
    except ValidationError as exc:
        errors["phone"] = list(exc.messages)
    if errors:
        raise InvalidInput(detail=errors)
    return cleaned


def document_registered(*, actor: Actor, id_type: str, id_number: str) -> bool:
    """Tell whether an active person with this document exists where the actor can see.

    A record outside the actor's scope is not revealed; the group's duplicate list finds it.
    """
    people = Person.objects.filter(id_type=id_type, id_number=id_number, is_active=True)
    if actor is not None:
        people = scope_for(actor, Perm.VIEW_PEOPLE).filter(people, "unit_path")
    return people.exists()


def _check_household(household: OrgUnit | None) -> None:
    if household is not None and household.kind != UnitKind.HOUSEHOLD:
        raise InvalidInput(detail={"household": [_("Choose a household unit.")]})


@transaction.atomic
def person_create(
    *,
    actor: Actor,
    unit: OrgUnit,
    name: str,
    id_number: str,
    id_type: str = IdType.RESIDENT_ID,
    phone: str = "",
    gender: str = "unknown",
    birth_date: dt.date | None = None,
    category: str = "employee",
    household: OrgUnit | None = None,
    is_party_member: bool = False,
    joined_on: dt.date | None = None,
) -> Person:
    """Register a person in ``unit``; refused when the same document is already active there."""
    require_perm(actor, Perm.MANAGE_PEOPLE, unit.path)
    cleaned = person_clean(
        name=name,
        id_type=id_type,
        id_number=id_number,
        phone=phone,
        gender=gender,
        category=category,
        birth_date=birth_date,
    )
    _check_household(household)
    if not unit.is_open:
        raise Conflict(_("The unit is closed."))
    if document_registered(actor=actor, id_type=cleaned["id_type"], id_number=cleaned["id_number"]):
        raise InvalidInput(detail={"id_number": [_("This document number is already registered.")]})
    person = Person(
        **cleaned,
        unit=unit,
        unit_path=unit.path,
        household=household,
        is_party_member=is_party_member,
        joined_on=joined_on,
        name_initials=name_initials(cleaned["name"]),
    )
    person.full_clean()
    person.save()
    audit_record(
        actor=actor,
        action=AuditLog.Action.CREATE,
        obj=person,
        scope_path=unit.path,
        after=snapshot(person, exclude=NOT_AUDITED),
    )
    return person


@transaction.atomic
def person_update(*, actor: Actor, person: Person, **changes: Any) -> Person:
    """Change a person's fields; moving to another unit needs rights on both units."""
    require_perm(actor, Perm.MANAGE_PEOPLE, person.unit_path)
    before = snapshot(person, exclude=NOT_AUDITED)
    old_path = person.unit_path
    new_unit = changes.pop("unit", None)
    fields = {
        "name": changes.get("name", person.name),
        "id_type": changes.get("id_type", person.id_type),
        "id_number": changes.get("id_number", person.id_number),
        "phone": changes.get("phone", person.phone),
        "gender": changes.get("gender", person.gender),
        "category": changes.get("category", person.category),
        "birth_date": changes.get("birth_date", person.birth_date),
    }
    document_changed = any(
        key in changes and changes[key] != getattr(person, key) for key in ("id_type", "id_number")
    )
    identity_changed = document_changed or bool({"gender", "birth_date"} & changes.keys())
    if document_changed:
        # A new number brings its own gender and date of birth unless they are given too.
        fields["gender"] = changes.get("gender", "unknown")
        fields["birth_date"] = changes.get("birth_date")
    elif not identity_changed:
        fields["gender"], fields["birth_date"] = "unknown", None
    cleaned = person_clean(**fields)
    if not identity_changed:
        # A record from before the check is not refused for a phone change: it keeps what
        # it says, and only what is empty is taken from the number.
        if person.gender != "unknown":
            cleaned["gender"] = person.gender
        cleaned["birth_date"] = person.birth_date or cleaned["birth_date"]
    for key, value in cleaned.items():
        setattr(person, key, value)
    person.name_initials = name_initials(person.name)
    for key in ("is_party_member", "joined_on"):
        if key in changes:
            setattr(person, key, changes[key])
    if "household" in changes:
        _check_household(changes["household"])
        person.household = changes["household"]
    if new_unit is not None and new_unit.pk != person.unit_id:
        require_perm(actor, Perm.MANAGE_PEOPLE, new_unit.path)
        if not new_unit.is_open:
            raise Conflict(_("The unit is closed."))
        person.unit, person.unit_path = new_unit, new_unit.path
    person.full_clean()
    person.save()
    if person.unit_path != old_path:
        signals.person_moved.send(sender=Person, person=person, old_path=old_path)
    audit_record(
        actor=actor,
        action=AuditLog.Action.UPDATE,
        obj=person,
        scope_path=person.unit_path,
        before=before,
        after=snapshot(person, exclude=NOT_AUDITED),
    )
    return person


@transaction.atomic
def person_merge(*, actor: Actor, survivor: Person, duplicate: Person) -> Person:
    """Merge ``duplicate`` into ``survivor``: the same document, one active record.

    The duplicate stays in the database, inactive and pointing at the survivor, so its
    history (and anything that refers to it) is kept. Empty fields of the survivor are
    filled from the duplicate.
    """
    for person in (survivor, duplicate):
        require_perm(actor, Perm.MANAGE_PEOPLE, person.unit_path)
    if survivor.pk == duplicate.pk:
        raise InvalidInput(_("Choose two different records."))
    if not (survivor.is_active and duplicate.is_active):
        raise Conflict(_("Only active records can be merged."))
    if (survivor.id_type, survivor.id_number) != (duplicate.id_type, duplicate.id_number):
        raise Conflict(_("Only records with the same document number can be merged."))
    before = {
        "survivor": snapshot(survivor, exclude=NOT_AUDITED),
        "duplicate": snapshot(duplicate, exclude=NOT_AUDITED),
    }
    survivor.phone = survivor.phone or duplicate.phone
    survivor.household = survivor.household or duplicate.household
    survivor.joined_on = survivor.joined_on or duplicate.joined_on
    survivor.is_party_member = survivor.is_party_member or duplicate.is_party_member
    if survivor.gender == "unknown":
        survivor.gender = duplicate.gender
    survivor.birth_date = survivor.birth_date or duplicate.birth_date
    survivor.save()
    duplicate.is_active = False
    duplicate.merged_into = survivor
    duplicate.save(update_fields=["is_active", "merged_into", "updated_at"])
    signals.person_merged.send(sender=Person, survivor=survivor, duplicate=duplicate)
    audit_record(
        actor=actor,
        action=AuditLog.Action.MERGE,
        obj=survivor,
        scope_path=survivor.unit_path,
        before=before,
        after={"survivor": survivor.pk, "merged": duplicate.pk},
    )
    return survivor
