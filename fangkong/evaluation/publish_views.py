"""The published figures (信息公开): a page per centre and station, no log-in, and its
monthly report PDFs.

The page's data is cached per unit, period and language for a short while
(``PUBLIC_TTL``), so a flood of visitors costs one computation per minute, not one each.
"""

from typing import Any

from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone, translation
from django.views.decorators.http import require_GET

from fangkong.core.web import renders_app_errors
from fangkong.orgs.models import OrgUnit

from .figures import SERVICE_UNIT_KINDS, Period, month_period, parse_month
from .models import MonthlyReport
from .report import published

PUBLIC_TTL = 60  # seconds


def _unit(code: str) -> OrgUnit:
    unit = OrgUnit.objects.filter(code=code, kind__in=SERVICE_UNIT_KINDS).open_on().first()
    if unit is None:
        raise Http404
    return unit


def cache_key(unit: OrgUnit, period: Period) -> str:
    return f"evaluation:public:{unit.pk}:{period.key}:{translation.get_language()}"


def public_data(unit: OrgUnit, period: Period) -> dict[str, Any]:
    """The page's data from the cache, computed once per ``PUBLIC_TTL``."""
    key = cache_key(unit, period)
    data = cache.get(key)
    if data is None:
        data = published(unit, period)
        data["computed_at"] = timezone.localtime().strftime("%Y-%m-%d %H:%M")
        cache.set(key, data, PUBLIC_TTL)
    return data


@require_GET
@renders_app_errors
def public_page(request: HttpRequest, code: str) -> HttpResponse:
    """A centre's or station's published figures; ``?month=2026-09`` picks a month (by
    default this month so far)."""
    unit = _unit(code)
    today = timezone.localdate()
    month = request.GET.get("month")
    period = parse_month(month) if month else month_period(today)
    if period.end > today:
        period = Period(period.start, max(period.start, today))
    reports = list(
        MonthlyReport.objects.filter(unit=unit)
        .order_by("-month")
        .values_list("month", flat=True)[:24]
    )
    return render(
        request,
        "evaluation/public.html",
        {
            "unit": unit,
            "data": public_data(unit, period),
            "month": f"{period.start:%Y-%m}",
            "reports": reports,
        },
    )


@require_GET
@renders_app_errors
def public_report(request: HttpRequest, code: str, month: str) -> HttpResponse:
    """A monthly report's PDF."""
    unit = _unit(code)
    period = parse_month(month)
    report = MonthlyReport.objects.filter(unit=unit, month=period.start).first()
    if report is None:
        raise Http404
    response = HttpResponse(bytes(report.pdf), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{unit.code}-{period.start:%Y-%m}.pdf"'
    return response
