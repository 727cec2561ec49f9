"""The ranking alert: a window or staff member at the bottom of its centre's ranking two
months running is told to the centre's head and supervisors.

The job runs daily and acts on the 1st (local date) for the month before; each alert is
recorded (``RankingAlert``), so a second run on the same day, or a retried job, sends
nothing twice.
"""

import datetime as dt
from urllib.parse import urlencode

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from fangkong.ledger.owners import owners_for_paths
from fangkong.notify.models import Event
from fangkong.notify.services import notify
from fangkong.orgs.models import OrgUnit, UnitKind

from .figures import Period, Row, Scope, bottom, month_period, ranked, rows_by
from .models import RankingAlert, Staff, Window
from .services import ALERT_ROLES


def bottoms(centre: OrgUnit, period: Period, group: str) -> dict[int, Row]:
    """The windows or staff members (by id) at the bottom of the centre's ranking."""
    rows = ranked(rows_by(Scope(centre.path), period, group))
    return {row.key: row for row in bottom(rows)}


def _figures_link(centre: OrgUnit, period: Period, group: str) -> str:
    query = {"unit": centre.pk, "from": period.start, "to": period.end, "group": group}
    return f"{reverse('evaluation:figures')}?{urlencode(query)}"


def ranking_alerts(*, month: Period, now: dt.datetime | None = None) -> int:
    """Alert every centre whose windows or staff were at the bottom in ``month`` and the
    month before; return how many alerts were sent (recorded ones are not sent again)."""
    earlier = month.previous_month()
    sent = 0
    centres = OrgUnit.objects.filter(kind=UnitKind.SERVICE_CENTRE).filter(
        Q(valid_to__isnull=True) | Q(valid_to__gt=month.start)
    )
    for centre in centres:
        for group in ("window", "staff"):
            now_bottom = bottoms(centre, month, group)
            before = bottoms(centre, earlier, group)
            for key in sorted(set(now_bottom) & set(before)):
                if _alert(centre, month, group, key, now_bottom[key]):
                    sent += 1
    return sent


@transaction.atomic
def _alert(centre: OrgUnit, month: Period, group: str, key: int, row: Row) -> bool:
    holder: dict[str, Window | Staff] = (
        {"window": Window.objects.get(pk=key)}
        if group == "window"
        else {"staff": Staff.objects.get(pk=key)}
    )
    try:
        with transaction.atomic():
            RankingAlert.objects.create(centre=centre, month=month.start, **holder)
    except IntegrityError:  # recorded by an earlier run
        return False
    with translation.override(settings.LANGUAGE_CODE):
        what = (_("Window %(name)s") if group == "window" else _("Staff member %(name)s")) % {
            "name": row.label
        }
        subject = _("%(unit)s: %(what)s at the bottom of the ranking two months running") % {
            "unit": centre.name,
            "what": what,
        }
        body = _(
            "%(what)s ranked last by the rate of good reviews in %(month)s and in the "
            "month before: %(good)s%% good, %(bad)d bad of %(n)d ratings."
        ) % {
            "what": what,
            "month": f"{month.start:%Y-%m}",
            "good": row.figures.good_rate,
            "bad": row.figures.bad_ratings,
            "n": row.figures.ratings,
        }
    notify(
        event=Event.RANKING_ALERT,
        unit=centre,
        subject=subject,
        body=body,
        link=_figures_link(centre, month, group),
        to_users=owners_for_paths([centre.path], ALERT_ROLES)[centre.path],
    )
    return True


def monthly_ranking_alerts(*, now: dt.datetime | None = None) -> int:
    """The daily job: on the 1st, the alerts for the month before; other days nothing."""
    today = timezone.localdate(now or timezone.now())
    if today.day != 1:
        return 0
    return ranking_alerts(month=month_period(today - dt.timedelta(days=1)), now=now)
