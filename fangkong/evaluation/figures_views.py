"""The figures page: a unit's (or a window's, a staff member's, a service's) figures over a
period, grouped by sub-unit, window, staff member or service, ranked, charted and exported.

Viewers with *view evaluation* pick any unit of their scope; window staff see their own
figures only. Each number links to the list it counts: the bad reviews' list with the
same filters, or the figures of that row.
"""

from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.accounts.models import User
from fangkong.accounts.roles import Perm
from fangkong.accounts.selectors import scope_for, user_has_perm_anywhere
from fangkong.core.errors import InvalidInput, NotFound, PermissionDenied
from fangkong.core.exports import Export
from fangkong.core.paths import subtree_q
from fangkong.core.routing import reads_from_replica
from fangkong.core.web import renders_app_errors
from fangkong.orgs.models import OrgUnit, UnitKind
from fangkong.orgs.selectors import unit_get

from .figures import (
    BAD_REVIEW_FIGURES,
    GROUPS,
    LEVELS,
    SERVICE_UNIT_KINDS,
    Figures,
    Period,
    Row,
    Scope,
    coverage,
    figures_of,
    parse_period,
    ranked,
    rows_by,
)
from .models import Level, Service, Staff, Window

# The bad reviews' list (review_views.py) takes these filters: unit, window, staff,
# service, state, from, to.
REVIEWS_URL = "/evaluation/reviews/"


def _id(request: HttpRequest, name: str) -> int | None:
    value = request.GET.get(name, "").strip()
    if not value:
        return None
    if not value.isdigit() or len(value) > 18:
        message = _("Choose an entry from the list.")
        raise InvalidInput(message, detail={name: [message]})
    return int(value)


def _default_unit(user: Any) -> OrgUnit:
    """The first service centre or station of the viewer's scope, else its first root."""
    scope = scope_for(user, Perm.VIEW_EVALUATION)
    units = scope.filter(OrgUnit.objects.open_on(), "path")
    unit = units.filter(kind__in=SERVICE_UNIT_KINDS).order_by("depth", "path").first()
    unit = unit or units.order_by("depth", "path").first()
    if unit is None:
        raise PermissionDenied()
    return unit


def _narrowed(request: HttpRequest, unit: OrgUnit) -> Scope:
    """The scope of the figures: the unit's subtree, narrowed by window, staff, service."""
    inside = subtree_q("unit_path", unit.path)
    window_id, staff_id, service_id = (
        _id(request, "window"),
        _id(request, "staff"),
        _id(request, "service"),
    )
    if window_id and not Window.objects.filter(inside, pk=window_id).exists():
        raise NotFound()
    if (
        staff_id
        and not Staff.objects.filter(
            subtree_q("window__unit_path", unit.path), pk=staff_id
        ).exists()
    ):
        raise NotFound()
    if service_id and not Service.objects.filter(pk=service_id).exists():
        raise NotFound()
    return Scope(unit.path, window_id=window_id, staff_id=staff_id, service_id=service_id)


class Links:
    """The list behind each number, for one row's filters."""

    def __init__(self, unit: OrgUnit, period: Period, scope: Scope) -> None:
        self.base = {
            "unit": unit.pk,
            "from": period.start.isoformat(),
            "to": period.end.isoformat(),
        }
        for name, value in (
            ("window", scope.window_id),
            ("staff", scope.staff_id),
            ("service", scope.service_id),
        ):
            if value:
                self.base[name] = value

    def reviews(self, params: dict[str, Any], state: str = "", figure: str = "") -> str:
        """The bad-review list behind a count: as the figures, without the ratings an
        upheld appeal excluded (``counted``), narrowed to one figure's reviews."""
        query = {**self.base, **{k: v for k, v in params.items() if v not in ("", None)}}
        if figure != "upheld":  # those are the excluded ones
            query["counted"] = 1
        if state:
            query["state"] = state
        if figure:
            query["figure"] = figure
        return f"{REVIEWS_URL}?{urlencode(query)}"

    def ratings(self, params: dict[str, Any], level: int | None = None) -> str:
        """The ratings' list behind a count of ratings (of one level): those counted."""
        query = {**self.base, **{k: v for k, v in params.items() if v not in ("", None)}}
        query["counted"] = 1
        if level is not None:
            query["level"] = level
        return f"{reverse('evaluation:ratings')}?{urlencode(query)}"

    def behind_figures(self, params: dict[str, Any]) -> dict[str, str]:
        """The list behind each figure of a row (or of the totals)."""
        return {
            "ratings": self.ratings(params),
            "reviews": self.reviews(params),
            "open": self.reviews(params, "open"),
            **{figure: self.reviews(params, figure=figure) for figure in BAD_REVIEW_FIGURES},
        }

    def figures(self, params: dict[str, Any], group: str = "") -> str:
        query = {**self.base, **{k: v for k, v in params.items() if v not in ("", None)}}
        if group:
            query["group"] = group
        return f"{reverse('evaluation:figures')}?{urlencode(query)}"


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value}%"


def _chart(rows: list[Row]) -> dict[str, Any]:
    return {
        "labels": [row.label for row in rows],
        "levels": {str(level): [row.figures.levels[level] for row in rows] for level in LEVELS},
        "good_rate": [row.figures.good_rate for row in rows],
        "names": {str(level): str(Level(level).label) for level in LEVELS},
        "good_rate_name": _("Good reviews"),
    }


