"""Quarantine pages: placements, the occupancy of sites and rooms, trips, the notice PDF.

Thin: selectors read, services write. Lists are phone-friendly tables (data-label cells)
with search, filters, paging and export.
"""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_POST

from fangkong.accounts.actors import Viewer
from fangkong.accounts.decorators import requires
from fangkong.accounts.roles import Perm
from fangkong.accounts.selectors import export_with_numbers, scope_for, user_has_perm_anywhere
from fangkong.core.audit import audit_record
from fangkong.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from fangkong.core.exports import Export
from fangkong.core.models import AuditLog
from fangkong.core.web import page_context, renders_app_errors
from fangkong.ledger import services as ledger_services
from fangkong.ledger.models import Item
from fangkong.orgs.selectors import mask_id_number, unit_get_by_code

from . import selectors, services
from .forms import (
    CheckForm,
    PlacementFilterForm,
    PlacementForm,
    RoomForm,
    SiteForm,
    TripFilterForm,
    TripForm,
)
from .ledger_kind import KIND
from .models import Level, Mode, Placement, Site
from .notice import notice_pdf

EXPORT_LIMIT = 100_000


def _cleaned(form: Any) -> dict[str, Any]:
    """Return a bound form's cleaned data, or raise its problems as one InvalidInput."""
    if not form.is_valid():
        raise InvalidInput(detail={k: [str(m) for m in v] for k, v in form.errors.items()})
    return form.cleaned_data


def _post_and_report(request: HttpRequest, action: Any) -> None:
    """Run ``action()``; show its message, or the problem it raised, on the next page."""
    try:
        message = action()
    except (InvalidInput, Conflict, PermissionDenied) as exc:
        messages.error(request, exc.as_text())
    else:
        messages.success(request, message)


# ------------------------------------------------------------------ placements


def _placements_query(request: HttpRequest) -> tuple[PlacementFilterForm, Any, Site | None]:
    form = PlacementFilterForm(request.GET or {"state": "open"})
    data = form.cleaned_data if form.is_valid() else {"state": "open"}
    site = selectors.site_get(request.user, data["site"]) if data.get("site") else None
    rows = selectors.placements_for(
        request.user,
        q=data.get("q") or "",
        state=data.get("state") or "",
        mode=data.get("mode") or "",
        site=site,
        ending=data.get("ending") or "",
    )
    return form, rows, site


@login_required
@renders_app_errors
@requires(Perm.VIEW_HEALTH, Perm.MANAGE_QUARANTINE)
def placements(request: HttpRequest) -> HttpResponse:
    """Placements in scope with search, filters (state, mode, site, release day), paging."""
    form, rows, site = _placements_query(request)
    return render(
        request,
        "quarantine/placements.html",
        {
            **page_context(request, rows, 50),
            "form": form,
            "site": site,
            "today": timezone.localdate(),
            "can_place": user_has_perm_anywhere(request.user, Perm.MANAGE_QUARANTINE),
            "can_export": user_has_perm_anywhere(request.user, Perm.EXPORT),
        },
    )


@login_required
@renders_app_errors
def placements_export(request: HttpRequest) -> HttpResponse:
    """Download the filtered placements; numbers masked unless the user may see them."""
    export, scope = export_with_numbers(request, "quarantine.placement")
    _form, rows, site = _placements_query(request)
    rows = scope.filter(rows, "unit_path")
    export.check_size(rows.count(), EXPORT_LIMIT)
    headers = [
        pgettext("person", "Name"),
        _("Document number"),
        _("Phone"),
        _("Unit"),
        _("Mode"),
        _("Site"),
        _("Room"),
        _("Reason"),
        _("Start"),
        _("Days"),
        _("Planned release"),
        _("State"),
        _("Released at"),
    ]

    def lines() -> Any:
        for row in rows.iterator(chunk_size=2000):
            person = row.person
            id_number, phone = export.numbers(person)
            yield [
                person.name,
                id_number,
                phone,
                person.unit.name,
                row.get_mode_display(),
                row.site.name if row.site else "",
                row.room.number if row.room else "",
                row.get_level_display(),
                row.start.isoformat(),
                row.days,
                row.planned_end.isoformat(),
                row.get_state_display(),
                timezone.localtime(row.released_at).strftime("%Y-%m-%d %H:%M")
                if row.released_at
                else "",
            ]

    return export.response(
        name="quarantine-placements",
        headers=headers,
        rows=lines(),
        unit_path=site.unit_path if site else "",
        label="placements export",
    )


def _rooms_with_beds(user: Viewer) -> list[Any]:
    """Rooms of the sites the user manages, with free beds, for the placement form."""
    rows = []
    for site in selectors.occupancy(user, sites=selectors.sites_managed(user)):
        rows += [(site.site, room) for room in site.rooms if room.free > 0]
    return rows


