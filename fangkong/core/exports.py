"""Every spreadsheet fangkong hands out: cells that cannot run, numbers masked, one audit row.

An export view builds an ``Export`` from the request and the scope the user may export
from, yields its rows and returns ``export.response(...)``. The helper

- neutralises every text cell a spreadsheet would read as a formula (OWASP's guidance on
  CSV injection): text starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return
  gets a leading single quote, in .csv and .xlsx alike, and .xlsx cells are written as
  strings; numbers and dates stay numbers and dates;
- drops the control characters an .xlsx cannot hold, so one bad value never breaks the file;
- masks document and phone numbers outside the subtrees where the user may see them;
- writes one ``export`` audit row scoped to the subtrees the file is of, so whoever may read
  the audit log there sees it.
"""

import csv
import datetime as dt
import io
from collections.abc import Iterable, Iterator, Mapping, Sequence
from decimal import Decimal
from typing import Any, Protocol

import openpyxl
from django.apps import apps
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from .audit import audit_record
from .errors import InvalidInput, PermissionDenied
from .masking import mask_id_number, mask_phone
from .models import AuditLog
from .paths import is_within
from .routing import replica_reads

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_TYPED = (int, float, Decimal, dt.date, dt.time, dt.timedelta)  # bool is an int


class ScopeLike(Protocol):
    """The subtrees a user holds a permission on (``accounts.selectors.Scope``)."""

    @property
    def paths(self) -> tuple[str, ...]: ...

    @property
    def everything(self) -> bool: ...

    def covers(self, path: str) -> bool: ...


class PersonLike(Protocol):
    id_number: str
    phone: str
    unit_path: str


def safe_cell(value: Any) -> Any:
    """Return ``value`` as a cell no spreadsheet evaluates.

    Numbers, dates and times stay typed (a negative temperature delta is a number, not a
    formula); anything else becomes text, quoted when it would start a formula.
    """
    if value is None:
        return ""
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return timezone.localtime(value).replace(tzinfo=None)  # .xlsx has no time zones
    if isinstance(value, _TYPED):
        return value
    text = ILLEGAL_CHARACTERS_RE.sub("", str(value))
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def safe_rows(rows: Iterable[Sequence[Any]]) -> Iterator[list[Any]]:
    for row in rows:
        yield [safe_cell(value) for value in row]


