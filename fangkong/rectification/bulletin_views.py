"""The weekly bulletin's pages: the archive, one bulletin (figures, red list, ranking, the
office's paragraph, sign-off and sending), the problems behind each figure, and the
audited downloads of its PDF and workbook."""

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from fangkong.accounts.decorators import requires
from fangkong.accounts.roles import Perm
from fangkong.accounts.selectors import scope_for, user_has_perm_anywhere
from fangkong.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from fangkong.core.exports import XLSX
from fangkong.core.text import parse_date
from fangkong.core.web import page_context, renders_app_errors
from fangkong.orgs.models import OrgUnit, place_related
from fangkong.orgs.selectors import unit_get

from . import bulletin as bulletins
from .models import Bulletin

MAX_UNIT_CHOICES = 200
CONTENT_TYPES = {"pdf": "application/pdf", "xlsx": XLSX}
FIGURES = ("new", "closed", "accepted", "on_time", "overdue")


def _post_and_report(request: HttpRequest, action: Any, *, at_field: bool = False) -> Any:
    """Run ``action()``; show its message, or the problem it raised, on the next page.

    ``at_field``: invalid input is raised for the caller to show at its field, with what
    was typed (a message on the next page would lose the text)."""
    try:
        result, message = action()
    except (InvalidInput, Conflict, PermissionDenied) as exc:
        if at_field and isinstance(exc, InvalidInput):
            raise
        messages.error(request, exc.as_text())
        return None
    messages.success(request, message)
    return result


def _office_units(request: HttpRequest) -> list[OrgUnit]:
    """Units the user may generate a bulletin for: the roots of their supervision scope
    and the units just below them."""
    scope = scope_for(request.user, Perm.SUPERVISE)
    if scope.everything:
        near = Q(parent__isnull=True) | Q(parent__parent__isnull=True)
    elif scope.paths:
        near = Q(path__in=scope.paths) | Q(parent__path__in=scope.paths)
    else:
        return []
    units = OrgUnit.objects.filter(near).select_related(place_related())
    return list(units.order_by("path")[:MAX_UNIT_CHOICES])


@login_required
@renders_app_errors
@requires(Perm.VIEW_PROBLEMS)
def archive(request: HttpRequest) -> HttpResponse:
    """Every bulletin in the user's scope, by week, unit and version; generate a new one."""
    if request.method == "POST":
        created = _post_and_report(request, lambda: _generate(request))
        if created is not None:
            return redirect("rectification:bulletin", bulletin_id=created.pk)
        return redirect("rectification:bulletins")
    rows = bulletins.with_red_counts(bulletins.bulletins_visible(request.user))
    can_generate = user_has_perm_anywhere(request.user, Perm.SUPERVISE)
    return render(
        request,
        "rectification/bulletins.html",
        {
            **page_context(request, rows),
            "can_generate": can_generate,
            "units": _office_units(request) if can_generate else [],
            "last_monday": bulletins.last_week_start(timezone.now()),
        },
    )


def _week(value: str) -> dt.date:
    try:
        day = parse_date(value)
    except ValueError:
        day = None
    if day is None:
        raise InvalidInput(
            _("Give the Monday the week starts on."),
            detail={"week_start": [_("Give the Monday the week starts on.")]},
        )
    return day


def _generate(request: HttpRequest) -> tuple[Bulletin, str]:
    unit = unit_get(request.user, request.POST.get("unit"), Perm.VIEW_PROBLEMS)
    created = bulletins.bulletin_generate(
        actor=request.user, unit=unit, week_start=_week(request.POST.get("week_start", ""))
    )
    return created, _("Version %(n)d was generated as a draft.") % {"n": created.version}


@login_required
@renders_app_errors
def bulletin_page(request: HttpRequest, bulletin_id: int) -> HttpResponse:
    """One version: its figures as tables, the red list, the ranking, and its actions."""
    return _bulletin_page(request, bulletins.bulletin_get(request.user, bulletin_id))


def _bulletin_page(
    request: HttpRequest, bulletin: Bulletin, *, typed: str | None = None, error: str = ""
) -> HttpResponse:
    """The page; ``typed`` and ``error``: a paragraph refused, shown again at its field."""
    context = bulletins.paper_context(bulletin)
    office = scope_for(request.user, Perm.SUPERVISE).covers(bulletin.unit_path)
    versions = list(bulletins.versions_of(bulletin))
    latest = versions[0]
    return render(
        request,
        "rectification/bulletin.html",
        {
            **context,
            "figures": FIGURES,
            "versions": versions,
            "is_latest": latest.pk == bulletin.pk,
            "latest": latest,
            "office": office,
            "is_draft": bulletin.status == Bulletin.Status.DRAFT,
            "is_signed": bulletin.status == Bulletin.Status.SIGNED,
            "max_preface": bulletins.MAX_PREFACE,
            "preface_value": bulletin.preface if typed is None else typed,
            "preface_error": error,
        },
        status=400 if error else 200,
    )


