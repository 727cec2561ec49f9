"""Excel and CSV import of org units and people: validate every row, then commit all or none.

A job goes pending → validating → preview (every bad row listed with its reason) →
committing → done. The commit re-validates (the database may have changed since the
preview) and writes inside one transaction, so a failure leaves nothing half-written.
"""

import csv
import datetime as dt
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any
from xml.parsers import expat
from zipfile import ZipFile

import openpyxl
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django_q.tasks import async_task
from openpyxl.reader.excel import ExcelReader
from openpyxl.styles.stylesheet import apply_stylesheet
from openpyxl.utils.cell import column_index_from_string, range_boundaries
from openpyxl.utils.datetime import from_excel, from_ISO8601
from openpyxl.xml.constants import SHARED_STRINGS, SHEET_MAIN_NS

from fangkong.accounts.roles import Perm
from fangkong.accounts.selectors import scope_for
from fangkong.core.audit import audit_record
from fangkong.core.errors import Conflict, InvalidInput
from fangkong.core.models import AuditLog
from fangkong.core.paths import child_path, subtree_q
from fangkong.core.text import clean_cell, compact, parse_date

from .models import Gender, IdType, ImportJob, OrgUnit, Person, PersonCategory, UnitKind
from .pinyin import name_initials, name_pinyin
from .validators import normalize_document, normalize_phone

MAX_ROWS = 300_000
PROGRESS_EVERY = 5_000
ALLOWED_SUFFIXES = {".xlsx", ".csv"}

# Column headers accepted for each field: Chinese first, English second.
UNIT_COLUMNS = {
    "code": ("编码", "单位编码", "code"),
    "name": ("名称", "单位名称", "name"),
    "kind": ("类型", "单位类型", "kind"),
    "parent_code": ("上级编码", "上级单位编码", "parent_code", "parent"),
    "valid_from": ("生效日期", "成立日期", "valid_from"),
}
PEOPLE_COLUMNS = {
    "name": ("姓名", "name"),
    "gender": ("性别", "gender"),
    "id_type": ("证件类型", "id_type"),
    "id_number": ("证件号码", "身份证号", "身份证号码", "id_number"),
    "phone": ("手机号码", "手机号", "联系电话", "phone"),
    "category": ("人员类别", "类别", "category"),
    "unit_code": ("所属单位编码", "单位编码", "unit_code"),
    "household_code": ("住户编码", "household_code"),
    "party_member": ("是否党员", "党员", "party_member"),
    "joined_on": ("入职日期", "joined_on"),
}
REQUIRED: dict[str, tuple[str, ...]] = {
    ImportJob.Kind.UNITS: ("code", "name", "kind", "parent_code"),
    ImportJob.Kind.PEOPLE: ("name", "id_number", "unit_code"),
}
TRUE_WORDS = {"是", "y", "yes", "true", "1", "党员", "中共党员"}
FALSE_WORDS = {"否", "n", "no", "false", "0", "", "群众"}


def columns_for(kind: str) -> dict[str, tuple[str, ...]]:
    """Return the accepted headers per field for an import kind."""
    return UNIT_COLUMNS if kind == ImportJob.Kind.UNITS else PEOPLE_COLUMNS


def template_headers(kind: str) -> list[str]:
    """Return the Chinese headers of the import template."""
    return [aliases[0] for aliases in columns_for(kind).values()]


# ---------------------------------------------------------------- reading files


@dataclass
class SourceTable:
    headers: list[str]
    rows: Iterator[tuple[int, list[Any]]]  # (row number as the user sees it, raw cells)


def read_table(path: Path) -> SourceTable:
    """Open an .xlsx or .csv file and return its header and an iterator over its rows."""
    if path.suffix.lower() == ".csv":
        return _read_csv(path)
    return _read_xlsx(path)


def _read_xlsx(path: Path) -> SourceTable:
    try:
        rows, archive = _xlsx_first_sheet_rows(path)
        header = next(rows, None) or ()
    except Exception as exc:  # openpyxl and expat raise many kinds for a broken file
        raise InvalidInput(_("The file is not a readable Excel (.xlsx) workbook.")) from exc

    def body() -> Iterator[tuple[int, list[Any]]]:
        for number, row in enumerate(rows, start=2):
            if any(cell not in (None, "") for cell in row):
                yield number, list(row)
        archive.close()

    return SourceTable([clean_cell(h) for h in header], body())


