"""Excel import of a problem list (问题清单): a whole audit report's findings at once.

The same steps as the people import (``orgs.importing``), through the same reader
(``core.sheets``) and the same row checker: download the template, upload, see the
preview (the rows to be created, the rows already imported, every refused row with its
row, column and reason), then commit. The commit checks every row again and registers
all the problems in one transaction through ``services.problem_register``, or none: one
refused row blocks it and nothing is written.

A problem list is short (an audit report has tens of findings, at most a few hundred),
so the check runs in the request; the uploaded file waits for the commit in the
uploader's own folder of the file storage, named by its SHA-256 (``Upload``).

**Import key.** Each row's ``Problem.import_key`` is the SHA-256 of what names a problem
on its list: the assigning unit, the source, the source reference (文号), the title and
the responsible unit. Uploading the same list again, or a corrected copy, creates only the
rows not imported before; the others show as "already imported". Changing a description
or a deadline does not make a row new; changing its title does.
"""

import datetime as dt
import hashlib
import io
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from fangkong.accounts.actors import Actor, acting_user
from fangkong.accounts.roles import Perm
from fangkong.accounts.selectors import require_perm, scope_for
from fangkong.core import calendar
from fangkong.core.audit import audit_record
from fangkong.core.errors import Conflict, InvalidInput, NotFound
from fangkong.core.models import AuditLog
from fangkong.core.numbers import plain_decimal, to_decimal
from fangkong.core.paths import subtree_q
from fangkong.core.sheets import Columns, Row, Table, read_table
from fangkong.core.text import clean_cell, clean_text, compact, parse_date
from fangkong.orgs.importing import RowChecker, RowError, UnitIndex, Validation
from fangkong.orgs.models import OrgUnit, place_related

from . import services
from .models import Problem, ProblemClass, Severity, Source

MAX_ROWS = 1_000  # an audit list; 1,000 rows register in about 13 s on SQLite
MAX_UPLOAD_BYTES = 10 * 1024 * 1024
ALLOWED_SUFFIXES = {".xlsx", ".xls", ".ods", ".csv"}
FOLDER = "rectification/imports"

PROBLEM_COLUMNS = Columns(
    fields={
        "source": ("来源", "问题来源", "source"),
        "source_ref": ("来源文号", "文号", "报告文号", "source_ref"),
        "title": ("问题标题", "问题", "问题名称", "标题", "title"),
        "description": ("问题描述", "描述", "具体问题", "问题表现", "description"),
        "category": ("类别", "问题类别", "问题类型", "category"),
        "severity": ("严重程度", "问题等级", "severity"),
        "problem_class": ("整改类型", "整改类别", "整改方式", "problem_class"),
        "unit": ("责任单位", "责任单位编码", "整改责任单位", "责任部门", "unit"),
        "responsible_name": ("责任人", "整改责任人", "responsible_name"),
        "leader_name": ("分管领导", "牵头领导", "leader_name"),
        "due": ("完成时限", "整改时限", "完成时间", "整改期限", "due"),
        "target_label": ("目标名称", "量化目标", "target_label"),
        "target_quantity": ("目标数量", "数量", "target_quantity"),
        "target_uom": ("计量单位", "单位名称", "target_uom"),
        "milestones": ("里程碑", "时间节点", "时间表", "milestones"),
    },
    required=(("title",), ("unit",)),
)