@login_required
@reads_from_replica
@renders_app_errors
def figures(request: HttpRequest) -> HttpResponse:
    """The figures of a unit (or of the window staff member's own work) over a period."""
    user = request.user
    today = timezone.localdate()
    period = parse_period(request.GET.get("from"), request.GET.get("to"), today)
    own_only = not user_has_perm_anywhere(user, Perm.VIEW_EVALUATION)
    if own_only:
        staff = (
            Staff.objects.filter(user=user).select_related("window__unit").first()
            if isinstance(user, User)
            else None
        )
        if staff is None:
            raise PermissionDenied()
        unit = staff.window.unit
        scope = Scope(unit.path, staff_id=staff.pk)
        group = ""
    else:
        unit_id = request.GET.get("unit")
        unit = unit_get(user, unit_id, Perm.VIEW_EVALUATION) if unit_id else _default_unit(user)
        scope = _narrowed(request, unit)
        group = request.GET.get("group") or (
            "window" if unit.kind == UnitKind.SERVICE_STATION else "unit"
        )
        if group not in GROUPS:
            raise InvalidInput(
                _("Choose a grouping from the list."),
                detail={"group": [_("Choose a grouping from the list.")]},
            )
        if (scope.staff_id and group == "staff") or (scope.window_id and group == "window"):
            group = "service"
    total = figures_of(scope, period)
    rows = rows_by(scope, period, group) if group else []
    ranking = ranked(rows) if group else []
    links = Links(unit, period, scope)
    if request.GET.get("format") in ("xlsx", "csv"):
        return _export(request, unit, period, total, rows, group)
    for row in rows:
        row.links = {  # type: ignore[attr-defined]
            "figures": links.figures(row.params, "window" if group == "unit" else ""),
            # window staff see their figures, not the bad-review list
            **({} if own_only else links.behind_figures(row.params)),
        }
    cover = coverage(unit, period) if not own_only and not scope.window_id else None
    last_rank = ranking[-1].rank if len(ranking) > 1 else None
    return render(
        request,
        "evaluation/figures.html",
        {
            "unit": unit,
            "period": period,
            "today": today,
            "own_only": own_only,
            "scope": scope,
            "group": group,
            "groups": list(GROUPS.items()),
            "total": total,
            "levels": [
                (
                    Level(level).label,
                    count,
                    _percent(share),
                    "" if own_only else links.ratings({}, level),
                )
                for level, count, share in total.level_shares()
            ],
            "rows": rows,
            "ranking": ranking,
            "last_rank": last_rank,
            "coverage": cover,
            "coverage_grid": [(s.name, cells) for s, cells in cover.grid()] if cover else [],
            "coverage_units": [u.name for u in cover.units] if cover else [],
            "links": {} if own_only else links.behind_figures({}),
            "chart": _chart(rows),
            "can_export": not own_only and user_has_perm_anywhere(user, Perm.EXPORT),
            "query": request.GET.urlencode(),
        },
    )


COLUMNS = [
    "ratings",
    "good_rate",
    "bad_rate",
    "rated_rate",
    "cases",
    "bad",
    "callback_rate",
    "callback_on_time_rate",
    "fix_rate",
    "fix_on_time_rate",
    "follow_up_rate",
    "appeals_upheld",
]


def column_labels() -> list[str]:
    labels = {
        "ratings": _("Ratings"),
        "good_rate": _("Good reviews (%)"),
        "bad_rate": _("Bad reviews (%)"),
        "rated_rate": _("Rated cases (%)"),
        "cases": _("Cases"),
        "bad": _("Bad reviews"),
        "callback_rate": _("Called back (%)"),
        "callback_on_time_rate": _("Called back on time (%)"),
        "fix_rate": _("Rectified (%)"),
        "fix_on_time_rate": _("Rectified on time (%)"),
        "follow_up_rate": _("Satisfied after the fix (%)"),
        "appeals_upheld": _("Appeals upheld"),
    }
    return [labels[key] for key in COLUMNS]


def _export(
    request: HttpRequest,
    unit: OrgUnit,
    period: Period,
    total: Figures,
    rows: list[Row],
    group: str,
) -> HttpResponse:
    """The table as a spreadsheet (audited by ``core.exports``)."""
    export = Export(
        request, object_type="evaluation.figures", scope=scope_for(request.user, Perm.EXPORT)
    )
    headers = [
        str(GROUPS[group]) if group else _("Unit"),
        *column_labels(),
        *[str(Level(level).label) for level in LEVELS],
    ]

    def line(label: str, f: Figures) -> list[Any]:
        values = f.as_dict()
        return [label, *[values[key] for key in COLUMNS], *f.levels.values()]

    lines = [line(_("Total: %(unit)s") % {"unit": unit.name}, total)]
    lines += [line(row.label, row.figures) for row in rows]
    return export.response(
        name=f"evaluation-{unit.code}-{period.key}",
        headers=headers,
        rows=lines,
        unit_path=unit.path,
        label=f"evaluation figures {unit.code} {period.key}",
    )
