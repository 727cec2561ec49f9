"""The back office's writes: the catalogue of services (add, edit, deactivate), where each is
offered, the Excel import of both, a staff member leaving, the jurisdiction profiles' clocks
and a new version of the tag set. Windows, staff assignment and badge codes are written by
``services`` (``window_create``, ``staff_assign``, ``badge_issue``/``badge_revoke``).

The import works as the roster import does: the upload is read and every row checked (a
preview of the services and offerings, or every bad row with its reason); the commit, signed
with the preview's rows, checks them again and writes them all in one transaction, or none.
Columns: 事项编码, 事项名称, 事项类别, and optionally 单位编码 (a centre or station) and
窗口号 (one of its windows).
"""

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.core import signing
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.accounts.actors import Actor, acting_user
from fangkong.accounts.roles import Perm
from fangkong.accounts.selectors import require_perm, scope_for
from fangkong.core.audit import audit_record
from fangkong.core.errors import InvalidInput
from fangkong.core.exports import xlsx_bytes
from fangkong.core.models import AuditLog
from fangkong.core.sheets import Columns, cell_of, read_table, read_upload, refuse_row_errors
from fangkong.core.text import clean_cell, clean_text, compact, forbidden_character_in

from . import services
from .models import Level, Offering, Profile, Service, Staff, TagSet, Window

MAX_ROWS = 5_000
SIGNING_SALT = "evaluation.catalogue-import"
MAX_TAGS = 12
MAX_TAG = 16
COLUMNS = Columns(
    fields={
        "code": ("事项编码", "编码", "code"),
        "name": ("事项名称", "名称", "name"),
        "category": ("事项类别", "类别", "category"),
        "unit_code": ("单位编码", "服务中心/站编码", "unit_code"),
        "window": ("窗口号", "窗口", "window"),
    },
    required=(("code",), ("name",)),
)
TEMPLATE_EXAMPLES = [
    ["SB001", "城乡居民养老保险参保登记", "社保", "ZBSC", ""],
    ["SB001", "城乡居民养老保险参保登记", "社保", "ZBSC-S01", "1"],
]


def _text(value: Any, field: str, limit: int, *, required: bool = False) -> str:
    text = clean_text(value)
    if required and not text:
        raise InvalidInput.at(field, _("This field is required."))
    if len(text) > limit:
        raise InvalidInput.at(field, _("At most %(n)d characters, please.") % {"n": limit})
    if forbidden_character_in(text):
        raise InvalidInput.at(field, _("The text contains a control character."))
    return text


def _audit(actor: Actor, action: str, obj: Any, after: Any, before: Any = None, path: str = ""):
    audit_record(
        actor=actor,
        action=action,
        obj=obj,
        object_repr=f"{obj._meta.model_name} #{obj.pk}",
        scope_path=path,
        before=before,
        after=after,
    )


# ------------------------------------------------------------------ services


@transaction.atomic
def service_save(
    *, actor: Actor, service: Service | None, code: str, name: str, category: str = ""
) -> Service:
    """Add a service to the catalogue, or edit one (its code stays unique)."""
    require_perm(actor, Perm.MANAGE_SERVICES)
    code = compact(_text(code, "code", 32, required=True)).upper()
    name = _text(name, "name", 100, required=True)
    category = _text(category, "category", 32)
    taken = Service.objects.filter(code=code)
    if service is not None:
        taken = taken.exclude(pk=service.pk)
    if taken.exists():
        raise InvalidInput.at("code", _("Another service has this code."))
    before = None
    if service is None:
        service = Service.objects.create(code=code, name=name, category=category)
        action = AuditLog.Action.CREATE
    else:
        before = {"code": service.code, "name": service.name, "category": service.category}
        service.code, service.name, service.category = code, name, category
        service.save(update_fields=["code", "name", "category", "updated_at"])
        action = AuditLog.Action.UPDATE
    _audit(actor, action, service, {"code": code, "name": name, "category": category}, before)
    return service