_SOURCE_ZH = {
    "会议": Source.MEETING,
    "会议部署": Source.MEETING,
    "审计": Source.AUDIT,
    "审计发现": Source.AUDIT,
    "督导组": Source.SUPERVISION,
    "督导": Source.SUPERVISION,
    "巡回督导组": Source.SUPERVISION,
    "检查": Source.INSPECTION,
    "巡查": Source.INSPECTION,
    "监督检查": Source.INSPECTION,
    "差评": Source.BAD_REVIEW,
    "群众差评": Source.BAD_REVIEW,
    "金点子": Source.SUGGESTION,
    "建议": Source.SUGGESTION,
    "自查": Source.SELF_FOUND,
    "自查自纠": Source.SELF_FOUND,
    "自查发现": Source.SELF_FOUND,
}
_SEVERITY_ZH = {
    "一般": Severity.GENERAL,
    # The pages call the levels 一般 / 较重 / 严重: 严重 is the top level, as shown.
    "较重": Severity.SERIOUS,
    "较严重": Severity.SERIOUS,
    "严重": Severity.MAJOR,
    "重大": Severity.MAJOR,
    "特别严重": Severity.MAJOR,
}
_CLASS_ZH = {
    "立行立改": ProblemClass.IMMEDIATE,
    "立即整改": ProblemClass.IMMEDIATE,
    "限期整改": ProblemClass.DEADLINE,
    "长期整改": ProblemClass.LONG_TERM,
    "长期坚持": ProblemClass.LONG_TERM,
    "持续整改": ProblemClass.LONG_TERM,
}
_WORKING_DAYS = re.compile(r"(\d{1,4})个?工作日(内)?|(\d{1,4})workingdays?", re.IGNORECASE)
_MILESTONE = re.compile(r"(\d{4}[-/.年]\d{1,2}[-/.月]\d{1,2}日?)[:：,，、\s]*(.*)", re.DOTALL)
_MILESTONE_SPLIT = re.compile(r"[；;\n]+")
_QUANTITY = re.compile(r"([-+]?\d[\d,]*(?:\.\d+)?)\s*(\D{0,16})")
# OWASP's CSV injection: a cell that a spreadsheet would run as a formula.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_TEXT_FIELDS = (
    "source_ref",
    "title",
    "description",
    "category",
    "responsible_name",
    "leader_name",
    "target_label",
    "target_uom",
    "milestones",
)
_MAX_LENGTH = {
    "source_ref": 100,
    "title": 200,
    "category": 64,
    "responsible_name": 64,
    "leader_name": 64,
    "target_label": 100,
    "target_uom": 16,
}
_PLACE_MARKS = re.compile(r"[\s›>/／\\|｜·•-]+")


def template_headers() -> list[str]:
    return PROBLEM_COLUMNS.template_headers()


# ---------------------------------------------------------------- the rows


@dataclass
class GoodRow:
    """A row that will become a problem: its row number and what to register."""

    row: int
    new: services.NewProblem
    unit_place: str
    due_on: dt.date

    def as_dict(self) -> dict[str, Any]:
        return {
            "row": self.row,
            "title": self.new.title,
            "unit": self.unit_place,
            "problem_class": str(ProblemClass(self.new.problem_class).label),
            "due_on": self.due_on,
            "targets": [
                f"{label} {plain_decimal(qty)}{uom}" for label, uom, qty in self.new.targets
            ],
            "milestones": [f"{day.isoformat()} {title}" for title, day in self.new.milestones],
        }


@dataclass
class Checked:
    """The preview: rows to create, rows already imported, refused rows with reasons."""

    good: list[GoodRow] = field(default_factory=list)
    already: list[dict[str, Any]] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    rows_total: int = 0
    header_row: int = 1
    ignored: list[str] = field(default_factory=list)

    @property
    def bad_rows(self) -> set[int]:
        return {error.row for error in self.errors}

    @property
    def may_commit(self) -> bool:
        return bool(self.good) and not self.errors


class _Units(UnitIndex):
    """The people import's unit lookup (code, or a name unique in the subtree), plus the
    full place name (``山东铝业有限公司 › 电解铝厂``), within the assigning unit's subtree."""

    def __init__(self, assigning: OrgUnit) -> None:
        super().__init__(assigning.path)
        self.scope_path = assigning.path
        self._by_place: dict[str, list[tuple[int, str, str]]] | None = None
        self.places: dict[int, str] = {}

    def _place_index(self) -> dict[str, list[tuple[int, str, str]]]:
        if self._by_place is None:
            self._by_place = {}
            units = OrgUnit.objects.filter(
                subtree_q("path", self.scope_path), valid_to__isnull=True
            ).select_related(place_related())
            for unit in units:
                key = _place_key(unit.place)
                self._by_place.setdefault(key, []).append((unit.pk, unit.path, unit.kind))
                self.places[unit.pk] = unit.place
        return self._by_place

    def find(self, text: str) -> tuple[Any, str]:
        unit, reason = super().find(text)
        if unit is not None:
            return unit, ""
        named = self._place_index().get(_place_key(text), [])
        if len(named) == 1:
            return named[0], ""
        return None, reason

    def place(self, pk: int) -> str:
        self._place_index()
        return self.places.get(pk, "")


