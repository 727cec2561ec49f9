"""Excel and CSV import of org units and people: validate every row, then commit all or none.

A job goes pending → validating → preview (every bad row listed with its reason) →
committing → done. The commit re-validates (the database may have changed since the
preview) and writes inside one transaction, so a failure leaves nothing half-written.
"""

import datetime as dt
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import openpyxl
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import connection, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django_q.tasks import async_task

from fangkong.accounts.actors import Actor, acting_user
from fangkong.accounts.roles import Perm
from fangkong.accounts.selectors import scope_for
from fangkong.core.audit import audit_record
from fangkong.core.bulk import db_column, insert_fields, insert_target
from fangkong.core.errors import Conflict, InvalidInput, PermissionDenied
from fangkong.core.exports import xlsx_bytes
from fangkong.core.models import AuditLog
from fangkong.core.paths import subtree_q
from fangkong.core.pinyin import name_initials
from fangkong.core.sheets import Columns, Row, Table, read_table, visible
from fangkong.core.text import clean_cell, compact, parse_date

from .models import Gender, IdType, ImportJob, OrgUnit, Person, PersonCategory, UnitKind
from .services import unit_create
from .validators import identity_from_document, normalize_document, normalize_phone

MAX_ROWS = 300_000
PROGRESS_EVERY = 5_000
ALLOWED_SUFFIXES = {".xlsx", ".xls", ".ods", ".csv"}

# Column headers accepted for each field: the template's header first, then the synonyms
# real rosters use, then the English field name. Matching ignores case, spaces, "*" and
# notes in brackets ("手机号码（必填）").
UNIT_COLUMNS = Columns(
    fields={
        "code": ("编码", "单位编码", "单位代码", "代码", "code"),
        "name": ("名称", "单位名称", "name"),
        "kind": ("类型", "单位类型", "kind"),
        "parent_code": ("上级编码", "上级单位编码", "上级代码", "parent_code", "parent"),
        "valid_from": ("生效日期", "成立日期", "valid_from"),
    },
    required=(("code",), ("name",), ("kind",), ("parent_code",)),
)
PEOPLE_COLUMNS = Columns(
    fields={
        "name": ("姓名", "名字", "员工姓名", "人员姓名", "name"),
        "gender": ("性别", "gender"),
        "birth_date": ("出生日期", "出生年月日", "出生年月", "生日", "birth_date"),
        "id_type": ("证件类型", "id_type"),
        "id_number": (
            "证件号码",
            "身份证",
            "身份证号",
            "身份证号码",
            "公民身份号码",
            "证件号",
            "id_number",
        ),
        "phone": (
            "手机号码",
            "手机",
            "手机号",
            "联系电话",
            "电话",
            "电话号码",
            "移动电话",
            "联系方式",
            "phone",
        ),
        "category": ("人员类别", "类别", "人员类型", "category"),
        # A unit column holds a unit's code or, in most rosters, its name (see UnitIndex).
        "unit_code": (
            "所属单位编码",
            "单位编码",
            "部门编码",
            "所属单位",
            "所在单位",
            "单位",
            "所属部门",
            "所在部门",
            "部门",
            "unit_code",
        ),
        "household_code": ("住户编码", "household_code"),
        "party_member": ("是否党员", "党员", "party_member"),
        "joined_on": ("入职日期", "入职时间", "joined_on"),
    },
    required=(("name",), ("id_number",), ("unit_code",)),
)
TRUE_WORDS = {"是", "y", "yes", "true", "1", "党员", "中共党员"}
FALSE_WORDS = {"否", "n", "no", "false", "0", "", "群众"}


def columns_for(kind: str) -> Columns:
    """Return the columns of an import kind."""
    return UNIT_COLUMNS if kind == ImportJob.Kind.UNITS else PEOPLE_COLUMNS


def template_headers(kind: str) -> list[str]:
    """Return the Chinese headers of the import template."""
    return columns_for(kind).template_headers()


# ---------------------------------------------------------------- validating rows


@dataclass
class RowError:
    row: int
    column: str
    value: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "row": self.row,
            "column": self.column,
            "value": self.value,
            "message": self.message,
        }