# Reading .xlsx: openpyxl reads the workbook's parts (sheet list, styles); the cells of the
# first sheet and the shared strings are streamed with expat, which is several times faster
# than openpyxl's read-only mode and gives the same values as its iter_rows(values_only=True).
_XLSX_CHUNK = 1 << 20
_ROW, _CELL, _VALUE, _INLINE, _TEXT, _PHONETIC, _SHARED, _DIMENSION, _SHEET_DATA = (
    f"{SHEET_MAIN_NS} {tag}"
    for tag in ("row", "c", "v", "is", "t", "rPh", "si", "dimension", "sheetData")
)
_COLUMN_INDEX: dict[str, int] = {}
_Cells = list[tuple[int, Any]]


def _xlsx_first_sheet_rows(path: Path) -> tuple[Iterator[tuple[Any, ...]], ZipFile]:
    """Return the rows of the first worksheet, as openpyxl's read-only mode gives them."""
    reader = ExcelReader(str(path), read_only=True, data_only=True)
    reader.read_manifest()
    reader.read_workbook()
    apply_stylesheet(reader.archive, reader.wb)
    strings: list[str] = []
    part = reader.package.find(SHARED_STRINGS)
    if part is not None:
        with reader.archive.open(part.PartName[1:]) as source:
            strings = _xlsx_shared_strings(source)
    first = next(
        rel.target
        for _sheet, rel in reader.parser.find_sheets()
        if rel.target in reader.valid_files and "chartsheet" not in rel.Type
    )
    book = reader.wb
    dimension: dict[str, tuple[Any, ...]] = {}
    cells = _xlsx_sheet_cells(reader.archive.open(first), strings, book, dimension)
    return _xlsx_rows(cells, dimension), reader.archive


def _expat_parser(
    start: Callable[..., None], end: Callable[[str], None], text: Callable[[str], None]
) -> Any:
    parser = expat.ParserCreate(namespace_separator=" ")
    parser.buffer_text = True
    parser.StartElementHandler, parser.EndElementHandler = start, end
    parser.CharacterDataHandler = text
    return parser


def _xlsx_shared_strings(source: IO[bytes]) -> list[str]:
    """Return the shared-string table: each item's text and rich runs, without phonetics."""
    strings: list[str] = []
    parts: list[str] = []
    collect, phonetic = False, 0

    def start(name: str, attrs: dict[str, str]) -> None:
        nonlocal collect, phonetic
        if name == _TEXT:
            collect = not phonetic
        elif name == _SHARED:
            parts.clear()
        elif name == _PHONETIC:
            phonetic += 1

    def end(name: str) -> None:
        nonlocal collect, phonetic
        if name == _TEXT:
            collect = False
        elif name == _SHARED:
            strings.append("".join(parts).replace("x005F_", ""))
        elif name == _PHONETIC:
            phonetic -= 1

    def text(data: str) -> None:
        if collect:
            parts.append(data)

    _expat_parser(start, end, text).ParseFile(source)
    return strings


def _xlsx_sheet_cells(
    source: IO[bytes], strings: list[str], book: Any, dimension: dict[str, tuple[Any, ...]]
) -> Iterator[tuple[int, _Cells]]:
    """Stream (row number, [(column, value), ...]) from a worksheet's XML, in file order.

    Cell values follow openpyxl's WorkSheetParser with data_only: cached formula results,
    shared and inline strings, numbers, dates by cell style, booleans, errors as text.
    The sheet's <dimension>, when present, is stored in ``dimension["ref"]``.
    """
    done: list[tuple[int, _Cells]] = []
    row_number = column = phonetic = sink = 0
    cells: _Cells = []
    attrs: dict[str, str] = {}
    value: str | None = None
    inline: str | None = None
    data_seen = False

    def start(name: str, new_attrs: dict[str, str]) -> None:
        nonlocal attrs, value, inline, sink, phonetic
        if name == _CELL:
            attrs, value, inline = new_attrs, None, None
        elif name == _VALUE:
            sink = 1
        elif name == _TEXT:
            sink = 2 if inline is not None and not phonetic else 0
        elif name == _INLINE:
            inline = ""
        elif name == _ROW:
            start_row(new_attrs)
        elif name == _PHONETIC:
            phonetic += 1
        elif name == _DIMENSION and not data_seen:
            dimension["ref"] = range_boundaries(new_attrs["ref"])

    def end(name: str) -> None:
        nonlocal sink, phonetic, data_seen
        if name == _CELL:
            end_cell()
        elif name in (_VALUE, _TEXT):
            sink = 0
        elif name == _ROW:
            done.append((row_number, cells))
        elif name == _PHONETIC:
            phonetic -= 1
        elif name == _SHEET_DATA:
            data_seen = True

    def text(data: str) -> None:
        nonlocal value, inline
        if sink == 1:
            value = data if value is None else value + data
        elif sink == 2:
            inline = f"{inline}{data}"

    def start_row(row_attrs: dict[str, str]) -> None:
        nonlocal row_number, column, cells
        number = row_attrs.get("r")
        if number is None:
            row_number += 1
        elif number.isdigit():
            row_number = int(number)
        else:
            as_float = float(number)
            if not as_float.is_integer():
                raise ValueError(f"{number} is not a valid row number")
            row_number = int(as_float)
        column, cells = 0, []

    def end_cell() -> None:
        nonlocal column
        reference = attrs.get("r")
        column = _xlsx_column(reference) if reference else column + 1
        kind = attrs.get("t", "n")
        if kind == "inlineStr":
            cells.append((column, inline))
        elif not value:
            cells.append((column, None))
        elif kind == "s":
            cells.append((column, strings[int(value)]))
        else:
            cells.append((column, _xlsx_value(kind, value, attrs, book)))

    parser = _expat_parser(start, end, text)
    with source:
        while chunk := source.read(_XLSX_CHUNK):
            parser.Parse(chunk, False)
            yield from done
            done.clear()
        parser.Parse(b"", True)
        yield from done


