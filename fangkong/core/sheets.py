"""Read an uploaded sheet (.xlsx, .xls, .ods or .csv) as numbered rows under its header.

Every import reads through here so that every import accounts for every line the same way:

- the header is the first of the first ``HEADER_SEARCH_ROWS`` non-empty rows that holds
  every required column, so a title row (often merged) above it does no harm;
- headers are matched by their synonyms; a header that matches no field is reported as
  ignored, never dropped silently;
- a row the reader cannot read (a CSV line with a broken quote, a cell with a control
  character) is still a row: it carries a ``Problem`` and the import rejects it with its
  line number and reason. Rows read = rows imported + rows rejected, always.

Row numbers are those the user sees: Excel's row numbers, or the CSV line on which a record
starts. Blank rows are skipped and not counted.
"""

import csv
import re
import tempfile
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from django.utils.translation import gettext as _
from python_calamine import CalamineWorkbook

from .errors import InvalidInput
from .text import FORBIDDEN_CHARACTERS, clean_cell

HEADER_SEARCH_ROWS = 10
# A quoted CSV cell may hold line breaks; one that runs on for more lines than this is a
# quotation mark left open, and reading on would swallow the rows below it.
MAX_LINES_PER_CELL = 10
# A cell with a character the project refuses everywhere (core.text) rejects its row.
_CONTROL = FORBIDDEN_CHARACTERS
_HEADER_NOISE = re.compile(r"[\s*＊:：]|[(（][^)）]*[)）]")  # "手机号码（必填）*" → "手机号码"


@dataclass(frozen=True)
class Columns:
    """The columns of one kind of import.

    ``fields`` maps each field to the headers accepted for it, the template's header first.
    ``required`` lists groups of fields; the file needs at least one field of each group.
    """

    fields: dict[str, tuple[str, ...]]
    required: tuple[tuple[str, ...], ...]

    def label(self, field: str) -> str:
        return self.fields[field][0]

    def template_headers(self) -> list[str]:
        return [self.label(field) for field in self.fields]

    def match(self, headers: Sequence[str]) -> tuple[dict[str, int], list[str]]:
        """Return field → column index, and the non-empty headers that matched no field."""
        keys = [header_key(header) for header in headers]
        positions: dict[str, int] = {}
        for field, aliases in self.fields.items():
            for alias in aliases:
                key = header_key(alias)
                if key in keys and keys.index(key) not in positions.values():
                    positions[field] = keys.index(key)
                    break
        used = set(positions.values())
        ignored = [h for i, h in enumerate(headers) if h and i not in used]
        return positions, ignored

    def missing(self, positions: dict[str, int]) -> list[str]:
        """Return the labels of the required groups the positions do not cover."""
        return [
            "/".join(self.label(field) for field in group)
            for group in self.required
            if not any(field in positions for field in group)
        ]


def cell_of(cells: Sequence[Any], positions: dict[str, int], field: str) -> Any:
    """The cell of ``field`` in a row (None when the file lacks the column or the row is short)."""
    index = positions.get(field)
    return cells[index] if index is not None and index < len(cells) else None


def header_key(text: Any) -> str:
    """Return a header reduced for matching: folded, lower case, without notes or marks."""
    return _HEADER_NOISE.sub("", clean_cell(text)).lower()


@dataclass(frozen=True)
class Problem:
    """Why the reader could not read a row: the column (if known), the value, the reason."""

    column: str
    value: str
    message: str


@dataclass(slots=True)
class Row:
    number: int  # as the user sees it
    cells: list[Any]
    problem: Problem | None = None
    clean: bool = False  # known to hold no control character (the reader looked already)


@dataclass
class Table:
    headers: list[str]
    header_row: int
    positions: dict[str, int]
    ignored: list[str]
    rows: Iterator[Row]


def read_table(path: Path, columns: Columns) -> Table:
    """Open a sheet, find its header and return it with an iterator over the rows below.

    Raise InvalidInput when the file cannot be read or no header among the first rows
    holds the required columns; the message names the missing and the ignored columns.
    """
    rows = _read_rows(path)
    # With no header found, explain by the likeliest one: most known columns, then widest.
    best: tuple[tuple[int, int], dict[str, int], list[str]] = ((0, 0), {}, [])
    for looked_at, row in enumerate(rows, start=1):
        headers = [visible(clean_cell(cell)) for cell in row.cells] if row.problem is None else []
        positions, ignored = columns.match(headers)
        if not columns.missing(positions):  # the rows below the header are still unread
            return Table(headers, row.number, positions, ignored, _checked(rows, headers))
        score = (len(positions), len(positions) + len(ignored))
        if score > best[0]:
            best = (score, positions, ignored)
        if looked_at == HEADER_SEARCH_ROWS:
            break
    _score, positions, ignored = best
    raise InvalidInput(_missing_message(columns.missing(positions), ignored))


def _missing_message(missing: list[str], ignored: list[str]) -> str:
    message = _("The file lacks the required columns: %(columns)s.") % {
        "columns": "、".join(missing)
    }
    if ignored:
        message += " " + _("Columns not recognised: %(columns)s.") % {"columns": "、".join(ignored)}
    return message


def _checked(rows: Iterator[Row], headers: list[str]) -> Iterator[Row]:
    """Give each row with a control character in a cell a problem naming that cell."""
    for row in rows:
        if row.problem is None and not row.clean:
            row.problem = _control_problem(row.cells, headers)
        yield row