def _place_key(text: str) -> str:
    return _PLACE_MARKS.sub("", clean_cell(text))


def _outside_message(user: Any, text: str, assigning: OrgUnit) -> str | None:
    """Name the real reason when the cell names a unit the user sees outside the subtree."""
    seen: Any = OrgUnit.objects.filter(valid_to__isnull=True)
    if user is not None:
        seen = scope_for(user, Perm.VIEW_UNITS).filter(seen, "path")
    if seen.filter(code=text).exists() or seen.filter(name=text).exists():
        return _(
            "This unit is not %(unit)s or a unit below it; the assigning unit can only "
            "give problems to its own subtree."
        ) % {"unit": assigning.name}
    return None


def _choice(value: Any, choices: type, aliases: Mapping[str, str]) -> str | None:
    text = compact(value)
    if text in aliases:
        return str(aliases[text])
    for member in choices:  # type: ignore[attr-defined]
        if text.lower() in (member.value, str(member.label).lower()):
            return str(member.value)
    return None


def import_key(assigning: OrgUnit, source: str, source_ref: str, title: str, unit_pk: int) -> str:
    """What names a problem on its list, hashed (see the module's docstring)."""
    text = "\x1f".join(
        [str(assigning.pk), source, compact(source_ref), compact(title), str(unit_pk)]
    )
    return hashlib.sha256(text.encode()).hexdigest()


class _Checker(RowChecker):
    """The people import's row checker; a column missing from the file goes by its name."""

    def fail(self, key: str, message: str) -> None:
        if key not in self.positions and key in PROBLEM_COLUMNS.fields:
            self.errors.append(RowError(self.number, PROBLEM_COLUMNS.label(key), "", message))
            return
        super().fail(key, message)