@login_required
@renders_app_errors
@requires(Perm.MANAGE_QUARANTINE)
def placement_new(request: HttpRequest) -> HttpResponse:
    """Find a person, then place them in a room with a free bed or at home."""
    if request.method == "POST":
        data = PlacementForm(request.POST)
        try:
            placement = _placement_create(request, _cleaned(data))
        except (InvalidInput, Conflict) as exc:
            messages.error(request, exc.as_text())
        else:
            messages.success(
                request, _("%(name)s was placed in quarantine.") % {"name": placement.person.name}
            )
            return redirect("quarantine:placement", placement_id=placement.pk)
    query = request.GET.get("q", "")
    person_id = request.GET.get("person") or request.POST.get("person")
    person = None
    if person_id:
        person = next(iter(selectors.people_to_place(request.user, "", ids=[person_id])), None)
    return render(
        request,
        "quarantine/placement_new.html",
        {
            "q": query,
            "found": selectors.people_to_place(request.user, query) if query else [],
            "person": person,
            "rooms": _rooms_with_beds(request.user),
            "modes": Mode.choices,
            "levels": Level.choices,
            "today": timezone.localdate(),
        },
    )


def _placement_create(request: HttpRequest, data: dict[str, Any]) -> Placement:
    person = next(iter(selectors.people_to_place(request.user, "", ids=[data["person"]])), None)
    if person is None:
        raise NotFound()
    room = selectors.room_get(request.user, data["room"]) if data.get("room") else None
    return services.placement_start(
        actor=request.user,
        person=person,
        mode=data["mode"],
        level=data["level"],
        start=data.get("start"),
        days=data.get("days"),
        site=room.site if room else None,
        room=room,
        address=data.get("address") or "",
        reason=data.get("reason") or "",
    )


@login_required
@renders_app_errors
def placement_detail(request: HttpRequest, placement_id: int) -> HttpResponse:
    placement = selectors.placement_get(request.user, placement_id)
    manage = scope_for(request.user, Perm.MANAGE_QUARANTINE).covers(placement.unit_path)
    sensitive = scope_for(request.user, Perm.VIEW_SENSITIVE).covers(placement.unit_path)
    return render(
        request,
        "quarantine/placement.html",
        {
            "placement": placement,
            "person": placement.person,
            "id_number": mask_id_number(placement.person.id_number),
            "can_manage": manage,
            "can_full_id": sensitive,
            "rooms": _rooms_with_beds(request.user) if manage and placement.is_open else [],
            "check_form": CheckForm(),
            **_ledger_context(request.user, placement),
        },
    )


def _ledger_context(user: Viewer, placement: Placement) -> dict[str, Any]:
    """The checks, tests and release workflow kept in the placement's ledger item."""
    item = Item.objects.filter(kind=KIND, object_id=placement.pk).order_by("-id").first()
    if item is None:
        return {"item": None}
    entries = item.entries.select_related("author").order_by("-at", "-id")
    return {
        "item": item,
        "item_url": ledger_services.item_link(item.pk),
        "entries": entries[:60],
        "can_track": scope_for(user, Perm.TRACK).covers(item.unit_path),
        "can_approve": scope_for(user, Perm.APPROVE_CLOSE).covers(item.unit_path),
        "test_results": services.TEST_RESULTS.items(),
    }


@login_required
@require_POST
@renders_app_errors
def placement_action(request: HttpRequest, placement_id: int, action: str) -> HttpResponse:
    """Move rooms (and the ledger actions: checks, tests, release) from the placement page."""
    placement = selectors.placement_get(request.user, placement_id)
    handler = _PLACEMENT_ACTIONS.get(action)
    if handler is None:
        raise NotFound()
    _post_and_report(request, lambda: handler(request, placement))
    return redirect("quarantine:placement", placement_id=placement.pk)


def _move(request: HttpRequest, placement: Placement) -> str:
    room = selectors.room_get(request.user, request.POST.get("room"))
    services.placement_move(actor=request.user, placement=placement, room=room)
    return _("Moved to room %(number)s.") % {"number": room.number}


def _check(request: HttpRequest, placement: Placement) -> str:
    data = _cleaned(CheckForm(request.POST))
    services.placement_check(
        actor=request.user,
        placement=placement,
        temperature=data["temperature"],
        note=data.get("note") or "",
    )
    return _("The check was recorded.")


def _test(request: HttpRequest, placement: Placement) -> str:
    services.placement_test(
        actor=request.user,
        placement=placement,
        result=request.POST.get("result", ""),
        test_kind=request.POST.get("test_kind", ""),
        note=request.POST.get("note", ""),
    )
    return _("The test result was recorded.")


def _release(request: HttpRequest, placement: Placement) -> str:
    services.placement_release_request(
        actor=request.user, placement=placement, reason=request.POST.get("reason", "")
    )
    return _("The release waits for approval.")


