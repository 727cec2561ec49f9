"""Excel import of the risk-area list: every row checked, then all rows or none.

Synchronous: a notice lists tens to a few hundred regions. Columns: 地区代码 and/or
地区名称, 风险等级 (高/中/低), 生效日期, and optionally 适用停留起始日期 (stays from that day
count; blank: the start of the look-back window, or the effective date if earlier). The
file is read by the shared reader (``core.sheets``: title rows, header synonyms, CSV line
endings and quotes). Each bad row is reported with its row number as Excel shows it, the
column and the reason; one bad row and nothing is imported.
"""

from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.accounts.actors import Actor
from fangkong.accounts.roles import Perm
from fangkong.accounts.selectors import require_perm
from fangkong.core.errors import InvalidInput
from fangkong.core.exports import xlsx_bytes
from fangkong.core.models import Division
from fangkong.core.sheets import Columns, cell_of, read_table, read_upload, refuse_row_errors
from fangkong.core.text import clean_cell, compact, parse_date

from .models import RiskAreaBatch, RiskLevel
from .services import AreaChange, ListChange, risk_areas_apply

MAX_ROWS = 5_000
COLUMNS = Columns(
    fields={
        "code": ("地区代码", "区划代码", "行政区划代码", "地区编码", "代码", "code"),
        "name": ("地区名称", "地区", "地名", "名称", "name"),
        "level": ("风险等级", "等级", "风险级别", "级别", "level"),
        "effective_from": ("生效日期", "生效时间", "日期", "effective_from"),
        "stays_since": ("适用停留起始日期", "停留起始日期", "适用停留起始", "stays_since"),
    },
    required=(("code", "name"), ("level",), ("effective_from",)),
)
LEVEL_WORDS = {
    "高": RiskLevel.HIGH,
    "高风险": RiskLevel.HIGH,
    "high": RiskLevel.HIGH,
    "中": RiskLevel.MEDIUM,
    "中风险": RiskLevel.MEDIUM,
    "medium": RiskLevel.MEDIUM,
    "低": RiskLevel.LOW,
    "低风险": RiskLevel.LOW,
    "low": RiskLevel.LOW,
}
TEMPLATE_EXAMPLES = [
    ["420100", "湖北省 武汉市", "高", "2020-01-23", "2020-01-09"],
    ["370303", "山东省 淄博市 张店区", "低", "2020-02-20", ""],
]


def template_headers() -> list[str]:
    return COLUMNS.template_headers()


def template_workbook() -> bytes:
    """Return the import template: the Chinese headers and two example rows."""
    return xlsx_bytes(template_headers(), TEMPLATE_EXAMPLES, title="风险地区")


@dataclass
class ImportedList(ListChange):
    """The new version of the list, and the columns of the file that were not read."""

    ignored_columns: list[str] = field(default_factory=list)


class _Divisions:
    """Look regions up by code or by name, loading each once."""

    def __init__(self) -> None:
        self.by_code: dict[str, Division | None] = {}

    def code(self, code: str) -> Division | None:
        if code not in self.by_code:
            self.by_code[code] = Division.objects.filter(code=code).first()
        return self.by_code[code]

    def name(self, name: str) -> list[Division]:
        spaced = name.replace(" ", "")
        return list(
            Division.objects.filter(Q(full_name=name) | Q(name=name) | Q(full_name=spaced))[:3]
        )


