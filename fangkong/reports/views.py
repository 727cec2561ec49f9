"""Pages of the daily reports and the roll-up. Thin: selectors read, services write."""

import datetime as dt
import uuid
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import conditional_escape, escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext
from django.views.decorators.http import require_POST

from fangkong.accounts.actors import Viewer
from fangkong.accounts.models import User
from fangkong.accounts.roles import Perm
from fangkong.accounts.selectors import export_with_numbers, scope_for, user_has_perm_anywhere
from fangkong.accounts.views import PREVIOUS_LOGIN
from fangkong.checkpoints import selectors as checkpoint_selectors
from fangkong.core.errors import Conflict, InvalidInput
from fangkong.core.exports import Export
from fangkong.core.routing import reads_from_replica
from fangkong.core.text import parse_date
from fangkong.core.web import page_context, renders_app_errors
from fangkong.health.models import Colour
from fangkong.health.status import reason_labels
from fangkong.ledger import kinds
from fangkong.ledger.selectors import open_counts_by_unit
from fangkong.orgs.selectors import (
    person_public_fields,
    sensitive_list_view_log,
    unit_get,
)
from fangkong.tracking.kinds import ABNORMAL

from . import home as home_page
from . import people as figure_lists
from . import selectors, services

STATES = ["on_time", "late", "missing", "overdue", "pending", "zero"]


def state_labels() -> dict[str, str]:
    return {
        "on_time": _("On time"),
        "late": _("Late"),
        "missing": _("Missing"),
        "pending": _("Not yet due"),
        "zero": _("Zero report"),
    }


def board_filter_states() -> list[tuple[str, str]]:
    """The board's state filter: "missing" is any unit without a report yet, "overdue" one
    whose deadline has passed too (the row state and the roll-up call it missing).
    """
    labels = state_labels()
    return [
        ("on_time", labels["on_time"]),
        ("late", labels["late"]),
        ("overdue", labels["missing"]),
        ("missing", _("No report yet")),
        ("zero", labels["zero"]),
    ]


def _day(request: HttpRequest) -> dt.date:
    """Return the ``day`` query parameter, today when absent; never after today."""
    value = request.GET.get("day") or request.POST.get("day") or ""
    try:
        day = parse_date(value)
    except ValueError:
        raise InvalidInput(detail={"day": [_("Enter the date as YYYY-MM-DD.")]}) from None
    today = timezone.localdate()
    return min(day, today) if day else today


# ------------------------------------------------------------------ home: today's work


@login_required
@renders_app_errors
def home(request: HttpRequest) -> HttpResponse:
    """Today's work (今日工作) for each of the user's roles; every count links to its list."""
    previous = request.session.get(PREVIOUS_LOGIN)
    assert isinstance(request.user, User)  # login_required
    return render(
        request,
        "reports/home.html",
        {
            "sections": home_page.sections(
                request.user,
                previous_login=dt.datetime.fromisoformat(previous) if previous else None,
            ),
            "today": timezone.localdate(),
            "client_uuid": uuid.uuid4,
        },
    )


# ------------------------------------------------------------------ the reporter's page


@login_required
@renders_app_errors
def today(request: HttpRequest) -> HttpResponse:
    """The reporter's page: one unit's report with its pre-fill, or the units to report."""
    day = _day(request)
    if request.GET.get("unit"):
        unit = selectors.report_unit_get(request.user, request.GET["unit"])
        return _report_page(request, unit, day)
    units = selectors.attestable_units(request.user, day).order_by("path")
    context = page_context(request, units, 30)
    rows = selectors.board_rows(context["page_obj"], day)
    if len(rows) == 1 and context["page_obj"].paginator.count == 1:
        return redirect(f"{reverse('reports:today')}?unit={rows[0]['unit'].pk}&day={day}")
    return render(
        request,
        "reports/today.html",
        {**context, "rows": rows, "day": day, "labels": state_labels()},
    )