@login_required
@require_POST
@renders_app_errors
def bulletin_action(request: HttpRequest, bulletin_id: int, action: str) -> HttpResponse:
    """The paragraph, generating again, sign-off and sending, from the bulletin's page."""
    bulletin = bulletins.bulletin_get(request.user, bulletin_id)
    handler = _ACTIONS.get(action)
    if handler is None:
        raise NotFound()
    try:
        result = _post_and_report(
            request, lambda: handler(request, bulletin), at_field=action == "preface"
        )
    except InvalidInput as exc:  # the paragraph, shown again as typed with the problem
        typed = request.POST.get("preface", "")
        return _bulletin_page(request, bulletin, typed=typed, error=exc.as_text())
    target = result if isinstance(result, Bulletin) else bulletin
    return redirect("rectification:bulletin", bulletin_id=target.pk)


def _preface(request: HttpRequest, bulletin: Bulletin) -> tuple[Bulletin, str]:
    saved = bulletins.bulletin_preface_set(
        actor=request.user, bulletin=bulletin, preface=request.POST.get("preface", "")
    )
    return saved, _("The paragraph was saved and the PDF drawn again.")


def _regenerate(request: HttpRequest, bulletin: Bulletin) -> tuple[Bulletin, str]:
    created = bulletins.bulletin_generate(
        actor=request.user, unit=bulletin.unit, week_start=bulletin.week_start
    )
    return created, _("Version %(n)d was generated as a draft.") % {"n": created.version}


def _sign(request: HttpRequest, bulletin: Bulletin) -> tuple[Bulletin, str]:
    signed = bulletins.bulletin_sign_off(actor=request.user, bulletin=bulletin)
    return signed, _("Version %(n)d is signed off; it can now be sent.") % {"n": signed.version}


def _send(request: HttpRequest, bulletin: Bulletin) -> tuple[Bulletin, str]:
    units = bulletins.bulletin_send(actor=request.user, bulletin=bulletin)
    return bulletin, _("Sent to the heads of %(n)d units.") % {"n": units}


_ACTIONS: dict[str, Any] = {
    "preface": _preface,
    "regenerate": _regenerate,
    "sign": _sign,
    "send": _send,
}


@login_required
@renders_app_errors
def bulletin_file(request: HttpRequest, bulletin_id: int, file_format: str) -> HttpResponse:
    """The stored PDF or workbook of one version; each download is audited."""
    bulletin = bulletins.bulletin_get(request.user, bulletin_id)
    stored = bulletin.pdf if file_format == "pdf" else bulletin.xlsx
    if not stored:
        raise NotFound()
    bulletins.bulletin_download_audit(request.user, bulletin, file_format)
    with stored.open("rb") as data:
        response = HttpResponse(data.read(), content_type=CONTENT_TYPES[file_format])
    disposition = "inline" if file_format == "pdf" else "attachment"
    name = f"{bulletins.file_stem(bulletin)}.{file_format}"
    response["Content-Disposition"] = f'{disposition}; filename="{name}"'
    return response


@login_required
@renders_app_errors
def counted(request: HttpRequest, bulletin_id: int, unit_id: int, figure: str) -> HttpResponse:
    """The problems one figure of one row counts (or the row's red list)."""
    bulletin = bulletins.bulletin_get(request.user, bulletin_id)
    unit = unit_get(request.user, unit_id, Perm.VIEW_PROBLEMS)
    rows = bulletins.counted_problems(bulletin, unit, figure)
    labels = dict(_figure_labels())
    return render(
        request,
        "rectification/bulletin_counted.html",
        {
            **page_context(request, rows),
            "bulletin": bulletin,
            "unit": unit,
            "figure_label": labels.get(figure, ""),
            "own": unit.pk == bulletin.unit_id,
        },
    )


def _figure_labels() -> list[tuple[str, str]]:
    return [
        ("new", _("New")),
        ("closed", _("Closed out")),
        ("accepted", _("Accepted")),
        ("on_time", _("Accepted on time")),
        ("overdue", _("Overdue at the week's end")),
        ("red", _("Red list")),
    ]