def _control_problem(cells: list[Any], headers: list[str]) -> Problem | None:
    texts = [cell for cell in cells if isinstance(cell, str)]
    if not _CONTROL.search("".join(texts)):  # one search per row: the usual case
        return None
    for index, cell in enumerate(cells):
        if isinstance(cell, str) and _CONTROL.search(cell):
            column = headers[index] if index < len(headers) else ""
            return Problem(
                column,
                visible(cell),
                _("The cell holds a control character (shown as a symbol such as ␀); remove it."),
            )
    return None  # pragma: no cover - the joined search found one


def visible(text: str) -> str:
    """Return text with control characters shown as symbols (␀, ␁ …), safe for any sheet."""
    return _CONTROL.sub(_control_picture, text)


def _control_picture(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code < 0x20:
        return chr(0x2400 + code)
    return "␡" if code == 0x7F else "\ufffd"


def _has_content(cells: Sequence[Any]) -> bool:
    return any(
        cell is not None and (cell.strip() != "" if isinstance(cell, str) else True)
        for cell in cells
    )


# ---------------------------------------------------------------- Excel and OpenDocument


def _read_rows(path: Path) -> Iterator[Row]:
    if path.suffix.lower() == ".csv":
        return _csv_rows(_decoded(path.read_bytes()))
    return _sheet_rows(path)


def _sheet_rows(path: Path) -> Iterator[Row]:
    """Read the first sheet with calamine (Rust): 170,000 rows in a few seconds.

    ``iter_rows`` starts at the sheet's first row, so the numbers are those Excel shows.
    Old .xls and .ods files are read the same way.
    """
    try:
        sheet = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0)
        rows = sheet.iter_rows()
    except Exception as exc:  # calamine raises several kinds for a broken file
        raise InvalidInput(_("The file is not a readable Excel workbook.")) from exc
    return (
        Row(number, list(cells))
        for number, cells in enumerate(rows, start=1)
        if _has_content(cells)
    )


# ---------------------------------------------------------------- CSV


def _decoded(raw: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise InvalidInput(_("The CSV file is neither UTF-8 nor GB18030 encoded."))


def _csv_rows(text: str) -> Iterator[Row]:
    """Yield one row per CSV record, numbered by the line it starts on.

    Lines end in CRLF, LF or a bare CR (old Macs and some exporters). The csv module reads
    in strict mode; a record whose quote does not close where a cell ends, within
    ``MAX_LINES_PER_CELL`` lines, is that one line rejected, and reading goes on with the
    next line, so a stray quote never swallows the rows below it.
    """
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    clean = _CONTROL.search(text) is None  # the usual case: no row needs a look of its own
    start = 0
    while start < len(lines):
        start = yield from _records_from(lines, start, clean)


def _records_from(lines: list[str], start: int, clean: bool) -> Generator[Row, None, int]:
    """Yield the records from ``lines[start]`` on; return the line to go on from."""
    feed = _Feed(lines, start)
    reader = csv.reader(feed, strict=True)
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return len(lines)
        except csv.Error:  # a quote left open, or text straight after a closing quote
            yield _unreadable(lines, feed.record_start)
            return feed.record_start + 1
        number, feed.record_start = feed.record_start + 1, feed.position
        if "".join(cells).strip():  # not a blank line
            yield Row(number, cells, clean=clean)


class _Feed:
    """Hand the csv module one line at a time; run dry when one record gets too long.

    Running dry inside a quoted cell makes the strict reader fail on that record, which
    costs at most ``MAX_LINES_PER_CELL`` lines however far away the next quote is.
    """

    def __init__(self, lines: list[str], start: int) -> None:
        self.lines, self.position, self.record_start = lines, start, start

    def __iter__(self) -> "_Feed":
        return self

    def __next__(self) -> str:
        if self.position >= len(self.lines):
            raise StopIteration
        if self.position - self.record_start >= MAX_LINES_PER_CELL:
            raise StopIteration
        self.position += 1
        return self.lines[self.position - 1] + "\n"


def _unreadable(lines: list[str], index: int) -> Row:
    line = lines[index]
    problem = Problem(
        "",
        visible(line[:60]) + ("…" if len(line) > 60 else ""),
        _(
            'A quotation mark (") on this line is not closed where a cell ends; '
            "the line could not be read. Remove the quotation mark or close it."
        ),
    )
    return Row(index + 1, [line], problem)


T = TypeVar("T")
UPLOAD_SUFFIXES = {".xlsx", ".xls", ".ods", ".csv"}


def read_upload(upload: Any, parse: Callable[[Path], T]) -> T:
    """Write an uploaded spreadsheet to a temporary file and ``parse`` it there; a file of
    another kind is refused before anything is read."""
    suffix = Path(upload.name or "upload.xlsx").suffix.lower()
    if suffix not in UPLOAD_SUFFIXES:
        raise InvalidInput(_("Upload an .xlsx, .xls, .ods or .csv file."))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"upload{suffix}"
        with path.open("wb") as out:
            for chunk in upload.chunks():
                out.write(chunk)
        return parse(path)


def refuse_row_errors(errors: list[dict[str, Any]], found: Sequence[Any], **detail: Any) -> None:
    """All rows or none: raise with every row's errors (the first 1,000), or when the file
    held no row at all."""
    if errors:
        rows = len({error["row"] for error in errors})
        raise InvalidInput(
            _("%(rows)d row(s) have errors; nothing was imported.") % {"rows": rows},
            detail={"rows": errors[:1000], **detail},
        )
    if not found:
        raise InvalidInput(_("The file has no rows."))
