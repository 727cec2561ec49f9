"""The back office of service evaluation (MANAGE_SERVICES): the catalogue of services with
its Excel import, windows per centre and station, staff, badge codes and their printable
PDFs, the jurisdiction profiles and the tag sets.

Thin: selectors read, ``catalogue`` and ``services`` write. A refused form comes back with
what was typed and the problem at its field; destructive steps ask to confirm first.
"""

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_POST

from fangkong.accounts.decorators import requires
from fangkong.accounts.models import User
from fangkong.accounts.roles import Perm
from fangkong.accounts.selectors import export_of, scope_for, user_has_perm_anywhere
from fangkong.core.errors import ApplicationError, InvalidInput, NotFound
from fangkong.core.exports import XLSX, Export
from fangkong.core.text import local_minute
from fangkong.core.web import form_refusal, page_context, renders_app_errors

from . import catalogue, selectors, services
from .badge_pdf import badges_pdf
from .models import Badge, Channel, Level

EXPORT_LIMIT = 100_000
PER_PAGE = 50


def _base(request: HttpRequest) -> str:
    return request.build_absolute_uri("/")


def _pick_id(value: Any, field: str) -> int:
    text = str(value or "").strip()
    if not text.isdigit() or len(text) > 18:
        message = _("Choose from the list.")
        raise InvalidInput(message, detail={field: [message]})
    return int(text)


# ------------------------------------------------------------------ the catalogue

SERVICE_FIELDS = ("code", "name", "category")


def _service_filter(request: HttpRequest) -> selectors.ServiceFilter:
    return selectors.ServiceFilter(
        q=request.GET.get("q", "").strip()[:100],
        category=request.GET.get("category", "").strip()[:32],
        active=request.GET.get("active", ""),
    )


@login_required
@requires(Perm.MANAGE_SERVICES)
@renders_app_errors
def services_list(request: HttpRequest) -> HttpResponse:
    """The catalogue with search, filters and paging; a form adds a service."""
    refused = None
    if request.method == "POST":
        try:
            service = catalogue.service_save(
                actor=request.user,
                service=None,
                code=request.POST.get("code", ""),
                name=request.POST.get("name", ""),
                category=request.POST.get("category", ""),
            )
        except ApplicationError as exc:
            refused = form_refusal(exc, request, SERVICE_FIELDS)
            status = exc.status
        else:
            messages.success(request, _("Service %(name)s was added.") % {"name": service.name})
            return redirect("evaluation:admin_services")
    rows = selectors.services_search(request.user, _service_filter(request))
    context = page_context(request, rows, PER_PAGE)
    return render(
        request,
        "evaluation/admin_services.html",
        {
            **context,
            "q": request.GET,
            "categories": selectors.service_categories(),
            "refused": refused or {},
            "can_export": user_has_perm_anywhere(request.user, Perm.EXPORT),
        },
        status=status if refused else 200,
    )


@login_required
@renders_app_errors
def services_export(request: HttpRequest) -> HttpResponse:
    export = Export(
        request, object_type="evaluation.service", scope=scope_for(request.user, Perm.EXPORT)
    )
    rows = selectors.services_search(request.user, _service_filter(request))
    export.check_size(rows.count(), EXPORT_LIMIT)
    return export.response(
        name="services",
        headers=[
            _("Code"),
            _("Name"),
            pgettext("service", "Category"),
            _("Active"),
            _("Offered at"),
        ],
        rows=(
            [s.code, s.name, s.category, _yes_no(s.is_active), s.n_offered]  # type: ignore[attr-defined]
            for s in rows
        ),
        label="services export",
    )


