"""A service centre with one station and a window, its staff and services."""

import re
from dataclasses import dataclass

from fangkong.accounts.models import User
from fangkong.evaluation import services
from fangkong.evaluation.models import Offering, Service, Staff, Window
from fangkong.orgs.models import OrgUnit, UnitKind
from fangkong.orgs.services import unit_create
from fangkong.testing import at, travel  # noqa: F401  (the tests import them from here)


@dataclass
class Centre:
    centre: OrgUnit
    station: OrgUnit
    window: Window
    staff: Staff
    social: Service
    housing: Service
    head: User
    supervisor: User
    clerk: User


def build_centre(org) -> Centre:
    centre = unit_create(
        actor=None,
        code="ZB",
        name="淄博保税物流园区便民服务中心",
        kind=UnitKind.SERVICE_CENTRE,
        parent=org.group,
    )
    station = unit_create(
        actor=None,
        code="ZB01",
        name="东营村便民服务站",
        kind=UnitKind.SERVICE_STATION,
        parent=centre,
    )
    social = Service.objects.create(code="SB001", name="社保参保登记", category="社保")
    housing = Service.objects.create(code="BDC01", name="不动产登记", category="不动产")
    Offering.objects.create(service=social, unit=centre, unit_path=centre.path)
    Offering.objects.create(service=housing, unit=station, unit_path=station.path)
    head = org.user("service_head", centre)
    window = services.window_create(actor=head, unit=station, number="3", name="综合窗口")
    clerk = org.user("window_staff", station)
    staff = services.staff_assign(
        actor=head, user=clerk, window=window, name="王晓红", staff_number="ZB0103"
    )
    return Centre(
        centre=centre,
        station=station,
        window=window,
        staff=staff,
        social=social,
        housing=housing,
        head=head,
        supervisor=org.user("supervisor", centre),
        clerk=clerk,
    )


def rated(c: Centre, level: int, *, when: str = "2026-09-30", hhmm: str = "10:00", tags=()):
    """A case registered by the clerk and rated ``level`` at the given instant."""
    with travel(when, hhmm):
        case = services.case_register(actor=c.clerk, service=c.social)
        return services.rate(case=case, new=services.NewRating(level=level, tags=list(tags)))


def rows_behind(client, url: str, count_id: str) -> int:
    """How many rows the list at ``url`` (as a page's link writes it) says it holds, read
    from its count line (``id=count_id``): what a number on another page links to."""
    page = client.get(url.replace("&amp;", "&"))
    assert page.status_code == 200, (url, page.status_code)
    found = re.search(rf'id="{count_id}">(\d+)', page.content.decode())
    assert found, url
    return int(found.group(1))