def _report_page(request: HttpRequest, unit: Any, day: dt.date) -> HttpResponse:
    figures = selectors.report_prefill(request.user, unit, day)
    history = selectors.report_history(request.user, unit, day)
    deadline = selectors.deadline_for(unit, day)
    return render(
        request,
        "reports/report.html",
        {
            "unit": unit,
            "day": day,
            "figures": figures,
            "current": history[0] if history else None,
            "history": history,
            "deadline": deadline,
            "reports": deadline is not None,
            "can_attest": scope_for(request.user, Perm.ATTEST_REPORT).covers(unit.path),
            "overdue": deadline is not None and not history and timezone.now() > deadline,
            "client_uuid": uuid.uuid4(),
        },
    )


@login_required
@require_POST
@renders_app_errors
def attest(request: HttpRequest) -> HttpResponse:
    """Attest (or correct) a report from the reporter's page; ``zero`` for a zero report."""
    unit = selectors.report_unit_get(request.user, request.POST.get("unit"))
    day = _day(request)
    try:
        key = uuid.UUID(request.POST.get("client_uuid", ""))
    except ValueError:
        key = None
    try:
        report = services.report_attest(
            actor=request.user,
            unit=unit,
            day=day,
            zero=request.POST.get("zero") == "1",
            note=request.POST.get("note", ""),
            client_uuid=key,
        )
    except (InvalidInput, Conflict) as exc:
        messages.error(request, exc.as_text())
    else:
        if report.is_zero:
            messages.success(request, _("Zero report attested."))
        else:
            messages.success(request, _("Report attested (version %(n)d).") % {"n": report.version})
    return redirect(f"{reverse('reports:today')}?unit={unit.pk}&day={day}")


# ------------------------------------------------------------------ the board of all reports


def _board_query(request: HttpRequest) -> tuple[selectors.ReportFilter, Any]:
    unit = (
        selectors.rollup_unit_get(request.user, request.GET["unit"])
        if request.GET.get("unit")
        else None
    )
    state = request.GET.get("state", "")
    filters = selectors.ReportFilter(
        day=_day(request),
        unit=unit,
        state=state if state in STATES else "",
        query=request.GET.get("q", "").strip(),
    )
    return filters, selectors.report_board(request.user, filters)


@login_required
@renders_app_errors
def board(request: HttpRequest) -> HttpResponse:
    """Every reporting unit of a day with its report state: filter, page, export."""
    filters, units = _board_query(request)
    context = page_context(request, units, 50)
    return render(
        request,
        "reports/board.html",
        {
            **context,
            "rows": selectors.board_rows(context["page_obj"], filters.day),
            "filters": filters,
            "labels": state_labels(),
            "states": board_filter_states(),
            "can_export": user_has_perm_anywhere(request.user, Perm.EXPORT),
        },
    )


@login_required
@renders_app_errors
def board_export(request: HttpRequest) -> HttpResponse:
    """Download the filtered board as .xlsx or .csv."""
    scope = scope_for(request.user, Perm.EXPORT)
    export = Export(request, object_type="reports.unitreport", scope=scope)
    filters, units = _board_query(request)
    units = scope.filter(units)
    rows = selectors.board_rows(units, filters.day)
    labels = state_labels()
    headers = [
        _("Date"),
        _("Unit code"),
        _("Unit"),
        _("State"),
        _("Version"),
        _("Zero report"),
        _("Head-count"),
        _("Declared"),
        _("Abnormal"),
        _("Fever"),
        _("Symptoms"),
        _("Contact"),
        _("Risk area"),
        _("Positive"),
        _("In quarantine"),
        _("Travelling / returning"),
        _("Attested by"),
        _("Attested at"),
        _("Note"),
    ]

    def line(row: dict[str, Any]) -> list[Any]:
        r = row["report"]
        unit = row["unit"]
        head = [filters.day.isoformat(), unit.code, unit.name, labels[row["state"]]]
        if r is None:
            return head + [""] * (len(headers) - len(head))
        return [
            *head,
            r.version,
            _("Yes") if r.is_zero else _("No"),
            r.headcount,
            r.declared,
            r.abnormal,
            r.fever,
            r.symptom,
            r.contact,
            r.risk_area,
            r.positive,
            r.quarantine,
            r.returnees,
            str(r.attested_by or ""),
            timezone.localtime(r.attested_at).strftime("%Y-%m-%d %H:%M"),
            r.note,
        ]

    return export.response(
        name=f"reports-{filters.day:%Y%m%d}",
        headers=headers,
        rows=(line(row) for row in rows),
        unit_path=filters.unit.path if filters.unit else "",
        label="reports export",
    )