class _ProblemRow:
    """Check one row; collect its problems, each at its column, in the user's language."""

    def __init__(self, row: Row, table: Table, context: "_Context", default_source: str) -> None:
        self.check = _Checker(row, table)
        self.context = context
        self.default_source = default_source

    def text(self, key: str, *, free: bool = False) -> str:
        raw = self.check.raw(key)
        value = clean_text(raw) if free else clean_cell(raw)
        if isinstance(raw, str) and raw.lstrip(" ").startswith(_FORMULA_START):
            self.check.fail(
                key,
                _(
                    "The cell starts with =, +, -, @ or a tab and would run as a formula in "
                    "a spreadsheet; remove that first character."
                ),
            )
            return ""
        limit = _MAX_LENGTH.get(key)
        if limit and len(value) > limit:
            self.check.fail(key, _("At most %(n)d characters.") % {"n": limit})
            return ""
        return value

    def choice(self, key: str, choices: type, aliases: Mapping[str, str], default: str) -> str:
        if not clean_cell(self.check.raw(key)):
            return default
        value = _choice(self.check.raw(key), choices, aliases)
        if value is None:
            words = "、".join(aliases)
            self.check.fail(key, _("Write one of: %(words)s.") % {"words": words})
            return default
        return value

    def due(self, problem_class: str) -> tuple[dt.date | None, int | None]:
        raw = self.check.raw("due")
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            if problem_class != ProblemClass.IMMEDIATE:
                self.check.fail(
                    "due",
                    _("Give a due date (2026-12-31) or a number of working days (15个工作日)."),
                )
            return None, None
        if isinstance(raw, str):
            match = _WORKING_DAYS.fullmatch(compact(raw))
            if match:
                return None, int(match.group(1) or match.group(3))
        if isinstance(raw, int | float) and not isinstance(raw, bool) and raw < 3000:
            # a bare number is a count of days typed without 个工作日, not an Excel date
            self.check.fail(
                "due", _("Write 15个工作日 for working days, or a date such as 2026-12-31.")
            )
            return None, None
        try:
            day = parse_date(raw)
        except (ValueError, OverflowError):
            day = None
        if day is None:
            self.check.fail(
                "due", _("Not a date or a number of working days; write 2026-12-31 or 15个工作日.")
            )
            return None, None
        return day, None

    def target(self) -> list[tuple[str, str, Decimal]]:
        label = self.text("target_label")
        uom = self.text("target_uom")
        raw = self.check.raw("target_quantity")
        if not label and not uom and not clean_cell(raw):
            return []
        quantity: Decimal | None = None
        text = compact(raw)
        match = _QUANTITY.fullmatch(text.replace(",", "")) if isinstance(raw, str) else None
        try:
            if match:  # "698盏": the quantity and its unit in one cell
                quantity = to_decimal(match.group(1), places=2)
                uom = uom or match.group(2)[:16]
            elif text:
                quantity = to_decimal(raw, places=2)
        except ValueError:
            quantity = None
        if not label:
            self.check.fail(
                "target_label",
                _("Name the target (e.g. 修复路灯) or leave the three target cells empty."),
            )
        if quantity is None:
            self.check.fail("target_quantity", _("Give the target as a number, e.g. 698."))
        elif quantity <= 0 or quantity >= Decimal("1e10"):
            self.check.fail("target_quantity", _("The target must be a number above zero."))
        if not label or quantity is None or quantity <= 0 or quantity >= Decimal("1e10"):
            return []
        return [(label, uom, quantity)]

    def milestones(self, due_on: dt.date | None) -> list[tuple[str, dt.date]]:
        text = self.text("milestones", free=True)
        if not text:
            return []
        found = []
        for part in _MILESTONE_SPLIT.split(text):
            part = part.strip(" ,，。")
            if not part:
                continue
            match = _MILESTONE.fullmatch(part)
            day = None
            if match:
                try:
                    day = parse_date(match.group(1))
                except (ValueError, OverflowError):
                    day = None
            title = match.group(2).strip() if match else ""
            if day is None or not title:
                self.check.fail(
                    "milestones",
                    _(
                        "Write each milestone as a date and what is done by then, "
                        "separated by ；: 2026-12-01 完成招标；2027-01-15 完成施工."
                    ),
                )
                return []
            if len(title) > 200:
                self.check.fail("milestones", _("At most %(n)d characters.") % {"n": 200})
                return []
            refusal = services.milestone_refusal(day, today=self.context.today, due_on=due_on)
            if refusal:
                self.check.fail("milestones", refusal)
                return []
            found.append((title, day))
        return found

    def unit(self) -> tuple[int, str, str] | None:
        text = compact(self.check.raw("unit"))
        if not text:
            self.check.fail("unit", _("This cell is required but empty."))
            return None
        unit, reason = self.context.units.find(text)
        if unit is None:
            shared = bool(self.context.units.by_name.get(text))  # several in the subtree
            outside = (
                None
                if shared
                else _outside_message(self.context.user, text, self.context.assigning)
            )
            self.check.fail("unit", outside or reason)
        return unit

    def read(self) -> GoodRow | None:
        source = self.choice("source", Source, _SOURCE_ZH, self.default_source)
        source_ref = self.text("source_ref", free=True)
        title = self.text("title", free=True)
        if not title and not any(e.column == self._header("title") for e in self.check.errors):
            self.check.fail("title", _("This cell is required but empty."))
        description = self.text("description", free=True)
        category = self.text("category")
        severity = self.choice("severity", Severity, _SEVERITY_ZH, Severity.GENERAL)
        problem_class = self.choice("problem_class", ProblemClass, _CLASS_ZH, ProblemClass.DEADLINE)
        unit = self.unit()
        responsible = self.text("responsible_name")
        leader = self.text("leader_name")
        due_on, working_days = self.due(problem_class)
        if problem_class == ProblemClass.LONG_TERM and working_days is not None:
            self.check.fail(
                "due", _("A long-term problem needs its final due date, e.g. 2027-06-30.")
            )
        targets = self.target()
        due_for_milestones = due_on
        if working_days is not None and 1 <= working_days <= services.MAX_WORKING_DAYS:
            due_for_milestones = calendar.add_working_days(self.context.today, working_days)
        milestones = self.milestones(due_for_milestones)
        if self.check.errors or unit is None:
            return None
        unit_obj = self.context.unit(unit[0])
        new = services.NewProblem(
            title=title,
            unit=unit_obj,
            assigning_unit=self.context.assigning,
            source=source,
            problem_class=problem_class,
            due_on=due_on,
            due_working_days=working_days,
            source_ref=source_ref,
            description=description,
            category=category,
            severity=severity,
            responsible_name=responsible,
            leader_name=leader,
            targets=targets,
            milestones=milestones,
            import_key=import_key(self.context.assigning, source, source_ref, title, unit[0]),
            data={"import_row": self.check.number},
        )
        try:  # the service's own rule, so preview and commit agree with the form
            day = services.due_date(new, self.context.today)
        except InvalidInput as exc:
            self.check.fail("due", exc.as_text())
            return None
        return GoodRow(self.check.number, new, self.context.units.place(unit[0]), day)

    def _header(self, key: str) -> str:
        index = self.check.positions.get(key)
        return self.check.headers[index] if index is not None else key