@dataclass
class Validation:
    good: list[dict[str, Any]] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    rows_total: int = 0

    @property
    def bad_rows(self) -> set[int]:
        return {error.row for error in self.errors}

    def rows_to_check(self, table: Table, on_progress: Callable[[int], None]) -> Iterator[Row]:
        """Count every row read, reject those the reader could not read, yield the others.

        Each row read ends up either good or with at least one error, so the summary
        always adds up: rows read = imported + rejected.
        """
        for row in table.rows:
            self.rows_total += 1
            if self.rows_total > MAX_ROWS:
                raise InvalidInput(_("A file may hold at most %(n)d rows.") % {"n": MAX_ROWS})
            on_progress(self.rows_total)
            if row.problem is None:
                yield row
            else:
                problem = row.problem
                self.errors.append(
                    RowError(row.number, problem.column, problem.value, problem.message)
                )


def _choice(value: Any, choices: type, aliases: dict[str, str]) -> str | None:
    text = clean_cell(value).lower()
    if text in aliases:
        return aliases[text]
    for member in choices:  # type: ignore[attr-defined]
        if text in (member.value, str(member.label).lower()):
            return str(member.value)
    return None


_UNIT_KIND_ZH = {
    "集团": "group",
    "板块": "segment",
    "企业": "enterprise",
    "公司": "enterprise",
    "厂": "plant",
    "部门": "plant",
    "厂/部门": "plant",
    "车间": "workshop",
    "班组": "team",
    "社区": "community",
    "小区": "community",
    "楼栋": "building",
    "住户": "household",
    "服务中心": "service_centre",
    "服务站": "service_station",
    "窗口": "window",
    "卡口": "checkpoint",
    "隔离点": "quarantine_site",
}
_ID_TYPE_ZH = {
    "身份证": "resident_id",
    "居民身份证": "resident_id",
    "护照": "passport",
    "港澳居民来往内地通行证": "hk_macao_permit",
    "回乡证": "hk_macao_permit",
    "台湾居民来往大陆通行证": "taiwan_permit",
    "台胞证": "taiwan_permit",
    "其他": "other",
}
_GENDER_ZH = {"男": "male", "女": "female", "未知": "unknown"}
_CATEGORY_ZH = {
    "员工": "employee",
    "职工": "employee",
    "居民": "resident",
    "外包": "contractor",
    "承包商": "contractor",
    "外协": "contractor",
    "退休": "retiree",
    "退休人员": "retiree",
    "访客": "visitor",
    "来访人员": "visitor",
}


class RowChecker:
    """Collect the problems of one row, each with its Chinese reason."""

    def __init__(self, row: Row, table: Table) -> None:
        self.number, self.cells = row.number, row.cells
        self.positions, self.headers = table.positions, table.headers
        self.errors: list[RowError] = []

    def raw(self, key: str) -> Any:
        index = self.positions.get(key)
        if index is None or index >= len(self.cells):
            return None
        return self.cells[index]

    def fail(self, key: str, message: str) -> None:
        index = self.positions.get(key)
        column = self.headers[index] if index is not None else key
        self.errors.append(RowError(self.number, column, clean_cell(self.raw(key)), message))

    def required(self, key: str, value: str) -> str:
        if not value:
            self.fail(key, _("This cell is required but empty."))
        return value

    def date(self, key: str) -> dt.date | None:
        try:
            return parse_date(self.raw(key))
        except (ValueError, OverflowError):
            self.fail(key, _("Not a date; write it as 2020-02-15."))
            return None