def csv_text(headers: Sequence[Any], rows: Iterable[Sequence[Any]]) -> str:
    """Return a UTF-8 CSV with a byte-order mark, so Excel on Windows reads the Chinese."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer)
    writer.writerow([safe_cell(h) for h in headers])
    writer.writerows(safe_rows(rows))
    return buffer.getvalue()


def xlsx_bytes(headers: Sequence[Any], rows: Iterable[Sequence[Any]], *, title: str = "") -> bytes:
    """Return an .xlsx of one sheet; every text cell is a string, never a formula."""
    return xlsx_book([(title, headers, rows)])


def xlsx_book(sheets: Iterable[tuple[str, Sequence[Any], Iterable[Sequence[Any]]]]) -> bytes:
    """Return an .xlsx with a sheet per (title, headers, rows), cells made safe as above."""
    book = openpyxl.Workbook(write_only=True)
    for title, headers, rows in sheets:
        sheet = book.create_sheet(ILLEGAL_CHARACTERS_RE.sub("", str(title))[:31] or None)
        sheet.append([safe_cell(h) for h in headers])
        for row in safe_rows(rows):
            sheet.append(row)
    data = io.BytesIO()
    book.save(data)
    return data.getvalue()


def _root_unit_paths() -> list[str]:
    # core sits below orgs: reach the unit model through the app registry, not an import.
    units = apps.get_model("orgs", "OrgUnit").objects.filter(parent__isnull=True)
    return list(units.values_list("path", flat=True))


class Export:
    """One download of a list by one user: its format, masking and audit row.

    ``scope`` is where the user may export (the view filters its rows by it too);
    ``sensitive`` where the user may see full document and phone numbers (None: masked
    everywhere). A user without any export scope is refused before anything is read.
    """

    def __init__(
        self,
        request: HttpRequest,
        *,
        object_type: str,
        scope: ScopeLike,
        sensitive: ScopeLike | None = None,
    ) -> None:
        if not scope.everything and not scope.paths:
            raise PermissionDenied()
        self.request = request
        self.object_type = object_type
        self.scope = scope
        self.sensitive = sensitive
        self.format = "csv" if request.GET.get("format") == "csv" else "xlsx"
        self.unmasked = 0

    def in_scope(self, rows: Any, path: str, *, limit: int) -> Any:
        """The list's ``rows`` (their unit path at ``path``) where the user may export, refused
        when longer than ``limit``."""
        rows = self.scope.filter(rows, path)  # type: ignore[attr-defined]
        self.check_size(rows.count(), limit)
        return rows

    def check_size(self, total: int, limit: int) -> None:
        """Refuse a list longer than ``limit`` rows before any of it is read."""
        if total > limit:
            raise InvalidInput(_("Narrow the list to at most %(n)d rows to export.") % {"n": limit})

    def numbers(self, person: PersonLike) -> tuple[str, str]:
        """Return the person's document and phone numbers as this user may see them."""
        return self.numbers_at(person.unit_path, person.id_number, person.phone)

    def numbers_at(self, path: str, id_number: str, phone: str = "") -> tuple[str, str]:
        """Return numbers kept under the unit at ``path`` (a visitor's: the site) as this user
        may see them, counting the unmasked ones for the audit row."""
        if self.sensitive is not None and self.sensitive.covers(path):
            self.unmasked += 1
            return id_number, phone
        return mask_id_number(id_number), mask_phone(phone)

    def scope_paths(self, unit_path: str = "") -> list[str]:
        """Return the subtrees the file is of: the list's unit within the export scope."""
        scope = self.scope
        if unit_path:
            if scope.everything or scope.covers(unit_path):
                return [unit_path]
            inside = [root for root in scope.paths if is_within(root, unit_path)]
            return inside or [unit_path]
        return _root_unit_paths() if scope.everything else list(scope.paths)

    def response(
        self,
        *,
        name: str,
        headers: Sequence[Any],
        rows: Iterable[Sequence[Any]],
        unit_path: str = "",
        label: str = "",
        details: Mapping[str, Any] | None = None,
    ) -> HttpResponse:
        """Write the file, then its audit row, and return it as a download.

        ``name`` starts the file name; ``unit_path`` is the subtree the list is filtered to,
        if any; ``label`` (default "<name> export") names the audit row.
        """
        written = 0

        def counted() -> Iterator[Sequence[Any]]:
            nonlocal written
            for row in rows:
                written += 1
                yield row

        with replica_reads():  # the rows may lag a moment; the audit row goes to the primary
            if self.format == "csv":
                response = HttpResponse(
                    csv_text(headers, counted()), content_type="text/csv; charset=utf-8"
                )
            else:
                response = HttpResponse(xlsx_bytes(headers, counted()), content_type=XLSX)
        self._audit(label or f"{name} export", written, unit_path, details or {})
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
        response["Content-Disposition"] = f'attachment; filename="{name}-{stamp}.{self.format}"'
        return response

    def _audit(self, label: str, written: int, unit_path: str, details: Mapping[str, Any]) -> None:
        audit_record(
            actor=self.request.user,
            action=AuditLog.Action.EXPORT,
            object_type=self.object_type,
            object_repr=f"{label} ({written})",
            scope_paths=self.scope_paths(unit_path),
            after={
                "rows": written,
                "format": self.format,
                "filters": self.request.GET.dict(),
                "unmasked": self.unmasked,
                **details,
            },
        )