@dataclass
class _Context:
    user: Any
    assigning: OrgUnit
    today: dt.date
    units: _Units
    _cache: dict[int, OrgUnit] = field(default_factory=dict)

    def unit(self, pk: int) -> OrgUnit:
        if pk not in self._cache:
            self._cache[pk] = OrgUnit.objects.get(pk=pk)
        return self._cache[pk]


def check_rows(
    *,
    actor: Actor,
    path: Path,
    assigning: OrgUnit,
    default_source: str = Source.AUDIT,
    now: dt.datetime | None = None,
) -> Checked:
    """Read the file and check every row; nothing is written."""
    now = now or timezone.now()
    require_perm(actor, Perm.RECTIFY, assigning.path)
    if default_source not in Source.values:
        raise InvalidInput(_("Choose a source from the list."))
    table = read_table(path, PROBLEM_COLUMNS)
    context = _Context(
        user=acting_user(actor),
        assigning=assigning,
        today=now.astimezone(calendar.LOCAL_TZ).date(),
        units=_Units(assigning),
    )
    result = Checked(header_row=table.header_row, ignored=table.ignored)
    counted = Validation()  # the people import's count: every row read is good or refused
    in_file: dict[str, int] = {}
    good: list[GoodRow] = []
    for row in counted.rows_to_check(table, lambda _done: None):
        if counted.rows_total > MAX_ROWS:
            raise InvalidInput(_("A problem list may hold at most %(n)d rows.") % {"n": MAX_ROWS})
        checker = _ProblemRow(row, table, context, default_source)
        found = checker.read()
        if found is not None and found.new.import_key in in_file:
            checker.check.fail(
                "title",
                _("The same problem (source, reference, title and unit) is on row %(row)d.")
                % {"row": in_file[found.new.import_key]},
            )
            found = None
        if found is not None:
            in_file[found.new.import_key] = found.row
            good.append(found)
        counted.errors.extend(checker.check.errors)
    result.rows_total = counted.rows_total
    result.errors = sorted(counted.errors, key=lambda error: error.row)
    done = _imported_keys(assigning, [row.new.import_key for row in good])
    for good_row in good:
        key = good_row.new.import_key
        if key in done:
            result.already.append(
                {**good_row.as_dict(), "item_id": done[key][0], "due_on": done[key][1]}
            )
        else:
            result.good.append(good_row)
    return result


def _imported_keys(assigning: OrgUnit, keys: list[str]) -> dict[str, tuple[int | None, dt.date]]:
    """The ledger item and due day of each key already imported by the assigning unit."""
    found: dict[str, tuple[int | None, dt.date]] = {}
    for start in range(0, len(keys), 500):
        rows = Problem.objects.filter(
            assigning_path=assigning.path, import_key__in=keys[start : start + 500]
        ).values_list("import_key", "item_id", "due_on")
        found.update((key, (item_id, due_on)) for key, item_id, due_on in rows)
    return found