def validate_units(job: ImportJob, table: Table, on_progress: Callable[[int], None]) -> Validation:
    """Check unit rows: codes unique, kinds known, parents known and inside the job's unit."""
    result = Validation()
    scope_q = subtree_q("path", job.scope_path)
    known = dict(OrgUnit.objects.filter(scope_q, valid_to__isnull=True).values_list("code", "path"))
    taken = set(OrgUnit.objects.values_list("code", flat=True))
    in_file: dict[str, int] = {}
    for row in result.rows_to_check(table, on_progress):
        number = row.number
        check = RowChecker(row, table)
        code = check.required("code", compact(check.raw("code")))
        name = check.required("name", clean_cell(check.raw("name")))
        kind = _choice(check.raw("kind"), UnitKind, _UNIT_KIND_ZH)
        if kind is None:
            check.fail("kind", _("Unknown unit kind."))
        parent_code = check.required("parent_code", compact(check.raw("parent_code")))
        valid_from = check.date("valid_from")
        if code and code in in_file:
            check.fail("code", _("The same code is on row %(row)d.") % {"row": in_file[code]})
        elif code in taken:
            check.fail("code", _("The code %(code)s is already used.") % {"code": code})
        if parent_code and parent_code not in known:
            check.fail(
                "parent_code", _("Unknown parent code, or a unit outside your import scope.")
            )
        if code:
            in_file.setdefault(code, number)
        if check.errors:
            result.errors.extend(check.errors)
        else:
            result.good.append(
                {
                    "row": number,
                    "code": code,
                    "name": name,
                    "kind": kind,
                    "parent_code": parent_code,
                    "valid_from": valid_from,
                }
            )
            known.setdefault(code, "")  # later rows may hang under this good one
    return result


def validate_people(job: ImportJob, table: Table, on_progress: Callable[[int], None]) -> Validation:
    """Check people rows: documents, phones, units, duplicates in the file and in scope."""
    result = Validation()
    units = UnitIndex(job.scope_path)
    visible = scope_for(job.created_by, Perm.VIEW_PEOPLE).filter(
        Person.objects.filter(is_active=True), "unit_path"
    )
    registered = set(visible.values_list("id_type", "id_number"))
    in_file: dict[tuple[str, str], int] = {}
    for row in result.rows_to_check(table, on_progress):
        check = RowChecker(row, table)
        person = _check_person_row(check, units)
        if person is not None:
            key = (person["id_type"], person["id_number"])
            if key in in_file:
                message = _("The same document number is on row %(row)d.") % {"row": in_file[key]}
                check.fail("id_number", message)
            elif key in registered:
                check.fail("id_number", _("This document number is already registered."))
            else:
                in_file[key] = row.number
                result.good.append(person)
        result.errors.extend(check.errors)
    return result


Unit = tuple[int, str, str]  # id, path, kind


class UnitIndex:
    """The open units of the import scope, found by code or, when unique, by name.

    Rosters name the department (部门) rather than giving its code; a name shared by
    several units in scope is refused so that nobody lands in the wrong one.
    """

    def __init__(self, scope_path: str) -> None:
        self.by_code: dict[str, Unit] = {}
        self.by_name: dict[str, list[Unit]] = {}
        units = OrgUnit.objects.filter(subtree_q("path", scope_path), valid_to__isnull=True)
        for code, name, pk, path, kind in units.values_list("code", "name", "id", "path", "kind"):
            self.by_code[code] = (pk, path, kind)
            self.by_name.setdefault(compact(name), []).append((pk, path, kind))

    def find(self, text: str) -> tuple[Unit | None, str]:
        """Return the unit a cell names, or None and the reason."""
        if text in self.by_code:
            return self.by_code[text], ""
        named = self.by_name.get(text, [])
        if len(named) == 1:
            return named[0], ""
        if named:
            return None, _("Several units in your import scope have this name; give the code.")
        return None, _("Unknown unit code, or a unit outside your import scope.")