def _xlsx_column(reference: str) -> int:
    """Return the column index of a cell reference such as "AB12" (memoised)."""
    letters = reference.rstrip("0123456789")
    index = _COLUMN_INDEX.get(letters)
    if index is None:
        index = _COLUMN_INDEX[letters] = column_index_from_string(letters)
    return index


def _xlsx_value(kind: str, text: str, attrs: dict[str, str], book: Any) -> Any:
    """Convert a non-empty <v> of a cell of type ``kind`` (not a shared string)."""
    if kind == "n":
        number: Any = float(text) if "." in text or "E" in text or "e" in text else int(text)
        style: Any = attrs.get("s", 0)
        style = int(style) if style else style
        if style not in book._date_formats:
            return number
        try:
            return from_excel(number, book.epoch, timedelta=style in book._timedelta_formats)
        except (OverflowError, ValueError):
            return "#VALUE!"  # openpyxl treats an out-of-range date as an error cell
    if kind == "b":
        return bool(int(text))
    if kind == "d":
        return from_ISO8601(text)
    return text  # "str" (formula text), "e" (error such as #N/A) and unknown kinds


def _xlsx_rows(
    parsed: Iterator[tuple[int, _Cells]], dimension: dict[str, tuple[Any, ...]]
) -> Iterator[tuple[Any, ...]]:
    """Yield rows as openpyxl's read-only iter_rows(values_only=True) does.

    Missing rows come out empty; rows are as wide as the sheet's <dimension> (cells past it
    are dropped, rows past it are not read) or, without one, as their last cell.
    """
    counter = index = 1
    max_col = max_row = None
    empty: tuple[Any, ...] = ()
    for index, cells in parsed:
        if counter == 1 and "ref" in dimension:
            max_col, max_row = dimension["ref"][2], dimension["ref"][3]
            empty = (None,) * max_col if max_col else ()
        if max_row is not None and index > max_row:
            break
        for _gap in range(counter, index):
            counter += 1
            yield empty
        if counter <= index:
            counter += 1
            yield _xlsx_row_values(cells, max_col)
    if max_row is not None and max_row < index:
        for _gap in range(counter, max_row + 1):
            yield empty


def _xlsx_row_values(cells: _Cells, width: int | None) -> tuple[Any, ...]:
    if not cells and not width:
        return ()
    width = width or cells[-1][0]
    values: list[Any] = [None] * width
    for column, value in cells:
        if 1 <= column <= width:
            values[column - 1] = value
    return tuple(values)


def _read_csv(path: Path) -> SourceTable:
    raw = path.read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise InvalidInput(_("The CSV file is neither UTF-8 nor GB18030 encoded."))
    reader = csv.reader(io.StringIO(text))
    header = next(reader, [])

    def body() -> Iterator[tuple[int, list[Any]]]:
        for number, row in enumerate(reader, start=2):
            if any(cell.strip() for cell in row):
                yield number, row

    return SourceTable([clean_cell(h) for h in header], body())