# ---------------------------------------------------------------- the upload


@dataclass
class Upload:
    """An uploaded list waiting for its commit, in the uploader's folder of the storage.

    ``token`` is the file's SHA-256; the options chosen on the form sit beside it.
    """

    token: str
    user_id: int
    name: str
    suffix: str
    assigning_id: int
    source: str
    uploaded_at: str

    @property
    def uploaded(self) -> dt.datetime:
        return dt.datetime.fromisoformat(self.uploaded_at)

    @property
    def file_name(self) -> str:
        return f"{FOLDER}/{self.user_id}/{self.token}{self.suffix}"

    @property
    def path(self) -> Path:
        return Path(default_storage.path(self.file_name))

    @staticmethod
    def options_name(user_id: int, token: str) -> str:
        return f"{FOLDER}/{user_id}/{token}.json"


_TOKEN = re.compile(r"[0-9a-f]{64}")


def upload_store(
    *, actor: Actor, upload: UploadedFile, assigning: OrgUnit, source: str = Source.AUDIT
) -> Upload:
    """Keep an uploaded list for its preview and commit; refuse what cannot be one."""
    user = acting_user(actor)
    if user is None:
        raise InvalidInput(_("Log in to import a problem list."))
    require_perm(actor, Perm.RECTIFY, assigning.path)
    if source not in Source.values:
        raise InvalidInput(_("Choose a source from the list."))
    name = Path(upload.name or "upload").name[:200]
    suffix = Path(name).suffix.lower()
    if suffix not in ALLOWED_SUFFIXES:
        raise InvalidInput(_("Upload an Excel (.xlsx, .xls), .ods or .csv file."))
    if upload.size is None or upload.size > MAX_UPLOAD_BYTES:
        raise InvalidInput(_("A problem list may be at most 10 MB."))
    data = b"".join(upload.chunks())
    token = hashlib.sha256(data).hexdigest()
    stored = Upload(
        token=token,
        user_id=user.pk,
        name=name,
        suffix=suffix,
        assigning_id=assigning.pk,
        source=source,
        uploaded_at=timezone.now().isoformat(),
    )
    if not default_storage.exists(stored.file_name):
        default_storage.save(stored.file_name, ContentFile(data))
    options = Upload.options_name(user.pk, token)
    if default_storage.exists(options):
        default_storage.delete(options)
    default_storage.save(options, ContentFile(json.dumps(stored.__dict__).encode()))
    audit_record(
        actor=actor,
        action=AuditLog.Action.IMPORT,
        object_type="rectification.problem",
        object_repr=name,
        scope_path=assigning.path,
        after={"file": name, "sha256": token, "step": "upload", "kind": "problems"},
    )
    return stored


def upload_get(actor: Actor, token: str) -> tuple[Upload, OrgUnit]:
    """Return the actor's own upload and its assigning unit; NotFound for anyone else's."""
    user = acting_user(actor)
    if user is None or not _TOKEN.fullmatch(token or ""):
        raise NotFound()
    options = Upload.options_name(user.pk, token)
    if not default_storage.exists(options):
        raise NotFound()
    with default_storage.open(options) as handle:
        stored = Upload(**json.loads(handle.read()))
    if not default_storage.exists(stored.file_name):
        raise NotFound()
    assigning = OrgUnit.objects.filter(pk=stored.assigning_id).first()
    if assigning is None:
        raise NotFound()
    return stored, assigning


# ---------------------------------------------------------------- the commit


@dataclass
class Outcome:
    created: list[Problem]
    already: int