def _check_person_row(check: RowChecker, units: UnitIndex) -> dict[str, Any] | None:
    name = check.required("name", clean_cell(check.raw("name")))
    id_type = (
        _choice(check.raw("id_type"), IdType, _ID_TYPE_ZH)
        if check.raw("id_type")
        else "resident_id"
    )
    if id_type is None:
        check.fail("id_type", _("Unknown document type."))
    id_number = check.required("id_number", compact(check.raw("id_number")))
    document_ok = False
    if id_number and id_type:
        try:
            id_number = normalize_document(id_type, id_number)
            document_ok = True
        except ValidationError as exc:
            check.fail("id_number", exc.messages[0])
    try:
        phone = normalize_phone(clean_cell(check.raw("phone")))
    except ValidationError as exc:
        check.fail("phone", exc.messages[0])
        phone = ""
    gender, birth_date = _gender_and_birth_date(check, id_type if document_ok else None, id_number)
    category = (
        _choice(check.raw("category"), PersonCategory, _CATEGORY_ZH)
        if clean_cell(check.raw("category"))
        else "employee"
    )
    if category is None:
        check.fail("category", _("Unknown person category."))
    unit: Unit | None = None
    unit_text = check.required("unit_code", compact(check.raw("unit_code")))
    if unit_text:
        unit, reason = units.find(unit_text)
        if unit is None:
            check.fail("unit_code", reason)
    household = None
    household_code = compact(check.raw("household_code"))
    if household_code:
        household = units.by_code.get(household_code)
        if household is None or household[2] != UnitKind.HOUSEHOLD:
            check.fail("household_code", _("Unknown household code."))
    party = clean_cell(check.raw("party_member")).lower()
    if party not in TRUE_WORDS | FALSE_WORDS:
        check.fail("party_member", _("Write 是 or 否."))
    joined_on = check.date("joined_on")
    if check.errors or unit is None:
        return None
    return {
        "row": check.number,
        "name": name,
        "id_type": id_type,
        "id_number": id_number,
        "phone": phone,
        "gender": gender,
        "birth_date": birth_date,
        "category": category,
        "unit_id": unit[0],
        "unit_path": unit[1],
        "household_id": household[0] if household else None,
        "is_party_member": party in TRUE_WORDS,
        "joined_on": joined_on,
    }


def _gender_and_birth_date(
    check: RowChecker, id_type: str | None, id_number: str
) -> tuple[str, dt.date | None]:
    """Read both cells; a resident ID fills them when empty and refuses them when different."""
    errors_before = len(check.errors)
    gender = "unknown"
    text = clean_cell(check.raw("gender"))
    if text:
        value = _choice(text, Gender, _GENDER_ZH)
        if value is None:
            check.fail("gender", _("Write 男 or 女."))
        else:
            gender = value
    birth_date = check.date("birth_date")
    if len(check.errors) > errors_before or not id_type:
        return gender, birth_date
    try:
        return identity_from_document(id_type, id_number, gender, birth_date)
    except ValidationError as exc:
        for key, messages in exc.message_dict.items():
            check.fail(key, messages[0])
        return gender, birth_date


# ---------------------------------------------------------------- jobs


@transaction.atomic
def import_job_create(
    *,
    actor: Actor,
    kind: str,
    scope_unit: OrgUnit,
    upload: UploadedFile,
    skip_bad_rows: bool = False,
) -> ImportJob:
    """Store an upload and queue its validation."""
    if kind not in ImportJob.Kind.values:
        raise InvalidInput(detail={"kind": [kind]})
    uploader = acting_user(actor)  # a job belongs to the person who uploaded it
    if uploader is None or not scope_for(uploader, Perm.IMPORT).covers(scope_unit.path):
        raise PermissionDenied(_("You may not import into this unit."))
    name = Path(upload.name or "upload").name
    if Path(name).suffix.lower() not in ALLOWED_SUFFIXES:
        raise InvalidInput(_("Upload an Excel (.xlsx, .xls), .ods or .csv file."))
    job = ImportJob.objects.create(
        kind=kind,
        created_by=uploader,
        scope_unit=scope_unit,
        scope_path=scope_unit.path,
        file=upload,
        original_name=name,
        skip_bad_rows=skip_bad_rows,
        language=translation.get_language() or "zh-hans",
    )
    audit_record(
        actor=actor,
        action=AuditLog.Action.IMPORT,
        obj=job,
        scope_path=job.scope_path,
        after={"file": name, "kind": kind, "step": "upload"},
    )
    transaction.on_commit(lambda: _enqueue("validate_import", job.pk))
    return job


def _enqueue(task: str, job_id: int) -> None:
    """Queue one of the jobs in tasks.py by name (tasks.py imports this module)."""
    async_task(f"fangkong.orgs.tasks.{task}", job_id, task_name=f"import-{task}-{job_id}")


def _progress_saver(job: ImportJob) -> Callable[[int], None]:
    def save(done: int) -> None:
        if done % PROGRESS_EVERY == 0:
            ImportJob.objects.filter(pk=job.pk).update(rows_done=done)

    return save


def _validate(job: ImportJob) -> tuple[Table, Validation]:
    table = read_table(Path(job.file.path), columns_for(job.kind))
    validator = validate_units if job.kind == ImportJob.Kind.UNITS else validate_people
    return table, validator(job, table, _progress_saver(job))


