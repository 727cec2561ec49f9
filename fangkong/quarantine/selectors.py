"""Every read of sites, rooms, placements and trips, scoped to what the caller may see.

Who sees what:

- sites, rooms and occupancy figures (counts, no names): *view roll-up* or *manage
  quarantine* on the site's unit;
- placements (health data, with names): *view health data* on the person's unit, or
  *manage quarantine* on the site's unit (the site's staff see who sleeps in their rooms);
- trips (names of the people carried): *view health data* or *manage quarantine* on the
  trip's unit.
"""

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.accounts.actors import Viewer
from fangkong.accounts.roles import Perm
from fangkong.accounts.selectors import scope_for
from fangkong.core.errors import InvalidInput, NotFound, PermissionDenied
from fangkong.core.text import clean_cell
from fangkong.orgs.models import Person, place_related

from .models import Placement, Room, Site, Trip

OPEN = Q(state__in=Placement.OPEN_STATES)


def _either(user: Viewer, rules: tuple[tuple[Perm, str], ...]) -> Q | None:
    """Return a condition matching rows any (perm, path field) rule lets the user see.

    None when the user holds none of the permissions anywhere.
    """
    condition: Q | None = None
    for perm, path_field in rules:
        scope = scope_for(user, perm)
        if scope.is_empty:
            continue
        condition = scope.q(path_field) if condition is None else condition | scope.q(path_field)
    return condition


def _visible(user: Viewer, queryset: QuerySet[Any], rules: tuple[tuple[Perm, str], ...]) -> Any:
    condition = _either(user, rules)
    return queryset.none() if condition is None else queryset.filter(condition)