def _approve(request: HttpRequest, placement: Placement) -> str:
    services.placement_release_approve(
        actor=request.user, placement=placement, note=request.POST.get("note", "")
    )
    return _("%(name)s was released.") % {"name": placement.person.name}


def _reject(request: HttpRequest, placement: Placement) -> str:
    services.placement_release_reject(
        actor=request.user, placement=placement, reason=request.POST.get("reason", "")
    )
    return _("The release was refused; the person stays in quarantine.")


_PLACEMENT_ACTIONS: dict[str, Any] = {
    "move": _move,
    "check": _check,
    "test": _test,
    "release": _release,
    "approve": _approve,
    "reject": _reject,
}


@login_required
@renders_app_errors
def notice(request: HttpRequest, placement_id: int) -> HttpResponse:
    """The person's quarantine notice as PDF; the document number is masked unless a user
    who may see it asks for the full number (audited)."""
    placement = selectors.placement_get(request.user, placement_id)
    full_id = request.GET.get("full_id") == "1"
    if full_id:
        if not scope_for(request.user, Perm.VIEW_SENSITIVE).covers(placement.unit_path):
            raise PermissionDenied()
        audit_record(
            actor=request.user,
            action=AuditLog.Action.VIEW_SENSITIVE,
            obj=placement.person,
            scope_path=placement.unit_path,
        )
    response = HttpResponse(notice_pdf(placement, full_id=full_id), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="quarantine-notice-{placement.pk}.pdf"'
    return response


# ------------------------------------------------------------------ sites and occupancy


@login_required
@renders_app_errors
@requires(Perm.VIEW_ROLLUP, Perm.MANAGE_QUARANTINE)
def sites(request: HttpRequest) -> HttpResponse:
    """The occupancy view: per site and room, beds, occupied, free, releases due."""
    if request.method == "POST":
        _post_and_report(request, lambda: _site_create(request))
        return redirect("quarantine:sites")
    rows = selectors.occupancy(request.user)
    return render(
        request,
        "quarantine/sites.html",
        {
            "rows": rows,
            "today": timezone.localdate(),
            "can_manage": user_has_perm_anywhere(request.user, Perm.MANAGE_QUARANTINE),
            "site_form": SiteForm(),
        },
    )


def _site_create(request: HttpRequest) -> str:
    data = _cleaned(SiteForm(request.POST))
    unit = unit_get_by_code(request.user, data.pop("unit_code"), Perm.MANAGE_QUARANTINE)
    site = services.site_create(actor=request.user, unit=unit, **data)
    return _("Site %(name)s was added.") % {"name": site.name}


@login_required
@renders_app_errors
def site_detail(request: HttpRequest, site_id: int) -> HttpResponse:
    """One site: its rooms with beds and occupancy, and who is in them (if the user may see)."""
    site = selectors.site_get(request.user, site_id)
    [row] = selectors.occupancy(request.user, sites=[site])
    residents = selectors.room_residents(request.user, site)
    return render(
        request,
        "quarantine/site.html",
        {
            "site": site,
            "row": row,
            "rooms": [(room, residents.get(room.room.pk, [])) for room in row.rooms],
            "today": timezone.localdate(),
            "can_manage": scope_for(request.user, Perm.MANAGE_QUARANTINE).covers(site.unit_path),
            "room_form": RoomForm(),
        },
    )


@login_required
@require_POST
@renders_app_errors
def site_action(request: HttpRequest, site_id: int, action: str) -> HttpResponse:
    """Add a room, change a room's beds, delete an unused room, edit the site."""
    site = selectors.site_get(request.user, site_id)
    handler = _SITE_ACTIONS.get(action)
    if handler is None:
        raise NotFound()
    _post_and_report(request, lambda: handler(request, site))
    return redirect("quarantine:site", site_id=site.pk)


def _room_add(request: HttpRequest, site: Site) -> str:
    data = _cleaned(RoomForm(request.POST))
    room = services.room_create(actor=request.user, site=site, **data)
    return _("Room %(number)s was added.") % {"number": room.number}


def _room_of(request: HttpRequest, site: Site) -> Any:
    room = selectors.room_get(request.user, request.POST.get("room"))
    if room.site_id != site.pk:
        raise NotFound()
    return room


def _room_edit(request: HttpRequest, site: Site) -> str:
    room = _room_of(request, site)
    services.room_update(
        actor=request.user,
        room=room,
        capacity=request.POST.get("capacity", ""),  # type: ignore[arg-type]
        note=request.POST.get("note", ""),
    )
    return _("Room %(number)s was changed.") % {"number": room.number}


def _room_delete(request: HttpRequest, site: Site) -> str:
    room = _room_of(request, site)
    services.room_delete(actor=request.user, room=room)
    return _("Room %(number)s was deleted.") % {"number": room.number}


def _site_edit(request: HttpRequest, site: Site) -> str:
    services.site_update(
        actor=request.user,
        site=site,
        name=request.POST.get("name", ""),
        address=request.POST.get("address", ""),
        contact_name=request.POST.get("contact_name", ""),
        contact_phone=request.POST.get("contact_phone", ""),
        is_active=request.POST.get("is_active") == "1",
    )
    return _("The site was saved.")


_SITE_ACTIONS = {
    "add-room": _room_add,
    "edit-room": _room_edit,
    "delete-room": _room_delete,
    "edit": _site_edit,
}


# ------------------------------------------------------------------ trips


def _trips_query(request: HttpRequest) -> tuple[TripFilterForm, Any]:
    form = TripFilterForm(request.GET)
    data = form.cleaned_data if form.is_valid() else {}
    site = selectors.site_get(request.user, data["site"]) if data.get("site") else None
    rows = selectors.trips_for(
        request.user,
        q=data.get("q") or "",
        site=site,
        since=data.get("since"),
        until=data.get("until"),
    )
    return form, rows


@login_required
@renders_app_errors
@requires(Perm.VIEW_HEALTH, Perm.MANAGE_QUARANTINE)
def trips(request: HttpRequest) -> HttpResponse:
    form, rows = _trips_query(request)
    return render(
        request,
        "quarantine/trips.html",
        {
            **page_context(request, rows, 50),
            "form": form,
            "can_manage": user_has_perm_anywhere(request.user, Perm.MANAGE_QUARANTINE),
            "can_export": user_has_perm_anywhere(request.user, Perm.EXPORT),
        },
    )


@login_required
@renders_app_errors
def trips_export(request: HttpRequest) -> HttpResponse:
    scope = scope_for(request.user, Perm.EXPORT)
    export = Export(request, object_type="quarantine.trip", scope=scope)
    _form, rows = _trips_query(request)
    rows = scope.filter(rows, "unit_path").prefetch_related("people")
    export.check_size(rows.count(), EXPORT_LIMIT)
    headers = [
        _("Departed at"),
        _("Arrived at"),
        _("Vehicle plate"),
        _("Driver"),
        _("From"),
        _("To"),
        _("To site"),
        _("People carried"),
        _("Unit"),
    ]

    def when(value: Any) -> str:
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""

    def lines() -> Any:
        for trip in rows:
            yield [
                when(trip.departed_at),
                when(trip.arrived_at),
                trip.vehicle_plate,
                trip.driver_name,
                trip.origin,
                trip.destination,
                trip.site.name if trip.site else "",
                "、".join(p.name for p in trip.people.all()),
                trip.unit.name,
            ]

    return export.response(
        name="quarantine-trips", headers=headers, rows=lines(), label="trips export"
    )


@login_required
@renders_app_errors
@requires(Perm.MANAGE_QUARANTINE)
def trip_new(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        try:
            trip = _trip_create(request)
        except (InvalidInput, Conflict, NotFound) as exc:
            messages.error(request, exc.as_text())
        else:
            messages.success(request, _("The trip was recorded."))
            return redirect("quarantine:trip", trip_id=trip.pk)
    return render(
        request,
        "quarantine/trip_new.html",
        {
            "form": TripForm(request.POST or None),
            "sites": selectors.sites_managed(request.user),
            "now": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        },
    )


def _trip_create(request: HttpRequest) -> Any:
    data = _cleaned(TripForm(request.POST))
    unit = unit_get_by_code(request.user, data["unit_code"], Perm.MANAGE_QUARANTINE)
    site = selectors.site_get(request.user, data["site"]) if data.get("site") else None
    people = selectors.people_by_document(request.user, data["people"].split())
    return services.trip_create(
        actor=request.user,
        unit=unit,
        site=site,
        vehicle_plate=data["vehicle_plate"],
        driver_name=data["driver_name"],
        driver_phone=data.get("driver_phone") or "",
        origin=data["origin"],
        destination=data["destination"],
        departed_at=data["departed_at"],
        arrived_at=data.get("arrived_at"),
        people=people,
        note=data.get("note") or "",
    )


@login_required
@renders_app_errors
def trip_detail(request: HttpRequest, trip_id: int) -> HttpResponse:
    trip = selectors.trip_get(request.user, trip_id)
    if request.method == "POST":

        def arrive() -> str:
            services.trip_arrive(actor=request.user, trip=trip)
            return _("Arrival recorded.")

        _post_and_report(request, arrive)
        return redirect("quarantine:trip", trip_id=trip.pk)
    return render(
        request,
        "quarantine/trip.html",
        {
            "trip": trip,
            "people": trip.people.select_related("unit").order_by("name"),
            "can_manage": scope_for(request.user, Perm.MANAGE_QUARANTINE).covers(trip.unit_path),
        },
    )