def import_job_crashed(job: ImportJob) -> ImportJob:
    """Mark a job whose worker raised: the transaction rolled back, nothing was written."""
    with translation.override(job.language):
        return _fail(job, _("An internal error stopped this import; nothing was written."))


def _fail(job: ImportJob, message: str) -> ImportJob:
    job.status, job.message = ImportJob.Status.FAILED, message
    job.save(update_fields=["status", "message", "updated_at"])
    return job


def import_job_validate(job: ImportJob) -> ImportJob:
    """Check every row and store the bad ones with their reasons (the preview)."""
    with translation.override(job.language):
        ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.VALIDATING)
        try:
            table, result = _validate(job)
        except InvalidInput as exc:
            return _fail(job, str(exc.message))
        if result.rows_total == 0:
            return _fail(job, _("The file has no data rows."))
        job.header_row, job.ignored_columns = table.header_row, table.ignored
        job.rows_total = job.rows_done = result.rows_total
        job.rows_bad = len(result.bad_rows)
        job.errors = [error.as_dict() for error in result.errors]
        job.status = ImportJob.Status.PREVIEW
        job.message = ""
        job.save()
        return job


def import_job_commit(
    *, actor: Actor, job: ImportJob, skip_bad_rows: bool | None = None
) -> ImportJob:
    """Ask for a previewed job to be written; refused while bad rows remain (unless skipped)."""
    if job.status != ImportJob.Status.PREVIEW:
        raise Conflict(_("This import is not waiting for a commit."))
    if skip_bad_rows is not None:
        job.skip_bad_rows = skip_bad_rows
    if job.rows_bad and not job.skip_bad_rows:
        raise Conflict(
            _(
                "Fix the rejected rows and upload the file again, or choose to import "
                "the valid rows only."
            )
        )
    if job.rows_bad == job.rows_total:
        raise Conflict(_("No row of this file is valid."))
    updated = ImportJob.objects.filter(pk=job.pk, status=ImportJob.Status.PREVIEW).update(
        status=ImportJob.Status.COMMITTING, skip_bad_rows=job.skip_bad_rows, rows_done=0
    )
    if not updated:  # a second click, or another tab, got there first
        raise Conflict(_("This import is not waiting for a commit."))
    job.refresh_from_db()
    audit_record(
        actor=actor,
        action=AuditLog.Action.IMPORT,
        obj=job,
        scope_path=job.scope_path,
        after={"step": "commit", "rows": job.rows_total - job.rows_bad},
    )
    _enqueue("commit_import", job.pk)
    job.refresh_from_db()
    return job


def import_job_write(job: ImportJob) -> ImportJob:
    """Re-validate and write the rows of a job in one transaction (run by the queue)."""
    with translation.override(job.language):
        try:
            _table, result = _validate(job)
        except InvalidInput as exc:
            return _fail(job, str(exc.message))
        if result.errors and not job.skip_bad_rows:
            job.errors = [error.as_dict() for error in result.errors]
            job.rows_bad = len(result.bad_rows)
            job.status = ImportJob.Status.PREVIEW
            job.message = _("The data changed since the preview; check the rejected rows again.")
            job.save()
            return job
        with transaction.atomic():
            if job.kind == ImportJob.Kind.UNITS:
                _write_units(job.created_by, result.good)
            else:
                _write_people(result.good)
            job.rows_imported = len(result.good)
            job.rows_bad = len(result.bad_rows)
            job.errors = [error.as_dict() for error in result.errors]
            job.rows_done = job.rows_total
            job.status = ImportJob.Status.DONE
            job.save()
            audit_record(
                actor=job.created_by,
                action=AuditLog.Action.IMPORT,
                obj=job,
                scope_path=job.scope_path,
                after={"step": "done", "imported": job.rows_imported},
            )
        return job


def _write_units(actor: Actor, rows: list[dict[str, Any]]) -> None:
    """Create the units through the unit service, in file order (parents come first)."""
    by_code = {u.code: u for u in OrgUnit.objects.filter(code__in={r["parent_code"] for r in rows})}
    for row in rows:
        unit = unit_create(
            actor=actor,
            code=row["code"],
            name=row["name"],
            kind=row["kind"],
            parent=by_code[row["parent_code"]],
            valid_from=row["valid_from"],
        )
        by_code[unit.code] = unit