@transaction.atomic
def service_set_active(*, actor: Actor, service: Service, active: bool) -> Service:
    """Deactivate a service (no new cases; its ratings stay) or bring it back."""
    require_perm(actor, Perm.MANAGE_SERVICES)
    if service.is_active != active:
        service.is_active = active
        service.save(update_fields=["is_active", "updated_at"])
        _audit(actor, AuditLog.Action.UPDATE, service, {"active": active}, {"active": not active})
    return service


# ------------------------------------------------------------------ staff leaving


@transaction.atomic
def staff_leave(*, actor: Actor, staff: Staff) -> int:
    """A staff member leaves: no longer active, and every code of theirs is revoked."""
    require_perm(actor, Perm.MANAGE_SERVICES, staff.window.unit_path)
    revoked = services.staff_revoke_badges(actor=actor, staff=staff)
    if staff.is_active:
        staff.is_active = False
        staff.save(update_fields=["is_active", "updated_at"])
        _audit(
            actor,
            AuditLog.Action.UPDATE,
            staff,
            {"active": False, "badges_revoked": revoked},
            path=staff.window.unit_path,
        )
    return revoked


# ------------------------------------------------------------------ profiles and tags


def _number(value: Any, field: str, low: int, high: int) -> int:
    text = compact(value)
    if not text.isdigit() or not low <= int(text) <= high:
        raise InvalidInput.at(
            field, _("Enter a whole number from %(a)d to %(b)d.") % {"a": low, "b": high}
        )
    return int(text)


@transaction.atomic
def profile_update(
    *, actor: Actor, profile: Profile, callback_hours: Any, rectify_days: Any, follow_up_days: Any
) -> Profile:
    """Edit a jurisdiction profile's clocks (new bad reviews take them; open ones keep theirs)."""
    require_perm(actor, Perm.MANAGE_SERVICES)
    errors: dict[str, list[str]] = {}
    values: dict[str, int] = {}
    for field, value, low, high in (
        ("callback_hours", callback_hours, 1, 720),
        ("rectify_working_days", rectify_days, 1, 90),
        ("follow_up_days", follow_up_days, 1, 90),
    ):
        try:
            values[field] = _number(value, field, low, high)
        except InvalidInput as exc:
            errors.update(exc.detail)
    if errors:
        raise InvalidInput(detail=errors)
    before = {field: getattr(profile, field) for field in values}
    for field, value in values.items():
        setattr(profile, field, value)
    profile.save(update_fields=list(values))
    _audit(actor, AuditLog.Action.UPDATE, profile, values, before)
    return profile


def parse_tags(text: Any, field: str) -> list[str]:
    """Tags typed one per line (or separated by 、 or commas)."""
    raw = str(text or "").replace("、", "\n").replace(",", "\n").replace("，", "\n")
    tags = list(dict.fromkeys(clean_text(t) for t in raw.splitlines() if clean_text(t)))
    if len(tags) > MAX_TAGS:
        raise InvalidInput.at(field, _("At most %(n)d tags per level.") % {"n": MAX_TAGS})
    for tag in tags:
        if len(tag) > MAX_TAG or forbidden_character_in(tag):
            raise InvalidInput.at(field, _("A tag has at most %(n)d characters.") % {"n": MAX_TAG})
    return tags


@transaction.atomic
def tag_set_create(*, actor: Actor, tags_by_level: dict[str, Any]) -> TagSet:
    """Save the tags per level as a new version; old versions stay as the ratings gave them."""
    require_perm(actor, Perm.MANAGE_SERVICES)
    tags: dict[str, list[str]] = {}
    errors: dict[str, list[str]] = {}
    for level in Level.values:
        field = f"level_{level}"
        try:
            tags[str(level)] = parse_tags(tags_by_level.get(str(level), ""), field)
        except InvalidInput as exc:
            errors.update(exc.detail)
    if errors:
        raise InvalidInput(detail=errors)
    current = TagSet.objects.select_for_update().order_by("-version").first()
    if current is not None and current.tags == tags:
        raise InvalidInput(_("Nothing changed: the tags are those of the current version."))
    tag_set = TagSet.objects.create(
        version=(current.version + 1) if current else 1,
        tags=tags,
        created_by=acting_user(actor),
    )
    _audit(actor, AuditLog.Action.CREATE, tag_set, {"version": tag_set.version})
    return tag_set


