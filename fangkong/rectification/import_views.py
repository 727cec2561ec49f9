"""Pages of the problem-list import: the template, the upload, the preview and the commit.

Thin, as every page here: ``importing`` checks and writes. The upload form offers the
units where the user may register problems (the rectification permission), down to two
levels below each of their subtrees' tops: an audit report's list is assigned high up.
"""

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from fangkong.accounts.decorators import requires
from fangkong.accounts.roles import Perm
from fangkong.accounts.selectors import scope_for
from fangkong.core.errors import InvalidInput
from fangkong.core.paths import subtree_q, tree_order
from fangkong.core.web import XLSX, renders_app_errors
from fangkong.orgs.models import OrgUnit, place_related

from . import importing
from .models import Source

MAX_SHOWN = 500
LEVELS_BELOW = 2


def assigning_units(user: Any) -> list[OrgUnit]:
    """The open units where ``user`` may register problems, tops of their subtrees first."""
    scope = scope_for(user, Perm.RECTIFY)
    if scope.is_empty:
        return []
    tops = OrgUnit.objects.filter(parent__isnull=True) if scope.everything else None
    roots = tops if tops is not None else OrgUnit.objects.filter(path__in=scope.paths)
    near = Q(pk__in=[])
    for path, depth in roots.values_list("path", "depth"):
        near |= subtree_q("path", path) & Q(depth__lte=depth + LEVELS_BELOW)
    units = OrgUnit.objects.filter(near, valid_to__isnull=True).select_related(place_related())
    return sorted(units.order_by("path")[:MAX_SHOWN], key=lambda unit: tree_order(unit.path))


class UploadForm(forms.Form):
    assigning_unit = forms.TypedChoiceField(
        label=gettext_lazy("Assigning unit (accepts the work)"), coerce=int
    )
    source = forms.ChoiceField(
        label=gettext_lazy("Source, where the file leaves it empty"),
        choices=Source.choices,
        initial=Source.AUDIT,
    )
    file = forms.FileField(label=gettext_lazy("Problem list (.xlsx, .xls, .ods or .csv)"))

    def __init__(self, *args: Any, units: list[OrgUnit], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.units = {unit.pk: unit for unit in units}
        field = self.fields["assigning_unit"]
        assert isinstance(field, forms.TypedChoiceField)
        field.choices = [(unit.pk, unit.place) for unit in units]


@login_required
@renders_app_errors
@requires(Perm.RECTIFY)
def import_page(request: HttpRequest) -> HttpResponse:
    """Upload a problem list; the check follows on the preview page."""
    units = assigning_units(request.user)
    form = UploadForm(request.POST or None, request.FILES or None, units=units)
    if request.method == "POST" and form.is_valid():
        try:
            stored = importing.upload_store(
                actor=request.user,
                upload=form.cleaned_data["file"],
                assigning=form.units[form.cleaned_data["assigning_unit"]],
                source=form.cleaned_data["source"],
            )
            return redirect("rectification:import_preview", token=stored.token)
        except InvalidInput as exc:
            form.add_error(None, exc.as_text())
    return render(
        request,
        "rectification/import.html",
        {"form": form, "columns": importing.column_notes()},
    )


@login_required
@renders_app_errors
@requires(Perm.RECTIFY)
def import_preview(request: HttpRequest, token: str) -> HttpResponse:
    """The preview: rows to create, rows imported before, refused rows with their reasons."""
    stored, assigning = importing.upload_get(request.user, token)
    message = ""
    try:
        checked = importing.check_rows(
            actor=request.user,
            path=stored.path,
            assigning=assigning,
            default_source=stored.source,
        )
    except InvalidInput as exc:  # no header, not a workbook, too many rows
        checked, message = None, exc.as_text()
    return render(
        request,
        "rectification/import_preview.html",
        {
            "stored": stored,
            "assigning": assigning,
            "checked": checked,
            "message": message,
            "good": [row.as_dict() for row in checked.good[:MAX_SHOWN]] if checked else [],
            "errors": checked.errors[:MAX_SHOWN] if checked else [],
            "max_shown": MAX_SHOWN,
        },
    )


@login_required
@require_POST
@renders_app_errors
@requires(Perm.RECTIFY)
def import_commit(request: HttpRequest, token: str) -> HttpResponse:
    """Register every new problem of the list in one transaction, or none."""
    try:
        outcome = importing.upload_commit(actor=request.user, token=token)
    except InvalidInput as exc:  # the data changed since the preview
        messages.error(request, str(exc.message))
        return redirect("rectification:import_preview", token=token)
    messages.success(
        request,
        _("%(n)d problems registered; %(already)d were registered before.")
        % {"n": len(outcome.created), "already": outcome.already},
    )
    return redirect("rectification:import_preview", token=token)


@login_required
def import_template(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(importing.template_workbook(), content_type=XLSX)
    response["Content-Disposition"] = 'attachment; filename="problem-list-template.xlsx"'
    return response
