"""/api/v1 endpoints of daily reports and the roll-up. Thin: selectors and services work."""

from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import Query, Router, Status
from ninja.decorators import decorate_view
from ninja.pagination import paginate

from fangkong.core.routing import reads_from_replica
from fangkong.core.schema import Day, ObjectId, Pages
from fangkong.orgs.selectors import unit_get

from . import selectors, services
from .models import UnitReport
from .schemas import BoardRowOut, ReportIn, ReportOut, RollupOut, TrendOut

router = Router(tags=["reports"])


def report_out(report: UnitReport) -> dict[str, Any]:
    data = {
        name: getattr(report, name)
        for name in ReportOut.model_fields
        if name not in ("attested_by", "unit_id")
    }
    data["unit_id"] = report.unit_id
    data["attested_by"] = report.attested_by.username if report.attested_by else None
    return data


class BoardPage:
    """The board's units, turned into rows (with their reports) one page at a time."""

    def __init__(self, units: Any, day: Day) -> None:
        self.units, self.day = units, day

    def __len__(self) -> int:
        return self.units.count()

    def __getitem__(self, window: slice) -> list[dict[str, Any]]:
        return [
            {
                "unit_id": row["unit"].pk,
                "code": row["unit"].code,
                "name": row["unit"].name,
                "day": self.day,
                "deadline": row["unit"].deadline,
                "state": row["state"],
                "report": report_out(row["report"]) if row["report"] else None,
            }
            for row in selectors.board_rows(self.units[window], self.day)
        ]


@router.get("/reports", response=list[BoardRowOut])
@paginate(Pages, page_size=50)
def list_reports(
    request: HttpRequest, unit: ObjectId | None = None, day: Day | None = None, state: str = ""
) -> Any:
    """The reporting units of a day under ``unit`` with their current report and state."""
    day = day or timezone.localdate()
    scope_unit = selectors.rollup_unit_get(request.user, unit) if unit else None
    filters = selectors.ReportFilter(day=day, unit=scope_unit, state=state)
    return BoardPage(selectors.report_board(request.user, filters), day)


@router.post("/reports", response={200: ReportOut, 201: ReportOut})
def attest_report(request: HttpRequest, payload: ReportIn) -> Any:
    """Attest (or correct) a unit's report; the same ``uuid`` sent again changes nothing."""
    unit = unit_get(request.user, payload.unit_id)
    replay = payload.uuid is not None and UnitReport.objects.filter(uuid=payload.uuid).exists()
    report = services.report_attest(
        actor=request.user,
        unit=unit,
        day=payload.day or timezone.localdate(),
        zero=payload.zero,
        note=payload.note,
        client_uuid=payload.uuid,
    )
    return Status(200 if replay else 201, report_out(report))


@router.get("/rollup", response=RollupOut)
@decorate_view(reads_from_replica)
def rollup(request: HttpRequest, unit: ObjectId | None = None, day: Day | None = None) -> Any:
    """Live figures of a unit and each of its open children for one day."""
    data = selectors.rollup(
        user=request.user,
        unit=selectors.rollup_unit_or_default(request.user, unit),
        day=day or timezone.localdate(),
    )
    return {
        "day": data.day,
        "unit": data.total.as_dict(),
        "children": [row.as_dict() for row in data.children],
    }


@router.get("/rollup/trend", response=list[TrendOut])
@decorate_view(reads_from_replica)
def rollup_trend(
    request: HttpRequest, unit: ObjectId | None = None, days: int = Query(30, ge=1, le=92)
) -> Any:
    """Per day for the last ``days`` (at most 92): expected, declared, abnormal, reports."""
    return selectors.trend(
        user=request.user, unit=selectors.rollup_unit_or_default(request.user, unit), days=days
    )