# ------------------------------------------------------------------ the import


@dataclass(frozen=True)
class ImportRow:
    row: int
    code: str
    name: str
    category: str
    unit: Any  # OrgUnit | None
    window: Window | None
    new_service: bool
    renamed_from: str = ""  # an existing service's name this row changes (group-wide)


def template_workbook() -> bytes:
    return xlsx_bytes(COLUMNS.template_headers(), TEMPLATE_EXAMPLES, title="服务事项")


class _Lookup:
    def __init__(self, actor: Actor) -> None:
        from fangkong.orgs.models import OrgUnit

        from .selectors import SERVICE_UNIT_KINDS

        self.scope = scope_for(actor, Perm.MANAGE_SERVICES)
        self.units = {
            unit.code: unit
            for unit in self.scope.filter(
                OrgUnit.objects.filter(kind__in=SERVICE_UNIT_KINDS, valid_to__isnull=True), "path"
            )
        }
        self.services = {s.code: s for s in Service.objects.all()}
        self.windows = {
            (w.unit_id, w.number): w for w in self.scope.filter(Window.objects.all(), "unit_path")
        }


def _read_row(
    cells: list[Any], positions: dict[str, int], lookup: _Lookup, number: int
) -> tuple[ImportRow | None, list[tuple[str, str, str]]]:
    code = compact(clean_cell(cell_of(cells, positions, "code"))).upper()
    name = clean_cell(cell_of(cells, positions, "name"))
    category = clean_cell(cell_of(cells, positions, "category"))
    problems = []
    if not code or len(code) > 32:
        problems.append(("事项编码", code, _("A code of 1 to 32 characters is required.")))
    if not name or len(name) > 100:
        problems.append(("事项名称", name, _("A name of 1 to 100 characters is required.")))
    if len(category) > 32:
        problems.append(("事项类别", category, _("At most %(n)d characters, please.") % {"n": 32}))
    unit_code = compact(clean_cell(cell_of(cells, positions, "unit_code"))).upper()
    window_number = compact(clean_cell(cell_of(cells, positions, "window")))
    if window_number.endswith(".0"):  # a number cell
        window_number = window_number[:-2]
    unit = window = None
    if unit_code:
        unit = lookup.units.get(unit_code)
        if unit is None:
            message = _("No service centre or station you manage has this code.")
            problems.append(("单位编码", unit_code, message))
    elif window_number:
        problems.append(("单位编码", "", _("A window needs the code of its centre or station.")))
    if unit is not None and window_number:
        window = lookup.windows.get((unit.pk, window_number))
        if window is None:
            problems.append(
                ("窗口号", window_number, _("This centre or station has no such window."))
            )
    if problems:
        return None, problems
    existing = lookup.services.get(code)
    renamed_from = existing.name if existing is not None and existing.name != name else ""
    row = ImportRow(number, code, name, category, unit, window, existing is None, renamed_from)
    return row, []


def parse_rows(actor: Actor, path: Path) -> list[ImportRow]:
    """Read and check every row; raise InvalidInput listing every bad row."""
    table = read_table(path, COLUMNS)
    lookup = _Lookup(actor)
    found: list[ImportRow] = []
    errors: list[dict[str, Any]] = []
    names: dict[str, tuple[str, int]] = {}
    for read, row in enumerate(table.rows, start=1):
        if read > MAX_ROWS:
            raise InvalidInput(_("At most %(n)d rows per file.") % {"n": MAX_ROWS})
        if row.problem is not None:
            result = None
            problems = [(row.problem.column, row.problem.value, row.problem.message)]
        else:
            result, problems = _read_row(row.cells, table.positions, lookup, row.number)
        if result is not None and result.code in names and names[result.code][0] != result.name:
            message = _("Row %(row)d gives this code another name.") % {
                "row": names[result.code][1]
            }
            problems, result = [("事项名称", result.name, message)], None
        for column, value, message in problems:
            errors.append({"row": row.number, "column": column, "value": value, "message": message})
        if result is not None:
            names.setdefault(result.code, (result.name, row.number))
            found.append(result)
    refuse_row_errors(errors, found)
    return found