def _write_people(rows: list[dict[str, Any]], *, batch: int = 2000) -> None:
    """Insert the people: COPY on PostgreSQL, one prepared INSERT run per row elsewhere.

    ``bulk_create`` spent most of a large import building model instances and SQL text.
    Here the values are prepared column by column by their model fields
    (``core.bulk.db_column``), the timestamps are the time of the import and the columns
    an import does not set take their defaults.
    """
    fields = insert_fields(Person)
    target = insert_target(Person, fields, connection)
    batches = _people_batches(rows, fields, batch)
    with connection.cursor() as cursor:
        raw = cursor.cursor
        if connection.vendor == "postgresql" and hasattr(raw, "copy"):  # psycopg 3
            with raw.copy(f"COPY {target} FROM STDIN") as copy:
                for values in batches:
                    for row in values:
                        copy.write_row(row)
            return
        placeholders = ", ".join(["%s"] * len(fields))
        sql = f"INSERT INTO {target} VALUES ({placeholders})"  # noqa: S608
        for values in batches:
            cursor.executemany(sql, values)


def _people_batches(
    rows: list[dict[str, Any]], fields: list[Any], batch: int
) -> Iterator[list[tuple[Any, ...]]]:
    """Yield the rows as tuples of database values in ``fields`` order, ``batch`` at a time."""
    now = timezone.now()
    for start in range(0, len(rows), batch):
        people = [_person_columns(row) for row in rows[start : start + batch]]
        columns = [_prepared_column(field, people, now) for field in fields]
        yield list(zip(*columns, strict=True))


def _prepared_column(field: Any, people: list[dict[str, Any]], now: dt.datetime) -> list[Any]:
    """Return one column of a batch of people as database values; unset columns by default."""
    if field.attname not in people[0]:
        auto = getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)
        [value] = db_column(field, [now if auto else field.get_default()], connection)
        return [value] * len(people)
    return db_column(field, [person[field.attname] for person in people], connection)


def _person_columns(row: dict[str, Any]) -> dict[str, Any]:
    """Return the Person attribute values an import row sets."""
    return {
        "name": row["name"],
        "name_initials": name_initials(row["name"]),
        "gender": row["gender"],
        "birth_date": row["birth_date"],
        "id_type": row["id_type"],
        "id_number": row["id_number"],
        "phone": row["phone"],
        "category": row["category"],
        "unit_id": row["unit_id"],
        "unit_path": row["unit_path"],
        "household_id": row["household_id"],
        "is_party_member": row["is_party_member"],
        "joined_on": row["joined_on"],
    }


def rejected_rows_workbook(job: ImportJob) -> bytes:
    """Return an .xlsx of the rejected rows as uploaded, with their row numbers and reasons.

    Written by the export helper, so a cell that would start a formula stays text.
    """
    reasons: dict[int, list[str]] = {}
    for error in job.errors:
        where = f"{error['column']}：" if error["column"] else ""
        reasons.setdefault(error["row"], []).append(where + error["message"])
    table = read_table(Path(job.file.path), columns_for(job.kind))
    width = len(table.headers)

    def rejected() -> Iterator[list[Any]]:
        for row in table.rows:
            if row.number in reasons:
                padded = [*row.cells, *[None] * (width - len(row.cells))][:width]
                cells = [visible(cell) if isinstance(cell, str) else cell for cell in padded]
                yield [*cells, row.number, "；".join(reasons[row.number])]

    headers = [*table.headers, _("Row"), _("Reason")]
    return xlsx_bytes(headers, rejected(), title=_("Rejected rows"))


def template_workbook(kind: str) -> bytes:
    """Return an empty import template with the Chinese headers and one example row."""
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(template_headers(kind))
    if kind == ImportJob.Kind.PEOPLE:
        sheet.append(
            [
                "张三",
                "男",  # the number's 17th digit is odd: a man's, born on 1949-12-31
                "1949-12-31",
                "身份证",
                "110105194912310011",
                "13800138000",
                "员工",
                "UNIT-CODE",
                "",
                "否",
                "2020-02-15",
            ]
        )
    else:
        sheet.append(["NEW-001", "新车间", "车间", "PARENT-CODE", "2020-02-15"])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