def map_headers(kind: str, headers: list[str]) -> dict[str, int]:
    """Return field → column index; raise InvalidInput naming the missing columns."""
    positions: dict[str, int] = {}
    lowered = [h.lower() for h in headers]
    for key, aliases in columns_for(kind).items():
        for alias in aliases:
            if alias.lower() in lowered:
                positions[key] = lowered.index(alias.lower())
                break
    missing = [columns_for(kind)[key][0] for key in REQUIRED[kind] if key not in positions]
    if missing:
        raise InvalidInput(
            _("The file lacks the required columns: %(columns)s.") % {"columns": "、".join(missing)}
        )
    return positions


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


class _RowChecker:
    """Collect the problems of one row, each with its Chinese reason."""

    def __init__(
        self, number: int, cells: list[Any], positions: dict[str, int], headers: list[str]
    ) -> None:
        self.number, self.cells, self.positions, self.headers = number, cells, positions, headers
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


def validate_units(
    job: ImportJob,
    table: SourceTable,
    positions: dict[str, int],
    on_progress: Callable[[int], None],
) -> Validation:
    """Check unit rows: codes unique, kinds known, parents known and inside the job's unit."""
    result = Validation()
    scope_q = subtree_q("path", job.scope_path)
    known = dict(OrgUnit.objects.filter(scope_q, valid_to__isnull=True).values_list("code", "path"))
    taken = set(OrgUnit.objects.values_list("code", flat=True))
    in_file: dict[str, int] = {}
    for number, cells in table.rows:
        result.rows_total += 1
        check = _RowChecker(number, cells, positions, table.headers)
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
        on_progress(result.rows_total)
    return result


def validate_people(
    job: ImportJob,
    table: SourceTable,
    positions: dict[str, int],
    on_progress: Callable[[int], None],
) -> Validation:
    """Check people rows: documents, phones, units, duplicates in the file and in scope."""
    result = Validation()
    units = {
        code: (pk, path, kind)
        for code, pk, path, kind in OrgUnit.objects.filter(
            subtree_q("path", job.scope_path), valid_to__isnull=True
        ).values_list("code", "id", "path", "kind")
    }
    visible = scope_for(job.created_by, Perm.VIEW_PEOPLE).filter(
        Person.objects.filter(is_active=True), "unit_path"
    )
    registered = set(visible.values_list("id_type", "id_number"))
    in_file: dict[tuple[str, str], int] = {}
    for number, cells in table.rows:
        result.rows_total += 1
        if result.rows_total > MAX_ROWS:
            raise InvalidInput(_("A file may hold at most %(n)d rows.") % {"n": MAX_ROWS})
        check = _RowChecker(number, cells, positions, table.headers)
        row = _check_person_row(check, units)
        if row is not None:
            key = (row["id_type"], row["id_number"])
            if key in in_file:
                message = _("The same document number is on row %(row)d.") % {"row": in_file[key]}
                check.fail("id_number", message)
            elif key in registered:
                check.fail("id_number", _("This document number is already registered."))
            else:
                in_file[key] = number
                result.good.append(row)
        result.errors.extend(check.errors)
        on_progress(result.rows_total)
    return result


def _check_person_row(
    check: _RowChecker, units: dict[str, tuple[int, str, str]]
) -> dict[str, Any] | None:
    name = check.required("name", clean_cell(check.raw("name")))
    id_type = (
        _choice(check.raw("id_type"), IdType, _ID_TYPE_ZH)
        if check.raw("id_type")
        else "resident_id"
    )
    if id_type is None:
        check.fail("id_type", _("Unknown document type."))
    id_number = check.required("id_number", compact(check.raw("id_number")))
    if id_number and id_type:
        try:
            id_number = normalize_document(id_type, id_number)
        except ValidationError as exc:
            check.fail("id_number", exc.messages[0])
    try:
        phone = normalize_phone(clean_cell(check.raw("phone")))
    except ValidationError as exc:
        check.fail("phone", exc.messages[0])
        phone = ""
    gender = _gender(check, id_type, id_number)
    category = (
        _choice(check.raw("category"), PersonCategory, _CATEGORY_ZH)
        if clean_cell(check.raw("category"))
        else "employee"
    )
    if category is None:
        check.fail("category", _("Unknown person category."))
    unit = units.get(check.required("unit_code", compact(check.raw("unit_code"))))
    if unit is None and compact(check.raw("unit_code")):
        check.fail("unit_code", _("Unknown unit code, or a unit outside your import scope."))
    household = None
    household_code = compact(check.raw("household_code"))
    if household_code:
        household = units.get(household_code)
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
        "category": category,
        "unit_id": unit[0],
        "unit_path": unit[1],
        "household_id": household[0] if household else None,
        "is_party_member": party in TRUE_WORDS,
        "joined_on": joined_on,
    }


