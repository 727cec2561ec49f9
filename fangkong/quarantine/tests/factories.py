"""Sites with rooms for the quarantine tests."""

from typing import Any

from fangkong.orgs.models import OrgUnit, UnitKind
from fangkong.orgs.services import unit_create

from ..models import Room, Site
from ..services import room_create, site_create


def make_site(
    parent: OrgUnit, *, code: str = "", rooms: dict[str, int] | None = None, name: str = ""
) -> tuple[Site, dict[str, Room]]:
    """Create a quarantine-site unit under ``parent``, its Site and rooms {number: beds}."""
    unit: Any = unit_create(
        actor=None,
        code=code or f"{parent.code}-QS",
        name=name or "铝城宾馆集中隔离观察点",
        kind=UnitKind.QUARANTINE_SITE,
        parent=parent,
    )
    site = site_create(actor=None, unit=unit, name=unit.name, address="张店区铝城路1号")
    made = {
        number: room_create(actor=None, site=site, number=number, capacity=beds)
        for number, beds in (rooms or {"101": 1, "102": 2}).items()
    }
    return site, made