@login_required
@requires(Perm.MANAGE_SERVICES)
@renders_app_errors
def service_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Edit a service, deactivate it (confirmed) or bring it back; where it is offered."""
    service = selectors.service_get(request.user, pk)
    refused = None
    status = 200
    if request.method == "POST":
        action = request.POST.get("action", "save")
        try:
            if action in ("deactivate", "activate"):
                catalogue.service_set_active(
                    actor=request.user, service=service, active=action == "activate"
                )
                message = (
                    _("The service was deactivated: no new cases, its ratings stay.")
                    if action == "deactivate"
                    else _("The service is active again.")
                )
            else:
                catalogue.service_save(
                    actor=request.user,
                    service=service,
                    code=request.POST.get("code", ""),
                    name=request.POST.get("name", ""),
                    category=request.POST.get("category", ""),
                )
                message = _("The service was saved.")
        except ApplicationError as exc:
            refused, status = form_refusal(exc, request, SERVICE_FIELDS), exc.status
            service.refresh_from_db()
        else:
            messages.success(request, message)
            return redirect("evaluation:admin_service", pk=service.pk)
    return render(
        request,
        "evaluation/admin_service.html",
        {
            "service": service,
            "offerings": selectors.offerings_visible(request.user, service),
            "refused": refused or {},
        },
        status=status,
    )


@login_required
@requires(Perm.MANAGE_SERVICES)
def services_import(request: HttpRequest) -> HttpResponse:
    """Upload services and offerings: a preview of every row (or every bad row), then all."""
    context: dict[str, Any] = {}
    status = 200
    if request.method == "POST" and request.POST.get("token"):
        try:
            made = catalogue.import_commit(actor=request.user, token=request.POST["token"])
        except ApplicationError as exc:
            context["error"], status = exc.as_text(), exc.status
        else:
            messages.success(
                request,
                _(
                    "Imported: %(services)d new services, %(updated)d renamed, "
                    "%(offerings)d new offerings."
                )
                % made,
            )
            return redirect("evaluation:admin_services")
    elif request.method == "POST":
        upload = request.FILES.get("file")
        try:
            if upload is None:
                raise InvalidInput(_("Choose a file to upload."))
            context["rows"], context["token"] = catalogue.import_preview(
                actor=request.user, upload=upload
            )
        except ApplicationError as exc:
            context["error"], status = exc.as_text(), exc.status
            detail = exc.detail if isinstance(exc.detail, dict) else {}
            context["bad_rows"] = detail.get("rows", [])
    return render(request, "evaluation/admin_import.html", context, status=status)


@login_required
@requires(Perm.MANAGE_SERVICES)
def services_template(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(catalogue.template_workbook(), content_type=XLSX)
    response["Content-Disposition"] = 'attachment; filename="services-template.xlsx"'
    return response


# ------------------------------------------------------------------ windows

WINDOW_FIELDS = ("unit", "number", "name")


def _unit_param(request: HttpRequest) -> Any:
    raw = request.GET.get("unit", "").strip()
    if not raw:
        return None
    if not raw.isdigit() or len(raw) > 18:
        raise NotFound()
    return selectors.service_unit_get(request.user, int(raw))


@login_required
@requires(Perm.MANAGE_SERVICES)
@renders_app_errors
def windows(request: HttpRequest) -> HttpResponse:
    """Windows per centre and station; a form adds one."""
    refused, status = None, 200
    if request.method == "POST":
        try:
            unit = selectors.service_unit_get(
                request.user, _pick_id(request.POST.get("unit"), "unit")
            )
            window = services.window_create(
                actor=request.user,
                unit=unit,
                number=request.POST.get("number", ""),
                name=request.POST.get("name", ""),
            )
        except NotFound:
            exc = InvalidInput(detail={"unit": [_("Choose a centre or station from the list.")]})
            refused, status = form_refusal(exc, request, WINDOW_FIELDS), exc.status
        except ApplicationError as exc:
            refused, status = form_refusal(exc, request, WINDOW_FIELDS), exc.status
        else:
            messages.success(request, _("Window %(w)s was added.") % {"w": window})
            return redirect(f"{request.path}?unit={unit.pk}")
    unit = _unit_param(request)
    rows = selectors.windows_visible(request.user, unit)
    context = page_context(request, rows, PER_PAGE)
    return render(
        request,
        "evaluation/admin_windows.html",
        {
            **context,
            "unit": unit,
            "units": selectors.service_units(request.user),
            "refused": refused or {},
            "can_export": user_has_perm_anywhere(request.user, Perm.EXPORT),
        },
        status=status,
    )


@login_required
@requires(Perm.MANAGE_SERVICES)
@renders_app_errors
def windows_export(request: HttpRequest) -> HttpResponse:
    """The windows as the list shows them (its centre or station filter), as a spreadsheet."""
    unit = _unit_param(request)
    export, rows = export_of(
        request,
        "evaluation.window",
        selectors.windows_visible(request.user, unit),
        "unit_path",
        limit=EXPORT_LIMIT,
    )
    return export.response(
        name="windows",
        headers=[_("Centre or station"), _("Window number"), _("Name"), _("Staff"), _("Active")],
        rows=([w.unit.place, w.number, w.name, w.n_staff, _yes_no(w.is_active)] for w in rows),
        unit_path=unit.path if unit else "",
    )


def _yes_no(value: bool) -> str:
    return _("Yes") if value else _("No")


# ------------------------------------------------------------------ staff

STAFF_FIELDS = ("window", "username", "name", "staff_number")


@login_required
@requires(Perm.MANAGE_SERVICES)
@renders_app_errors
def staff(request: HttpRequest) -> HttpResponse:
    """Window staff: assign an account to a window with the name and number on the badge."""
    refused, status = None, 200
    if request.method == "POST":
        try:
            window = _window_picked(request)
            user = _staff_account(request, window)
            member = services.staff_assign(
                actor=request.user,
                user=user,
                window=window,
                name=request.POST.get("name", ""),
                staff_number=request.POST.get("staff_number", ""),
            )
        except ApplicationError as exc:
            refused, status = form_refusal(exc, request, STAFF_FIELDS), exc.status
        else:
            messages.success(
                request,
                _("%(name)s works at window %(w)s.") % {"name": member.name, "w": member.window},
            )
            return redirect("evaluation:admin_staff")
    q, show_left, rows = _staff_rows(request)
    context = page_context(request, rows, PER_PAGE)
    return render(
        request,
        "evaluation/admin_staff.html",
        {
            **context,
            "q": q,
            "show_left": show_left,
            "windows": selectors.windows_visible(request.user).filter(is_active=True),
            "refused": refused or {},
            "can_export": user_has_perm_anywhere(request.user, Perm.EXPORT),
        },
        status=status,
    )


def _staff_rows(request: HttpRequest) -> tuple[str, bool, Any]:
    """The list's search, its "those who left" switch and a window's link from the windows."""
    q = request.GET.get("q", "").strip()[:64]
    show_left = request.GET.get("left") == "1"
    rows = selectors.staff_visible(request.user, q=q, active=not show_left)
    window_id = request.GET.get("window", "")
    if window_id.isdigit() and len(window_id) <= 18:
        rows = rows.filter(window_id=int(window_id))
    return q, show_left, rows


@login_required
@requires(Perm.MANAGE_SERVICES)
@renders_app_errors
def staff_export(request: HttpRequest) -> HttpResponse:
    """The staff as the list shows them, as a spreadsheet (names in full: managers' own)."""
    _q, _left, listed = _staff_rows(request)
    export, rows = export_of(
        request, "evaluation.staff", listed, "window__unit_path", limit=EXPORT_LIMIT
    )
    return export.response(
        name="staff",
        headers=[
            _("Staff number"),
            pgettext("person", "Name"),
            _("Account"),
            _("Centre or station"),
            _("Window"),
            _("State"),
        ],
        rows=(
            [
                s.staff_number,
                s.name,
                s.user.username,
                s.window.unit.place,
                str(s.window),
                _("At work") if s.is_active else _("Left"),
            ]
            for s in rows
        ),
    )


def _window_picked(request: HttpRequest) -> Any:
    try:
        return selectors.window_get(request.user, _pick_id(request.POST.get("window"), "window"))
    except NotFound:
        message = _("Choose a window from the list.")
        raise InvalidInput(message, detail={"window": [message]}) from None


def _staff_account(request: HttpRequest, window: Any) -> User:
    username = request.POST.get("username", "").strip()
    account = (
        selectors.staff_accounts(request.user, window.unit).filter(username=username).first()
        if username
        else None
    )
    if account is None:
        message = _("No account with the window-staff role at this centre has this user name.")
        raise InvalidInput(message, detail={"username": [message]})
    return account


@login_required
@require_POST
@renders_app_errors
def staff_leave(request: HttpRequest, pk: int) -> HttpResponse:
    """A staff member leaves (the form asks to confirm): their badge codes are revoked."""
    member = selectors.staff_get(request.user, pk)
    revoked = catalogue.staff_leave(actor=request.user, staff=member)
    messages.success(
        request,
        _("%(name)s has left; %(n)d badge code(s) revoked.") % {"name": member.name, "n": revoked},
    )
    # Back to the list as it was: its search, its window and its page.
    kept = {k: v for k, v in request.GET.items() if k in ("q", "left", "window", "page")}
    return redirect(f"{reverse('evaluation:admin_staff')}?{urlencode(kept)}")


# ------------------------------------------------------------------ badges


def _badge_filter(request: HttpRequest) -> selectors.BadgeFilter:
    holder = request.GET.get("holder", "")
    return selectors.BadgeFilter(
        unit=_unit_param(request),
        holder=holder if holder in Badge.Holder.values else "",
        revoked=request.GET.get("revoked", "0"),
    )


@login_required
@requires(Perm.MANAGE_SERVICES)
@renders_app_errors
def badges(request: HttpRequest) -> HttpResponse:
    """Badge codes: issue one for a staff member, a window or a station (or the station's
    official-account link), revoke one, print one or a station's sheet."""
    refused, status = None, 200
    if request.method == "POST":
        try:
            badge = _badge_issue(request)
        except ApplicationError as exc:
            refused, status = (
                form_refusal(exc, request, ("holder", "staff", "window", "unit")),
                exc.status,
            )
        else:
            messages.success(request, _("A badge code was issued."))
            return redirect(f"{request.path}?unit={badge.unit_id}")
    filters = _badge_filter(request)
    rows = selectors.badges_visible(request.user, filters)
    context = page_context(request, rows, PER_PAGE)
    context["rows"] = [
        {
            "badge": b,
            "url": selectors.badge_path(b),
            "kiosk_url": selectors.kiosk_path(b) if b.holder == Badge.Holder.WINDOW else "",
            "holder": _holder_name(b),
        }
        for b in context["page_obj"]
    ]
    return render(
        request,
        "evaluation/admin_badges.html",
        {
            **context,
            "filters": filters,
            "q": request.GET,
            "units": selectors.service_units(request.user),
            "windows": selectors.windows_visible(request.user).filter(is_active=True),
            "staff_list": selectors.staff_visible(request.user),
            "holders": Badge.Holder.choices,
            "refused": refused or {},
            "can_export": user_has_perm_anywhere(request.user, Perm.EXPORT),
        },
        status=status,
    )


@login_required
@requires(Perm.MANAGE_SERVICES)
@renders_app_errors
def badges_export(request: HttpRequest) -> HttpResponse:
    """The badge codes as the list shows them, each with the address its QR code opens."""
    filters = _badge_filter(request)
    export, rows = export_of(
        request,
        "evaluation.badge",
        selectors.badges_visible(request.user, filters),
        "unit_path",
        limit=EXPORT_LIMIT,
    )

    return export.response(
        name="badges",
        headers=[
            _("For"),
            _("Holder"),
            _("Centre or station"),
            _("Issued at"),
            _("Revoked at"),
            _("Scan page"),
        ],
        rows=(
            [
                b.get_holder_display(),
                _holder_name(b),
                b.unit.place,
                local_minute(b.issued_at),
                local_minute(b.revoked_at),
                "" if b.revoked_at else request.build_absolute_uri(selectors.badge_path(b)),
            ]
            for b in rows
        ),
        unit_path=filters.unit.path if filters.unit else "",
    )


def _holder_name(badge: Badge) -> str:
    if badge.staff is not None:
        return f"{badge.staff.staff_number} {badge.staff.name}"
    if badge.window is not None:
        return str(badge.window)
    label = badge.unit.name
    if badge.channel == Channel.ACCOUNT:
        label += " · " + str(Channel.ACCOUNT.label)
    return label


def _badge_issue(request: HttpRequest) -> Badge:
    holder = request.POST.get("holder", "")
    actor = request.user
    if holder == Badge.Holder.STAFF:
        try:
            member = selectors.staff_get(actor, _pick_id(request.POST.get("staff"), "staff"))
        except NotFound:
            raise InvalidInput(
                detail={"staff": [_("Choose a staff member from the list.")]}
            ) from None
        return services.badge_issue(actor=actor, unit=member.window.unit, staff=member)
    if holder == Badge.Holder.WINDOW:
        try:
            window = selectors.window_get(actor, _pick_id(request.POST.get("window"), "window"))
        except NotFound:
            raise InvalidInput(detail={"window": [_("Choose a window from the list.")]}) from None
        return services.badge_issue(actor=actor, unit=window.unit, window=window)
    if holder in (Badge.Holder.STATION, "account"):
        try:
            unit = selectors.service_unit_get(actor, _pick_id(request.POST.get("unit"), "unit"))
        except NotFound:
            message = _("Choose a centre or station from the list.")
            raise InvalidInput(detail={"unit": [message]}) from None
        channel = Channel.ACCOUNT if holder == "account" else Channel.BADGE
        return services.badge_issue(actor=actor, unit=unit, channel=channel)
    raise InvalidInput(detail={"holder": [_("Choose what the code is for.")]})


@login_required
@require_POST
@renders_app_errors
def badge_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    """Revoke a badge code (the form asks to confirm): scanning it is refused from now on."""
    badge = selectors.badge_get(request.user, pk)
    services.badge_revoke(actor=request.user, badge=badge)
    messages.success(request, _("The badge code was revoked."))
    return redirect(f"{_admin_url('evaluation:admin_badges')}?unit={badge.unit_id}")


def _admin_url(name: str) -> str:
    from django.urls import reverse

    return reverse(name)


def _pdf(data: bytes, name: str) -> HttpResponse:
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{name}.pdf"'
    return response


@login_required
@requires(Perm.MANAGE_SERVICES)
@renders_app_errors
def badge_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    """One badge, printable: name, staff number, window, QR and the instruction."""
    badge = selectors.badge_get(request.user, pk)
    if badge.revoked_at is not None:
        raise NotFound()
    return _pdf(badges_pdf([badge], _base(request)), f"badge-{badge.pk}")


@login_required
@requires(Perm.MANAGE_SERVICES)
@renders_app_errors
def badge_sheet(request: HttpRequest) -> HttpResponse:
    """Every live badge of a centre or station on A4 sheets, several per page."""
    unit = _unit_param(request)
    if unit is None:
        message = _("Choose a centre or station.")
        raise InvalidInput(message, detail={"unit": [message]})
    rows = selectors.badges_visible(request.user, selectors.BadgeFilter(unit=unit, revoked="0"))
    if not rows.exists():
        raise InvalidInput(_("This centre or station has no live badge codes."))
    return _pdf(badges_pdf(list(rows), _base(request), title=unit.name), f"badges-{unit.code}")


# ------------------------------------------------------------------ profiles and tags

PROFILE_FIELDS = ("callback_hours", "rectify_working_days", "follow_up_days")


@login_required
@requires(Perm.MANAGE_SERVICES)
@renders_app_errors
def profiles(request: HttpRequest) -> HttpResponse:
    """Jurisdiction profiles: edit the clocks; put one in use (confirmed)."""
    refused, refused_pk, status = None, None, 200
    if request.method == "POST":
        profile = selectors.profile_get(
            request.user, _pick_id(request.POST.get("profile"), "profile")
        )
        try:
            if request.POST.get("action") == "activate":
                services.profile_activate(actor=request.user, profile=profile)
                message = _("%(name)s is in use for new bad reviews.") % {"name": profile.name}
            else:
                catalogue.profile_update(
                    actor=request.user,
                    profile=profile,
                    callback_hours=request.POST.get("callback_hours"),
                    rectify_days=request.POST.get("rectify_working_days"),
                    follow_up_days=request.POST.get("follow_up_days"),
                )
                message = _("%(name)s was saved.") % {"name": profile.name}
        except ApplicationError as exc:
            refused, refused_pk, status = (
                form_refusal(exc, request, PROFILE_FIELDS),
                profile.pk,
                exc.status,
            )
        else:
            messages.success(request, message)
            return redirect("evaluation:admin_profiles")
    return render(
        request,
        "evaluation/admin_profiles.html",
        {
            "profiles": selectors.profiles(request.user),
            "refused": refused or {},
            "refused_pk": refused_pk,
        },
        status=status,
    )


@login_required
@requires(Perm.MANAGE_SERVICES)
@renders_app_errors
def tags(request: HttpRequest) -> HttpResponse:
    """The tags offered at each level; saving makes a new version (old ones stay)."""
    fields = tuple(f"level_{level}" for level in Level.values)
    refused, status = None, 200
    if request.method == "POST":
        try:
            tag_set = catalogue.tag_set_create(
                actor=request.user,
                tags_by_level={
                    str(level): request.POST.get(f"level_{level}", "") for level in Level.values
                },
            )
        except ApplicationError as exc:
            refused, status = form_refusal(exc, request, fields), exc.status
        else:
            messages.success(
                request, _("Version %(v)d of the tags is in use.") % {"v": tag_set.version}
            )
            return redirect("evaluation:admin_tags")
    versions = selectors.tag_sets(request.user)
    current = versions.first()
    levels = []
    for level in Level.values:
        key = f"level_{level}"
        if refused:
            value = refused["values"].get(key, "")
        else:
            value = "\n".join(services.tags_for(current, level))
        levels.append(
            {
                "key": key,
                "label": Level(level).label,
                "value": value,
                "errors": (refused or {}).get("errors", {}).get(key, []),
            }
        )
    return render(
        request,
        "evaluation/admin_tags.html",
        {"levels": levels, "versions": versions[:20], "current": current, "refused": refused or {}},
        status=status,
    )
