"""Queue jobs of service evaluation: they only call services."""

from django.utils import timezone

from . import services


def follow_ups_expire() -> int:
    """Periodic: close the bad reviews whose follow-up review did not come in time."""
    return services.follow_ups_expire(now=timezone.now())


def monthly_publication() -> dict[str, int]:
    """Daily, acting on the 1st for the month before: the monthly report PDFs and the
    ranking alerts (each recorded, so a second run makes and sends nothing twice)."""
    from . import ranking, report

    now = timezone.now()
    return {
        "reports": report.monthly_reports(now=now),
        "alerts": ranking.monthly_ranking_alerts(now=now),
    }
