"""Demo quarantine data: the two sites of the demo organisation with rooms, a few people
placed there (one of them at home), their checks, and the trip that brought them.

Deterministic: the same people (the first residents of the sites' enterprise, by id) and
the same rooms every time; the dates count back from today so the occupancy view shows
releases due today and tomorrow.
"""

import datetime as dt
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from fangkong.core.paths import subtree_q
from fangkong.orgs.models import OrgUnit, Person

from . import services
from .models import Level, Mode, Site

SITES = {
    # unit code: (address, contact, phone, rooms as (first number, count, beds))
    "QS1": ("淄博市张店区铝城路18号", "王建国", "13905330001", [(101, 12, 1), (201, 8, 2)]),
    "QS2": ("淄博市张店区培训中心路6号", "刘志强", "13905330002", [(101, 10, 2)]),
}
# (days ago the quarantine started, level, room index at QS1, checks to record)
PLACEMENTS = [
    (14, Level.HIGH, 0, 2),  # planned release today
    (13, Level.HIGH, 1, 2),  # tomorrow
    (10, Level.HIGH, 2, 2),
    (6, Level.MEDIUM, 3, 1),  # 7 days: tomorrow
    (3, Level.HIGH, 12, 1),  # a two-bed room
    (1, Level.HIGH, 12, 0),
]


def _sites() -> dict[str, Site]:
    made = {}
    for code, (address, contact, phone, blocks) in SITES.items():
        unit = OrgUnit.objects.filter(code=code).first()
        if unit is None:
            continue
        site = services.site_create(
            actor=None,
            unit=unit,
            name=unit.name,
            address=address,
            contact_name=contact,
            contact_phone=phone,
        )
        for first, count, beds in blocks:
            for n in range(count):
                services.room_create(actor=None, site=site, number=str(first + n), capacity=beds)
        made[code] = site
    return made


def _people(site: Site, count: int) -> list[Person]:
    """The first active residents of the enterprise that runs the site (its parent unit)."""
    owner = site.unit.parent or site.unit
    people = Person.objects.filter(subtree_q("unit_path", owner.path), is_active=True)
    return list(people.select_related("unit").order_by("pk")[:count])


@transaction.atomic
def seed_quarantine() -> dict[str, int]:
    """Create the demo sites, rooms, placements, checks and one trip; return counts."""
    sites = _sites()
    site = sites.get("QS1")
    if site is None:
        return {"sites": len(sites), "placements": 0, "trips": 0}
    today = timezone.localdate()
    rooms = list(site.rooms.order_by("number"))
    people = _people(site, len(PLACEMENTS) + 1)
    placed = []
    for person, (ago, level, room_index, checks) in zip(people, PLACEMENTS, strict=False):
        room = rooms[room_index]
        placement = services.placement_start(
            actor=None,
            person=person,
            mode=Mode.CENTRALISED,
            level=level,
            start=today - dt.timedelta(days=ago),
            site=site,
            room=room,
            reason="返岗前14天内到过高风险地区" if level == Level.HIGH else "中风险地区返回",
        )
        for n in range(checks):
            services.placement_check(
                actor=None,
                placement=placement,
                temperature=Decimal("36.4") + Decimal(n) / 10,
                note="无不适",
                at=timezone.now() - dt.timedelta(hours=12 * (checks - n)),
            )
        placed.append(placement)
    if len(people) > len(PLACEMENTS):
        services.placement_start(
            actor=None,
            person=people[len(PLACEMENTS)],
            mode=Mode.HOME,
            level=Level.MEDIUM,
            start=today - dt.timedelta(days=2),
            address="翠溪北区居家",
            reason="密切接触者的家属",
        )
    if placed:
        first = placed[0]
        services.placement_test(actor=None, placement=first, result="negative")
        services.placement_release_request(
            actor=None, placement=first, reason="隔离期满，两次核酸检测阴性"
        )
        departed = timezone.now() - dt.timedelta(days=1, hours=3)
        services.trip_create(
            actor=None,
            unit=site.unit,
            site=site,
            vehicle_plate="鲁CQ0001",
            driver_name="赵师傅",
            driver_phone="13905330009",
            origin="淄博北站",
            destination=site.name,
            departed_at=departed,
            arrived_at=departed + dt.timedelta(minutes=40),
            people=[p.person for p in placed[-2:]],
            note="负压转运车",
        )
    return {"sites": len(sites), "placements": len(people), "trips": 1 if placed else 0}