# ------------------------------------------------------------------ roll-up


FIGURE_COLUMNS = [
    ("expected", gettext_lazy("Expected")),
    ("declared", gettext_lazy("Declared")),
    ("not_declared", gettext_lazy("Not declared")),
    ("completeness", gettext_lazy("Completeness %")),
    ("abnormal", gettext_lazy("Abnormal")),
    ("fever", gettext_lazy("Fever")),
    ("symptom", gettext_lazy("Symptoms")),
    ("contact", gettext_lazy("Contact")),
    ("risk_area", gettext_lazy("Risk area")),
    ("positive", gettext_lazy("Positive")),
    ("quarantine", gettext_lazy("In quarantine")),
]
REPORT_COLUMNS = [
    ("expected", gettext_lazy("Reports expected")),
    ("on_time", gettext_lazy("On time")),
    ("late", gettext_lazy("Late")),
    ("missing", gettext_lazy("Missing")),
    ("zero", gettext_lazy("Zero reports")),
]


@login_required
@reads_from_replica
@renders_app_errors
def rollup(request: HttpRequest) -> HttpResponse:
    """The drill-down: a unit's live figures, its children's, and a 30-day trend."""
    unit = selectors.rollup_unit_or_default(request.user, request.GET.get("unit"))
    day = _day(request)
    today = timezone.localdate()
    data = selectors.rollup(user=request.user, unit=unit, day=day)
    if request.GET.get("format") in ("xlsx", "csv"):
        return _rollup_export(request, data)
    links = _FigureLinks(request.user, day)
    data.total.cells = links.cells(data.total)
    for row in data.children:
        row.cells = links.cells(row)
        row.cells_html = links.cells_html(row.cells)
    return render(
        request,
        "reports/rollup.html",
        {
            "unit": unit,
            "day": day,
            "today": today,
            "data": data,
            "breadcrumbs": selectors.rollup_breadcrumbs(request.user, unit),
            "trend": [
                {**row, "day": row["day"].isoformat()}
                for row in selectors.trend_since_first_data(
                    selectors.trend(
                        user=request.user,
                        unit=unit,
                        days=30,
                        today=day,
                        last=data.total.figures,
                    )
                )
            ],
            "can_export": user_has_perm_anywhere(request.user, Perm.EXPORT),
            "trend_labels": {
                "expected": _("Expected"),
                "declared": _("Declared"),
                "abnormal": _("Abnormal"),
                "reported": _("Reports in"),
            },
            "figure_columns": FIGURE_COLUMNS,
            "report_columns": REPORT_COLUMNS,
            # Cards are counted as they stand now, so only today's page shows them.
            "cards": _abnormal_cards(request.user, unit, data) if day == today else None,
            "team": _team(request.user, unit, day) if not data.children else None,
            "gate": _gate(request.user, unit, day),
        },
    )


def _gate(user: Any, unit: Any, day: dt.date) -> dict[str, Any] | None:
    """The unit's gate figures for the day, where it has checkpoints; the log links only
    for those who may read the gate's log there."""
    if not checkpoint_selectors.has_checkpoints(unit.path):
        return None
    return {
        "figures": checkpoint_selectors.gate_figures(unit.path, day),
        "linked": checkpoint_selectors.may_read_log(user, unit.path),
        "site": unit.pk,
        "day": day,
    }