def problems_import(
    *,
    actor: Actor,
    path: Path,
    assigning: OrgUnit,
    default_source: str = Source.AUDIT,
    name: str = "",
    now: dt.datetime | None = None,
) -> Outcome:
    """Check every row again and register all the new problems, or none.

    A refused row blocks the commit: nothing is written. Rows imported before are left
    alone. Concurrent commits of the same list wait for each other on the assigning unit.
    """
    now = now or timezone.now()
    with transaction.atomic():
        OrgUnit.objects.select_for_update().filter(pk=assigning.pk).first()
        checked = check_rows(
            actor=actor, path=path, assigning=assigning, default_source=default_source, now=now
        )
        if checked.errors:
            raise InvalidInput(
                _(
                    "Nothing was written: %(n)d rows are refused. "
                    "Fix them and upload the file again."
                )
                % {"n": len(checked.bad_rows)},
                detail={"rows": [error.as_dict() for error in checked.errors[:100]]},
            )
        if not checked.good:
            raise Conflict(_("Every problem of this list is registered."))
        created = [
            services.problem_register(actor=actor, new=row.new, now=now) for row in checked.good
        ]
        audit_record(
            actor=actor,
            action=AuditLog.Action.IMPORT,
            object_type="rectification.problem",
            object_repr=name[:200],
            scope_path=assigning.path,
            after={
                "step": "done",
                "kind": "problems",
                "file": name,
                "created": len(created),
                "already_imported": len(checked.already),
                "problems": [problem.pk for problem in created],
            },
        )
    return Outcome(created=created, already=len(checked.already))


def upload_commit(*, actor: Actor, token: str) -> Outcome:
    stored, assigning = upload_get(actor, token)
    return problems_import(
        actor=actor,
        path=stored.path,
        assigning=assigning,
        default_source=stored.source,
        name=stored.name,
    )


# ---------------------------------------------------------------- the template and the demo


def example_row(today: dt.date) -> list[Any]:
    """The template's example, dated from ``today`` so that it imports as it stands: due at
    the end of the month after next, milestones in two and in six weeks."""
    after_next = (today.replace(day=1) + dt.timedelta(days=62)).replace(day=1)
    due = after_next + dt.timedelta(days=31)
    due = due.replace(day=1) - dt.timedelta(days=1)
    bidding, building = today + dt.timedelta(days=14), today + dt.timedelta(days=42)
    return [
        "审计",
        "审计报告〔2026〕5号",
        "厂区路灯损坏未及时修复",
        "部分路段路灯不亮，夜间通行存在安全隐患",
        "安全设施",
        "一般",
        "限期整改",
        "A1",
        "张伟",
        "李强",
        due.isoformat(),
        "修复路灯",
        698,
        "盏",
        f"{bidding.isoformat()} 完成招标；{min(building, due).isoformat()} 完成施工",
    ]


def template_workbook() -> bytes:
    """The template: the Chinese headers, one example row, and a sheet explaining each."""
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "问题清单"
    sheet.append(template_headers())
    sheet.append(example_row(timezone.localdate()))
    for column in sheet.columns:
        letter = column[0].column_letter
        sheet.column_dimensions[letter].width = 18
    notes = book.create_sheet(_("How to fill in"))
    notes.append([_("Column"), _("What to write")])
    for header, note in column_notes():
        notes.append([header, note])
    notes.column_dimensions["A"].width = 14
    notes.column_dimensions["B"].width = 90
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def column_notes() -> list[tuple[str, str]]:
    label = PROBLEM_COLUMNS.label
    return [
        (
            label("source"),
            _(
                "Optional; 会议, 审计, 督导组, 检查, 差评, 金点子 or 自查发现. "
                "Empty: the source chosen on the upload form."
            ),
        ),
        (label("source_ref"), _("Optional; the report's reference, e.g. 审计报告〔2026〕5号.")),
        (label("title"), _("Required; at most 200 characters.")),
        (label("description"), _("Optional.")),
        (label("category"), _("Optional; at most 64 characters.")),
        (label("severity"), _("Optional; 一般 (default), 较重 or 严重 (also 重大).")),
        (label("problem_class"), _("Optional; 立行立改, 限期整改 (default) or 长期整改.")),
        (
            label("unit"),
            _("Required; the unit's code or its full name, the assigning unit or a unit below it."),
        ),
        (label("responsible_name"), _("Optional; the person responsible.")),
        (label("leader_name"), _("Optional; the leader in charge.")),
        (
            label("due"),
            _(
                "A date (2026-12-31) or a number of working days (15个工作日, counted on the "
                "official calendar from the import day). 立行立改 may be left empty: the next "
                "working day. 长期整改 needs a date."
            ),
        ),
        (label("target_label"), _("Optional quantity target: its name, e.g. 修复路灯.")),
        (
            label("target_quantity"),
            _("The target quantity, above zero, e.g. 698 (698盏 also works)."),
        ),
        (label("target_uom"), _("The unit of measure, e.g. 盏, 间, 个.")),
        (
            label("milestones"),
            _(
                "Optional; dates and steps separated by ；, e.g. 2026-12-01 完成招标；2027-01-15 "
                "完成施工. Each date lies between today and the due date."
            ),
        ),
    ]