def _get(queryset: QuerySet[Any], pk: Any) -> Any:
    try:
        return queryset.get(pk=int(pk))
    except (queryset.model.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None


# ------------------------------------------------------------------ sites and rooms

SITE_RULES = ((Perm.VIEW_ROLLUP, "unit_path"), (Perm.MANAGE_QUARANTINE, "unit_path"))


def sites_visible(user: Viewer, *, include_inactive: bool = False) -> QuerySet[Site]:
    """Return the sites the user may see (figures only, no names)."""
    sites = _visible(user, Site.objects.select_related("unit"), SITE_RULES)
    return sites if include_inactive else sites.filter(is_active=True)


def sites_managed(user: Viewer) -> QuerySet[Site]:
    """Return the active sites where the user may place people and edit rooms."""
    return scope_for(user, Perm.MANAGE_QUARANTINE).filter(
        Site.objects.filter(is_active=True).select_related("unit"), "unit_path"
    )


def site_get(user: Viewer, site_id: Any) -> Site:
    return _get(sites_visible(user, include_inactive=True), site_id)


def room_get(user: Viewer, room_id: Any) -> Room:
    rooms = _visible(
        user,
        Room.objects.select_related("site"),
        (
            (Perm.VIEW_ROLLUP, "site__unit_path"),
            (Perm.MANAGE_QUARANTINE, "site__unit_path"),
        ),
    )
    return _get(rooms, room_id)


@dataclass
class RoomOccupancy:
    room: Room
    capacity: int
    occupied: int
    ending_today: int
    ending_tomorrow: int
    overdue: int  # still here after the planned release day

    @property
    def free(self) -> int:
        return max(0, self.capacity - self.occupied)


@dataclass
class SiteOccupancy:
    site: Site
    rooms: list[RoomOccupancy] = field(default_factory=list)

    def _sum(self, name: str) -> int:
        return sum(getattr(room, name) for room in self.rooms)

    @property
    def capacity(self) -> int:
        return self._sum("capacity")

    @property
    def occupied(self) -> int:
        return self._sum("occupied")

    @property
    def free(self) -> int:
        return self._sum("free")

    @property
    def ending_today(self) -> int:
        return self._sum("ending_today")

    @property
    def ending_tomorrow(self) -> int:
        return self._sum("ending_tomorrow")

    @property
    def overdue(self) -> int:
        return self._sum("overdue")


def occupancy(
    user: Viewer, *, sites: Any = None, today: dt.date | None = None
) -> list[SiteOccupancy]:
    """Return capacity, occupied and free beds, and releases due, per site and room.

    One grouped query over the rooms of the visible sites; no names are read.
    """
    today = today or timezone.localdate()
    tomorrow = today + dt.timedelta(days=1)
    sites = list(sites_visible(user) if sites is None else sites)
    rooms = (
        Room.objects.filter(site__in=sites)
        .annotate(
            occupied=Count("placements", filter=Q(placements__state__in=Placement.OPEN_STATES)),
            ending_today=Count(
                "placements",
                filter=Q(
                    placements__state__in=Placement.OPEN_STATES, placements__planned_end=today
                ),
            ),
            ending_tomorrow=Count(
                "placements",
                filter=Q(
                    placements__state__in=Placement.OPEN_STATES,
                    placements__planned_end=tomorrow,
                ),
            ),
            overdue=Count(
                "placements",
                filter=Q(
                    placements__state__in=Placement.OPEN_STATES,
                    placements__planned_end__lt=today,
                ),
            ),
        )
        .order_by("site_id", "number")
    )
    by_site = {s.pk: SiteOccupancy(site=s) for s in sites}
    for room in rooms:
        by_site[room.site_id].rooms.append(
            RoomOccupancy(
                room=room,
                capacity=room.capacity,
                occupied=room.occupied,
                ending_today=room.ending_today,
                ending_tomorrow=room.ending_tomorrow,
                overdue=room.overdue,
            )
        )
    return list(by_site.values())


# ------------------------------------------------------------------ placements

PLACEMENT_RULES = ((Perm.VIEW_HEALTH, "unit_path"), (Perm.MANAGE_QUARANTINE, "site_path"))


def require_placement_access(user: Viewer) -> None:
    """Raise PermissionDenied unless the user may see some placements or trips (names)."""
    if _either(user, PLACEMENT_RULES) is None:
        raise PermissionDenied()


def placements_visible(user: Viewer) -> QuerySet[Placement]:
    """Return the placements the user may see, with what a list shows."""
    placements = Placement.objects.select_related(
        "person", place_related("person__unit"), "site", "room"
    )
    return _visible(user, placements, PLACEMENT_RULES)


def placement_get(user: Viewer, placement_id: Any) -> Placement:
    return _get(placements_visible(user), placement_id)


ENDING = ("today", "tomorrow", "overdue")


def placements_for(
    user: Viewer,
    *,
    q: str = "",
    state: str = "",
    mode: str = "",
    site: Site | None = None,
    ending: str = "",
    today: dt.date | None = None,
) -> QuerySet[Placement]:
    """Filter the visible placements; ``state`` "open" means active or awaiting release.

    ``ending`` is "today", "tomorrow" (open placements whose planned release is that day)
    or "overdue" (still open after the planned release day).
    """
    placements = placements_visible(user)
    q = clean_cell(q)
    if q:
        placements = placements.filter(
            Q(person__name__icontains=q)
            | Q(person__name_initials__startswith=q.lower())
            | Q(person__id_number=q.upper())
            | Q(room__number=q)
        )
    if state == "open":
        placements = placements.filter(OPEN)
    elif state in Placement.State.values:
        placements = placements.filter(state=state)
    if mode:
        placements = placements.filter(mode=mode)
    if site is not None:
        placements = placements.filter(site=site)
    today = today or timezone.localdate()
    if ending == "today":
        placements = placements.filter(OPEN, planned_end=today)
    elif ending == "tomorrow":
        placements = placements.filter(OPEN, planned_end=today + dt.timedelta(days=1))
    elif ending == "overdue":
        placements = placements.filter(OPEN, planned_end__lt=today)
    return placements.order_by("planned_end", "person__name", "id")


def room_residents(user: Viewer, site: Site) -> dict[int, list[Placement]]:
    """Return room id → the open placements in it that the user may see (names)."""
    residents: dict[int, list[Placement]] = {}
    for placement in placements_visible(user).filter(OPEN, site=site).order_by("person__name"):
        residents.setdefault(placement.room_id or 0, []).append(placement)
    return residents


def open_placement_for(person_id: int) -> Placement | None:
    """Return the person's open placement, if any (for other apps; no scope check)."""
    return (
        Placement.objects.filter(OPEN, person_id=person_id).select_related("site", "room").first()
    )


def people_to_place(
    user: Viewer, query: str = "", *, ids: list[Any] | None = None, limit: int = 20
) -> list[Person]:
    """Find people the user may place in quarantine: by name, pinyin initials or document
    number, or by id (``ids``)."""
    people = scope_for(user, Perm.MANAGE_QUARANTINE).filter(
        Person.objects.filter(is_active=True).select_related("unit"), "unit_path"
    )
    if ids is not None:
        try:
            return list(people.filter(pk__in=[int(i) for i in ids])[:limit])
        except (TypeError, ValueError):
            return []
    query = clean_cell(query)
    if not query:
        return []
    people = people.filter(
        Q(name__startswith=query)
        | Q(name_initials__startswith=query.lower())
        | Q(id_number=query.upper())
    )
    return list(people.order_by("name", "id")[:limit])


# ------------------------------------------------------------------ trips

TRIP_RULES = ((Perm.VIEW_HEALTH, "unit_path"), (Perm.MANAGE_QUARANTINE, "unit_path"))


def trips_visible(user: Viewer) -> QuerySet[Trip]:
    return _visible(user, Trip.objects.select_related("unit", "site"), TRIP_RULES)


def trip_get(user: Viewer, trip_id: Any) -> Trip:
    return _get(trips_visible(user), trip_id)


def trips_for(
    user: Viewer,
    *,
    q: str = "",
    site: Site | None = None,
    since: dt.date | None = None,
    until: dt.date | None = None,
) -> QuerySet[Trip]:
    """Filter the visible trips by plate, driver or a passenger's name, site and day range."""
    trips = trips_visible(user)
    q = clean_cell(q)
    if q:
        carried = Trip.people.through.objects.filter(person__name__icontains=q).values("trip_id")
        trips = trips.filter(
            Q(vehicle_plate__icontains=q) | Q(driver_name__icontains=q) | Q(pk__in=carried)
        )
    if site is not None:
        trips = trips.filter(site=site)
    tz = timezone.get_current_timezone()
    if since:
        trips = trips.filter(departed_at__gte=dt.datetime.combine(since, dt.time.min, tz))
    if until:
        end = dt.datetime.combine(until + dt.timedelta(days=1), dt.time.min, tz)
        trips = trips.filter(departed_at__lt=end)
    return trips.annotate(carried=Count("people")).order_by("-departed_at", "-id")


def people_by_document(user: Viewer, numbers: list[str]) -> list[Person]:
    """Return the people with these document numbers the user may act for; InvalidInput
    names the numbers that match nobody in scope."""
    wanted = [clean_cell(n).replace(" ", "").upper() for n in numbers if clean_cell(n)]
    people = scope_for(user, Perm.MANAGE_QUARANTINE).filter(
        Person.objects.filter(is_active=True, id_number__in=wanted), "unit_path"
    )
    found = {p.id_number: p for p in people}
    missing = [n for n in wanted if n not in found]
    if missing:
        raise InvalidInput(
            detail={"people": [_("Nobody in your scope has %(n)s.") % {"n": "、".join(missing)}]}
        )
    return list({p.pk: p for p in found.values()}.values())