class _FigureLinks:
    """Each figure of a roll-up row with the link to what it counts: its people (where the
    user may list them) or the report board.

    The page's addresses are reversed and its column labels escaped once, and a sub-unit's
    row of cells is written here (``row.cells_html``): the template spent about 20 µs on
    each of a segment's 1,760 cells (110 enterprises).
    """

    def __init__(self, user: Viewer, day: dt.date) -> None:
        self.user = user
        self.day = day.isoformat()
        self.people = reverse("reports:people")
        self.board = reverse("reports:board")
        self.labels = {key: conditional_escape(label) for key, label in FIGURE_COLUMNS}
        self.labels |= {
            f"reports_{key}": conditional_escape(label) for key, label in REPORT_COLUMNS
        }

    def cells(self, row: Any) -> dict[str, Any]:
        linked = figure_lists.linked_figures(self.user, row.unit.path)
        figures = row.figures.as_dict()
        # The column is headed "%": the rate alone, or "—" where nobody is expected.
        figures["completeness"] = row.figures.completeness if row.figures.expected else "—"
        unit = row.unit.pk
        cells = {
            key: self._cell(
                key,
                label,
                figures[key],
                f"{self.people}?unit={unit}&day={self.day}&figure={key}" if key in linked else "",
            )
            for key, label in FIGURE_COLUMNS
        }
        board = f"{self.board}?unit={unit}&day={self.day}"
        for key, label in REPORT_COLUMNS:
            url = board + ("" if key == "expected" else f"&state={key}")
            cells[f"reports_{key}"] = self._cell(
                f"reports_{key}", label, getattr(row.reports, key), url
            )
        return cells

    @staticmethod
    def _cell(key: str, label: Any, value: Any, url: str) -> dict[str, Any]:
        """What a cell shows: its number, linked where there is a list behind it."""
        shown = conditional_escape(value)
        return {
            "key": key,
            "label": label,
            "value": value,
            "url": url,
            "html": mark_safe(f'<a href="{escape(url)}">{shown}</a>') if url else shown,  # noqa: S308
            "bad": bool(value) and key in ("abnormal", "reports_missing"),
        }

    def cells_html(self, cells: dict[str, Any]) -> SafeString:
        """A sub-unit's figure cells, each with its column's name for the phone layout."""
        return mark_safe(  # noqa: S308  (labels, numbers and links escaped above)
            "".join(
                f'<td class="num{" bad" if cell["bad"] else ""}" '
                f'data-label="{self.labels[key]}" data-figure="{key}">{cell["html"]}</td>'
                for key, cell in cells.items()
            )
        )


def _team(user: Viewer, unit: Any, day: dt.date) -> dict[str, Any] | None:
    """A team's own people with the day's status (the status only for health readers)."""
    people = figure_lists.team_people(user, unit, day)
    if people is None:
        return None
    health = scope_for(user, Perm.VIEW_HEALTH).covers(unit.path)
    return {"rows": [_status_row(person, health) for person in people], "health": health}


def _status_row(person: Any, health: bool) -> dict[str, Any]:
    """What a list shows of a person's day: declared or not, and the status to health readers."""
    row = {"person": person, "declared_at": person.declared_at}
    if health and person.day_status:
        row["status"] = person.day_status
        row["status_label"] = Colour(person.day_status).label
        row["reasons"] = reason_labels(person.day_reasons or [])
    return row


def _abnormal_cards(user: Viewer, unit: Any, data: Any) -> dict[str, Any]:
    """Open abnormal-person cards in all and per child (set on each child's unit).

    The counts are for every roll-up reader; the links to the cards only where the reader
    may see them (the kind's view permission), never a link that answers 403.
    """
    children = [row.unit for row in data.children]
    by_unit = open_counts_by_unit(user, kind=ABNORMAL, unit=unit, children=children)
    cards_scope = scope_for(user, kinds.get(ABNORMAL).view_perm)
    unit.cards_linked = cards_scope.covers(unit.path)
    for row in data.children:
        row.unit.cards = by_unit.get(row.unit.pk)
        row.unit.cards_linked = cards_scope.covers(row.unit.path)
    total = {
        name: sum(counts[name] for counts in by_unit.values())
        for name in ("open", "overdue", "closing")
    }
    return {"total": total, "kind": ABNORMAL}