def import_preview(*, actor: Actor, upload: UploadedFile) -> tuple[list[ImportRow], str]:
    """Check an uploaded catalogue; return its rows and the token that commits them."""
    require_perm(actor, Perm.MANAGE_SERVICES)
    rows = read_upload(upload, lambda path: parse_rows(actor, path))
    signed = [
        (
            r.row,
            r.code,
            r.name,
            r.category,
            r.unit.pk if r.unit else None,
            r.window.pk if r.window else None,
        )
        for r in rows
    ]
    return rows, signing.dumps(signed, salt=SIGNING_SALT)


def _services_written(rows: list[Any]) -> tuple[dict[str, Service], dict[str, int]]:
    """Create the new services and rename the changed ones, in a few statements; a code's
    first row names it (the preview refused a code named two ways)."""
    firsts: dict[str, tuple[str, str]] = {}
    for _row, code, name, category, _unit, _window in rows:
        firsts.setdefault(code, (name, category))
    by_code = Service.objects.in_bulk(list(firsts), field_name="code")
    fresh = [
        Service(code=code, name=name, category=category)
        for code, (name, category) in firsts.items()
        if code not in by_code
    ]
    changed, now = [], timezone.now()
    for code, service in by_code.items():
        if (service.name, service.category) != firsts[code]:
            service.name, service.category = firsts[code]
            service.updated_at = now  # bulk_update does not touch auto_now fields
            changed.append(service)
    Service.objects.bulk_create(fresh)
    Service.objects.bulk_update(changed, ["name", "category", "updated_at"])
    by_code.update(Service.objects.in_bulk([s.code for s in fresh], field_name="code"))
    return by_code, {"services": len(fresh), "updated": len(changed)}


def _offerings_written(
    rows: list[Any], by_code: dict[str, Service], units: dict[Any, Any], windows: dict[Any, Any]
) -> int:
    """Add the offerings not there yet (one read, one INSERT); return how many."""
    wanted = {
        (by_code[code].pk, unit_id, window_id or None)
        for _row, code, _name, _category, unit_id, window_id in rows
        if unit_id
    }
    service_ids = {service_id for service_id, _unit, _window in wanted}
    there = set(
        Offering.objects.filter(service_id__in=service_ids).values_list(
            "service_id", "unit_id", "window_id"
        )
    )
    missing = sorted(wanted - there, key=lambda key: (key[0], key[1], key[2] or 0))
    Offering.objects.bulk_create(
        Offering(
            service_id=service_id,
            unit_id=unit_id,
            unit_path=units[unit_id].path,
            window=windows.get(window_id) if window_id else None,
        )
        for service_id, unit_id, window_id in missing
    )
    return len(missing)


@transaction.atomic
def import_commit(*, actor: Actor, token: str) -> dict[str, int]:
    """Write a previewed catalogue: every service and offering, or none."""
    from fangkong.orgs.models import OrgUnit

    require_perm(actor, Perm.MANAGE_SERVICES)
    try:
        rows = signing.loads(token, salt=SIGNING_SALT, max_age=3600)
    except signing.BadSignature:
        raise InvalidInput(_("The preview has expired; upload the file again.")) from None
    scope = scope_for(actor, Perm.MANAGE_SERVICES)
    units = OrgUnit.objects.in_bulk({row[4] for row in rows if row[4]})
    windows = Window.objects.in_bulk({row[5] for row in rows if row[5]})
    for _row, _code, _name, _category, unit_id, window_id in rows:
        unit = units.get(unit_id) if unit_id else None
        if unit_id and (unit is None or not scope.covers(unit.path)):
            raise InvalidInput(_("The units changed since the preview; upload the file again."))
        if window_id and window_id not in windows:
            raise InvalidInput(_("The units changed since the preview; upload the file again."))
    by_code, made = _services_written(rows)
    made["offerings"] = _offerings_written(rows, by_code, units, windows)
    audit_record(
        actor=actor,
        action=AuditLog.Action.IMPORT,
        object_type="evaluation.service",
        object_repr=f"service catalogue import ({len(rows)})",
        scope_paths=list(scope.paths),
        after=made,
    )
    return made