def _gender(check: _RowChecker, id_type: str | None, id_number: str) -> str:
    text = clean_cell(check.raw("gender"))
    if text:
        value = _choice(text, Gender, _GENDER_ZH)
        if value is None:
            check.fail("gender", _("Write 男 or 女."))
            return "unknown"
        return value
    if id_type == "resident_id" and len(id_number) == 18 and id_number[16].isdigit():
        return "male" if int(id_number[16]) % 2 else "female"
    return "unknown"


# ---------------------------------------------------------------- jobs


@transaction.atomic
def import_job_create(
    *, actor: Any, kind: str, scope_unit: OrgUnit, upload: UploadedFile, skip_bad_rows: bool = False
) -> ImportJob:
    """Store an upload and queue its validation."""
    if kind not in ImportJob.Kind.values:
        raise InvalidInput(detail={"kind": [kind]})
    if not scope_for(actor, Perm.IMPORT).covers(scope_unit.path):
        raise InvalidInput(detail={"unit": [_("You may not import into this unit.")]})
    name = Path(upload.name or "upload").name
    if Path(name).suffix.lower() not in ALLOWED_SUFFIXES:
        raise InvalidInput(_("Upload an .xlsx or .csv file."))
    job = ImportJob.objects.create(
        kind=kind,
        created_by=actor,
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


def _validate(job: ImportJob) -> Validation:
    table = read_table(Path(job.file.path))
    positions = map_headers(job.kind, table.headers)
    validator = validate_units if job.kind == ImportJob.Kind.UNITS else validate_people
    return validator(job, table, positions, _progress_saver(job))


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
            result = _validate(job)
        except InvalidInput as exc:
            return _fail(job, str(exc.message))
        if result.rows_total == 0:
            return _fail(job, _("The file has no data rows."))
        job.rows_total = job.rows_done = result.rows_total
        job.rows_bad = len(result.bad_rows)
        job.errors = [error.as_dict() for error in result.errors]
        job.status = ImportJob.Status.PREVIEW
        job.message = ""
        job.save()
        return job


def import_job_commit(
    *, actor: Any, job: ImportJob, skip_bad_rows: bool | None = None
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
            result = _validate(job)
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
                _write_units(result.good)
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


def _write_units(rows: list[dict[str, Any]]) -> None:
    by_code = {
        code: (pk, path, depth)
        for code, pk, path, depth in OrgUnit.objects.filter(
            code__in={row["parent_code"] for row in rows}
        ).values_list("code", "id", "path", "depth")
    }
    today = timezone.localdate()
    for row in rows:  # in file order, so parents defined earlier in the file exist
        parent_pk, parent_path, parent_depth = by_code[row["parent_code"]]
        unit = OrgUnit.objects.create(
            code=row["code"],
            name=row["name"],
            kind=row["kind"],
            parent_id=parent_pk,
            name_initials=name_initials(row["name"]),
            name_pinyin=name_pinyin(row["name"]),
            valid_from=row["valid_from"] or today,
            path=f"/new-{row['code']}/",
            depth=parent_depth + 1,
        )
        unit.path = child_path(parent_path, unit.pk)
        unit.save(update_fields=["path"])
        by_code[unit.code] = (unit.pk, unit.path, unit.depth)


def _write_people(rows: list[dict[str, Any]]) -> None:
    people = [
        Person(
            name=row["name"],
            name_initials=name_initials(row["name"]),
            gender=row["gender"],
            id_type=row["id_type"],
            id_number=row["id_number"],
            phone=row["phone"],
            category=row["category"],
            unit_id=row["unit_id"],
            unit_path=row["unit_path"],
            household_id=row["household_id"],
            is_party_member=row["is_party_member"],
            joined_on=row["joined_on"],
        )
        for row in rows
    ]
    Person.objects.bulk_create(people, batch_size=2000)


def rejected_rows_workbook(job: ImportJob) -> bytes:
    """Return an .xlsx of the rejected rows as uploaded, with a column of reasons."""
    reasons: dict[int, list[str]] = {}
    for error in job.errors:
        reasons.setdefault(error["row"], []).append(f"{error['column']}：{error['message']}")
    table = read_table(Path(job.file.path))
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet(_("Rejected rows"))
    sheet.append([*table.headers, _("Reason")])
    for number, cells in table.rows:
        if number in reasons:
            padded = [*cells, *[None] * (len(table.headers) - len(cells))][: len(table.headers)]
            sheet.append([*padded, "；".join(reasons[number])])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


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
                "男",
                "身份证",
                "11010519491231002X",
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
