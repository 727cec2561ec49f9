"""What is published (信息公开) of a centre or station, and its monthly report as PDF.

The public page and the report show the same things: the score and the counts, the
coverage, and the bad reviews of the period with their rectification status and the public
reply. Nothing personal: no person's name or phone (a case's), no ID number, no staff
member's full name (masked: 王*红), and not the rating's free text, which a person may
fill with anything; the tags they chose say what went wrong.

The report is made on the 1st for the month before (a daily job acting on the 1st; a
report already made is kept), always in Chinese, as the quarantine notice is.
"""

import datetime as dt
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone, translation

from fangkong.core.masking import name_masked
from fangkong.core.paths import subtree_q
from fangkong.orgs.models import OrgUnit

from .figures import SERVICE_UNIT_KINDS, Period, Scope, coverage, figures_of, month_period
from .ledger_kind import BAD_REVIEW
from .models import BadReview, Level, MonthlyReport, Outcome

REPORT_LANGUAGE = "zh-hans"
PUBLIC_REVIEWS = 100  # the latest bad reviews of the period on the public page


def _state_labels() -> dict[str, str]:
    return {state.key: str(state.label) for state in BAD_REVIEW.states}


def public_reviews(
    unit: OrgUnit, period: Period, limit: int = PUBLIC_REVIEWS
) -> list[dict[str, Any]]:
    """The period's bad reviews as the public may read them (newest first)."""
    states = _state_labels()
    rows = (
        BadReview.objects.filter(
            subtree_q("rating__unit_path", unit.path),
            rating__rated_at__gte=period.since,
            rating__rated_at__lt=period.until,
            rating__excluded=False,
        )
        .select_related("rating__service", "rating__window", "rating__staff", "item")
        .order_by("-rating__rated_at", "-pk")[:limit]
    )
    reviews = []
    for bad in rows:
        rating = bad.rating
        reviews.append(
            {
                "at": timezone.localtime(rating.rated_at).strftime("%Y-%m-%d"),
                "service": rating.service.name,
                "window": str(rating.window) if rating.window else "",
                "staff": name_masked(rating.staff.name) if rating.staff else "",
                "level": str(Level(rating.level).label),
                "tags": "、".join(rating.tags),
                "state": states.get(bad.item.state, "") if bad.item else "",
                "closed": bool(bad.item and not bad.item.is_open),
                "outcome": str(Outcome(bad.outcome).label) if bad.outcome else "",
                "rectified": bad.rectified_at is not None,
                "reply": bad.reply,
            }
        )
    return reviews


def published(unit: OrgUnit, period: Period) -> dict[str, Any]:
    """Everything the public page and the report show, as plain data (it is cached)."""
    figures = figures_of(Scope(unit.path), period)
    cover = coverage(unit, period)
    return {
        "unit_name": unit.name,
        "unit_code": unit.code,
        "start": period.start,
        "end": period.end,
        "figures": figures.as_dict(),
        "levels": [
            {"level": level, "label": str(Level(level).label), "count": count, "share": share}
            for level, count, share in figures.level_shares()
        ],
        "coverage": {
            "offered": cover.offered_count,
            "covered": cover.covered_count,
            "rate": cover.rate,
            "units": [u.name for u in cover.units],
            "grid": [(service.name, cells) for service, cells in cover.grid()],
        },
        "reviews": public_reviews(unit, period),
    }


# ------------------------------------------------------------------ the monthly PDF


def report_pdf(unit: OrgUnit, period: Period) -> tuple[bytes, dict[str, Any]]:
    """The month's report of ``unit`` as PDF bytes, and the figures it shows."""
    from weasyprint import HTML  # imported here: loading Pango takes a moment

    with translation.override(REPORT_LANGUAGE):
        data = published(unit, period)
        html = render_to_string("evaluation/report_pdf.html", {"data": data})
    return bytes(HTML(string=html).write_pdf()), data["figures"]


def report_make(unit: OrgUnit, month: Period) -> MonthlyReport | None:
    """Make ``unit``'s report for ``month`` unless it exists; None when it did."""
    if MonthlyReport.objects.filter(unit=unit, month=month.start).exists():
        return None
    pdf, figures = report_pdf(unit, month)
    try:
        with transaction.atomic():
            return MonthlyReport.objects.create(
                unit=unit, month=month.start, pdf=pdf, figures=figures
            )
    except IntegrityError:  # made meanwhile by another run
        return None


def monthly_reports(*, now: dt.datetime | None = None) -> int:
    """The daily job: on the 1st, every centre's and station's report for the month
    before; other days nothing. Returns how many were made."""
    today = timezone.localdate(now or timezone.now())
    if today.day != 1:
        return 0
    month = month_period(today - dt.timedelta(days=1))
    # units open during the month (created later in the day than its data is fine)
    units = OrgUnit.objects.filter(kind__in=SERVICE_UNIT_KINDS).filter(
        Q(valid_to__isnull=True) | Q(valid_to__gt=month.start)
    )
    return sum(1 for unit in units.order_by("path") if report_make(unit, month))