DEMO_REF = "审计报告〔2026〕5号"


def demo_rows(units: list[OrgUnit], today: dt.date) -> list[list[Any]]:
    """Six findings of an audit report, spread over ``units`` (codes), due after ``today``."""

    def pick(index: int) -> str:
        return units[index % len(units)].code

    def day(days: int) -> str:
        return (today + dt.timedelta(days=days)).isoformat()

    return [
        [
            "审计",
            DEMO_REF,
            "厂区路灯损坏未及时修复",
            "夜间通行存在安全隐患",
            "安全设施",
            "较重",
            "限期整改",
            pick(0),
            "张伟",
            "李强",
            day(90),
            "修复路灯",
            698,
            "盏",
            f"{day(30)} 完成招标；{day(75)} 完成施工",
        ],
        [
            "审计",
            DEMO_REF,
            "职工卫生间设施老化",
            "漏水、异味，职工反映强烈",
            "后勤保障",
            "一般",
            "限期整改",
            pick(1),
            "王芳",
            "李强",
            day(120),
            "整修卫生间",
            217,
            "间",
            "",
        ],
        [
            "审计",
            DEMO_REF,
            "停车位不足、停放无序",
            "",
            "后勤保障",
            "一般",
            "长期整改",
            pick(2),
            "刘洋",
            "赵敏",
            day(180),
            "新增停车位",
            446,
            "个",
            f"{day(60)} 完成规划；{day(150)} 完成划线",
        ],
        [
            "审计",
            DEMO_REF,
            "公车使用审批不严",
            "公车运行费用偏高",
            "费用管控",
            "较重",
            "限期整改",
            pick(0),
            "陈静",
            "赵敏",
            "20个工作日",
            "",
            "",
            "",
            "",
        ],
        [
            "审计",
            DEMO_REF,
            "业务招待费超标准列支",
            "",
            "费用管控",
            "重大",
            "立行立改",
            pick(1),
            "杨磊",
            "李强",
            "",
            "",
            "",
            "",
            "",
        ],
        [
            "审计",
            DEMO_REF,
            "固定资产台账与实物不符",
            "",
            "资产管理",
            "一般",
            "限期整改",
            pick(2),
            "周杰",
            "赵敏",
            "30个工作日",
            "",
            "",
            "",
            "",
        ],
    ]


def demo_import(
    actor: Actor, assigning_unit: OrgUnit, units: list[OrgUnit], *, now: dt.datetime | None = None
) -> Outcome:
    """Write the demo's audit list (审计报告〔2026〕5号, six findings) as an .xlsx and import it.

    ``units`` are responsible units in the assigning unit's subtree; the problems are
    spread over them. Importing it again creates nothing new.
    """
    now = now or timezone.now()
    today = now.astimezone(calendar.LOCAL_TZ).date()
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(template_headers())
    for row in demo_rows(list(units) or [assigning_unit], today):
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    name = f"{FOLDER}/demo/{hashlib.sha256(buffer.getvalue()).hexdigest()}.xlsx"
    if not default_storage.exists(name):
        default_storage.save(name, ContentFile(buffer.getvalue()))
    with translation.override("zh-hans"):
        try:
            return problems_import(
                actor=actor,
                path=Path(default_storage.path(name)),
                assigning=assigning_unit,
                default_source=Source.AUDIT,
                name="审计报告〔2026〕5号问题清单.xlsx",
                now=now,
            )
        except Conflict:  # imported before
            return Outcome(created=[], already=6)