def _rollup_export(request: HttpRequest, data: Any) -> HttpResponse:
    export = Export(
        request, object_type="reports.rollup", scope=scope_for(request.user, Perm.EXPORT)
    )
    headers = [_("Unit code"), _("Unit")]
    headers += [str(label) for _key, label in FIGURE_COLUMNS]
    headers += [str(label) for _key, label in REPORT_COLUMNS]

    def line(row: Any) -> list[Any]:
        figures, reports = row.figures.as_dict(), row.reports.as_dict()
        return [
            row.unit.code,
            row.unit.name,
            *[figures[key] for key, _label in FIGURE_COLUMNS],
            *[reports[key] for key, _label in REPORT_COLUMNS],
        ]

    return export.response(
        name=f"rollup-{data.total.unit.code}-{data.day:%Y%m%d}",
        headers=headers,
        rows=(line(row) for row in [data.total, *data.children]),
        unit_path=data.total.unit.path,
        label=f"roll-up {data.total.unit.code} {data.day}",
    )


# ------------------------------------------------------------------ the people behind a figure

PEOPLE_EXPORT_LIMIT = 200_000


def _people_query(request: HttpRequest) -> tuple[Any, Any, dt.date, Any]:
    """Read figure, unit and day; return (figure, unit, day, people) or refuse (4xx)."""
    figure = figure_lists.figure_get(request.GET.get("figure", ""))
    if request.GET.get("unit"):
        unit = unit_get(request.user, request.GET["unit"])
    else:
        unit = selectors.rollup_unit_or_default(request.user, None)
    day = _day(request)
    people = figure_lists.figure_people(
        request.user, figure=figure, unit=unit, day=day, query=request.GET.get("q", "")
    )
    return figure, unit, day, people


@login_required
@renders_app_errors
def people(request: HttpRequest) -> HttpResponse:
    """The people one roll-up figure counts, at a unit and below on a day: search, page, export."""
    figure, unit, day, people = _people_query(request)
    context = page_context(request, people, 50)
    sensitive = scope_for(request.user, Perm.VIEW_SENSITIVE)
    health = scope_for(request.user, Perm.VIEW_HEALTH).covers(unit.path)
    page = list(context["page_obj"])
    rows = [
        {
            **_status_row(p, health),
            "shown": person_public_fields(p, sensitive_scope=sensitive),
            "unit_label": p.unit.place,
        }
        for p in page
    ]
    sensitive_list_view_log(
        request.user, [row["person"].pk for row in rows if not row["shown"]["masked"]]
    )
    return render(
        request,
        "reports/people.html",
        {
            **context,
            "figure": figure,
            "figures": [
                f
                for f in figure_lists.FIGURES.values()
                if scope_for(request.user, f.perm).covers(unit.path)
            ],
            "unit": unit,
            "day": day,
            "today": timezone.localdate(),
            "rows": rows,
            "health": health,
            "query": request.GET.get("q", ""),
            "can_export": user_has_perm_anywhere(request.user, Perm.EXPORT),
        },
    )


@login_required
@renders_app_errors
def people_export(request: HttpRequest) -> HttpResponse:
    """Download a figure's people as .xlsx or .csv, masked as on screen, with an audit row."""
    export, scope = export_with_numbers(request, "orgs.person")
    figure, unit, day, people = _people_query(request)
    people = scope.filter(people, "unit_path")
    export.check_size(people.count(), PEOPLE_EXPORT_LIMIT)
    health = scope_for(request.user, Perm.VIEW_HEALTH).covers(unit.path)
    headers = [
        pgettext("person", "Name"),
        _("Unit"),
        _("Unit code"),
        _("Document number"),
        _("Phone"),
        _("Declared at"),
    ]
    if health:
        headers += [_("Status"), _("Reasons")]

    def line(person: Any) -> list[Any]:
        row = _status_row(person, health)
        id_number, phone = export.numbers(person)
        declared_at = person.declared_at
        cells = [
            person.name,
            person.unit.place,
            person.unit.code,
            id_number,
            phone,
            timezone.localtime(declared_at).strftime("%Y-%m-%d %H:%M") if declared_at else "",
        ]
        if health:
            cells += [row.get("status_label", ""), "、".join(row.get("reasons", []))]
        return cells

    return export.response(
        name=f"{figure.key}-{unit.code}-{day:%Y%m%d}",
        headers=headers,
        rows=(line(p) for p in people.iterator(chunk_size=2000)),
        unit_path=unit.path,
        label=f"{figure.key} {unit.code} {day}",
    )