def _read_row(
    row: list[Any], positions: dict[str, int], divisions: _Divisions, today: Any
) -> tuple[AreaChange | None, list[tuple[str, str, str]]]:
    """Return the row's change, or its problems as (column, value, message)."""
    problems: list[tuple[str, str, str]] = []
    code = compact(cell_of(row, positions, "code"))
    name = clean_cell(cell_of(row, positions, "name"))
    division: Division | None = None
    if code:
        division = divisions.code(code)
        if division is None:
            problems.append(("地区代码", code, _("Unknown region code.")))
        elif name and name.replace(" ", "") not in division.full_name.replace(" ", ""):
            problems.append(
                (
                    "地区名称",
                    name,
                    _("The name does not match the code (%(name)s).")
                    % {"name": division.full_name},
                )
            )
    elif name:
        found = divisions.name(name)
        if len(found) == 1:
            division = found[0]
        else:
            message = (
                _("No region has this name.")
                if not found
                else _("Several regions have this name; give the code.")
            )
            problems.append(("地区名称", name, message))
    else:
        problems.append(("地区代码", "", _("Give the region code or name.")))
    level_text = compact(cell_of(row, positions, "level")).lower()
    level = LEVEL_WORDS.get(level_text)
    if level is None:
        problems.append(("风险等级", level_text, _("The risk level must be 高, 中 or 低.")))
    raw_day = cell_of(row, positions, "effective_from")
    try:
        day = parse_date(raw_day)
    except (ValueError, OverflowError):
        day = None
        problems.append(("生效日期", clean_cell(raw_day), _("Not a date.")))
    else:
        if day is None:
            problems.append(("生效日期", "", _("The effective date is required.")))
        elif day > today:
            problems.append(
                ("生效日期", day.isoformat(), _("The effective date lies in the future."))
            )
    stays_since = _stays_since(cell_of(row, positions, "stays_since"), day, problems)
    if problems or division is None or level is None or day is None:
        return None, problems
    return AreaChange(division, level, day, stays_since), []


def _stays_since(raw: Any, effective_from: Any, problems: list[tuple[str, str, str]]) -> Any:
    """Read the optional first day of the stays the level applies to (None: the default)."""
    try:
        day = parse_date(raw)
    except (ValueError, OverflowError):
        problems.append(("适用停留起始日期", clean_cell(raw), _("Not a date.")))
        return None
    if day is not None and effective_from is not None and day > effective_from:
        problems.append(
            (
                "适用停留起始日期",
                day.isoformat(),
                _("Stays must count from the effective date or earlier, not later."),
            )
        )
    return day


def parse_rows(path: Path) -> tuple[list[AreaChange], list[str]]:
    """Read and check every row; return the changes and the ignored columns.

    Raise InvalidInput listing every bad row, unreadable lines included.
    """
    table = read_table(path, COLUMNS)
    positions = table.positions
    divisions, today = _Divisions(), timezone.localdate()
    changes: list[AreaChange] = []
    errors: list[dict[str, Any]] = []
    first_row: dict[str, int] = {}
    for rows_read, row in enumerate(table.rows, start=1):
        if rows_read > MAX_ROWS:
            raise InvalidInput(_("At most %(n)d rows per file.") % {"n": MAX_ROWS})
        number = row.number
        if row.problem is not None:
            change, problems = None, [(row.problem.column, row.problem.value, row.problem.message)]
        else:
            change, problems = _read_row(row.cells, positions, divisions, today)
        if change is not None and change.division.code in first_row:
            problems = [
                (
                    "地区代码",
                    change.division.code,
                    _("The region is already listed in row %(row)d.")
                    % {"row": first_row[change.division.code]},
                )
            ]
        for column, value, message in problems:
            errors.append({"row": number, "column": column, "value": value, "message": message})
        if change is not None and not problems:
            first_row[change.division.code] = number
            changes.append(change)
    ignored = table.ignored
    refuse_row_errors(errors, changes, ignored_columns=ignored)
    return changes, ignored


def risk_areas_import(*, actor: Actor, upload: UploadedFile, notice: str = "") -> ImportedList:
    """Import a risk-area notice from a spreadsheet: all rows or none; re-check the raises."""
    require_perm(actor, Perm.MANAGE_OUTBREAK)
    changes, ignored = read_upload(upload, parse_rows)
    change = risk_areas_apply(
        actor=actor,
        changes=changes,
        kind=RiskAreaBatch.Kind.IMPORT,
        notice=notice,
        original_name=upload.name or "upload.xlsx",
    )
    done = {item.name: getattr(change, item.name) for item in fields(ListChange)}
    return ImportedList(**done, ignored_columns=ignored)
