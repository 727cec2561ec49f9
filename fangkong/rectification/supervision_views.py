"""Supervision pages: the orders in scope, issuing one from a ledger item, ending one.

Thin: ``supervision`` reads and writes; errors come back on the page they were sent from.
"""

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from fangkong.accounts.decorators import requires
from fangkong.accounts.roles import Perm
from fangkong.accounts.selectors import scope_for, user_has_perm_anywhere
from fangkong.core.errors import ApplicationError
from fangkong.core.exports import Export
from fangkong.core.text import FIRST_DAY, LAST_DAY
from fangkong.core.web import page_context, renders_app_errors
from fangkong.ledger import kinds
from fangkong.ledger import selectors as ledger_selectors
from fangkong.orgs.models import OrgUnit
from fangkong.orgs.selectors import unit_get

from . import supervision
from .models import Colour, SupervisionLevel, SupervisionOrder

EXPORT_LIMIT = 200_000

COLOUR_CHOICES = [
    ("", pgettext_lazy("colour filter", "Any colour")),
    (Colour.RED, Colour.RED.label),
    (Colour.YELLOW, Colour.YELLOW.label),
    (Colour.BLUE, Colour.BLUE.label),
    ("none", pgettext_lazy("colour", "None")),
]
STATUS_CHOICES = [
    ("active", pgettext_lazy("supervision", "Active")),
    ("ended", pgettext_lazy("supervision", "Ended")),
    ("all", pgettext_lazy("supervision", "All")),
]


class OrderFilterForm(forms.Form):
    q = forms.CharField(label=gettext_lazy("Search"), max_length=100, required=False)
    colour = forms.ChoiceField(label=gettext_lazy("colour"), choices=COLOUR_CHOICES, required=False)
    level = forms.ChoiceField(
        label=gettext_lazy("level"),
        choices=[("", pgettext_lazy("level filter", "Any level")), *SupervisionLevel.choices],
        required=False,
    )
    kind = forms.ChoiceField(label=gettext_lazy("Kind of item"), choices=[], required=False)
    unit = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1)
    status = forms.ChoiceField(
        label=pgettext_lazy("supervision", "Status"), choices=STATUS_CHOICES, required=False
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        kind_field: Any = self.fields["kind"]
        kind_field.choices = [
            ("", pgettext_lazy("kind filter", "Any kind")),
            *((spec.key, spec.label) for spec in kinds.all_kinds()),
        ]


class IssueForm(forms.Form):
    supervising_unit = forms.TypedChoiceField(
        label=gettext_lazy("supervising unit"), coerce=int, choices=[]
    )
    level = forms.ChoiceField(label=gettext_lazy("level"), choices=SupervisionLevel.choices)
    due_on = forms.DateField(
        label=gettext_lazy("due on"), widget=forms.DateInput(attrs={"type": "date"})
    )
    note = forms.CharField(
        label=gettext_lazy("requirements"),
        required=False,
        max_length=supervision.MAX_NOTE,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args: Any, units: list[OrgUnit], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        unit_field: Any = self.fields["supervising_unit"]
        unit_field.choices = [(u.pk, u.place) for u in units]

    def clean_due_on(self) -> Any:
        day = self.cleaned_data["due_on"]
        if not FIRST_DAY <= day <= LAST_DAY:
            raise forms.ValidationError(_("The due date cannot be in the past."))
        return day


def _filtered(request: HttpRequest) -> tuple[OrderFilterForm, Any, OrgUnit | None]:
    params = request.GET.copy()
    params.setdefault("status", "active")
    form = OrderFilterForm(params)
    data = form.cleaned_data if form.is_valid() else {"status": "active"}
    unit = unit_get(request.user, data["unit"]) if data.get("unit") else None
    orders = supervision.orders_search(
        request.user,
        colour=data.get("colour") or None,
        level=data.get("level") or None,
        unit=unit,
        kind=data.get("kind") or None,
        status=data.get("status") or "active",
        text=(data.get("q") or "").strip(),
    )
    return form, orders, unit


def _row(order: SupervisionOrder) -> dict[str, Any]:
    spec = kinds.find(order.item.kind)
    return {
        "order": order,
        "kind": spec.label if spec else order.item.kind,
        "state": spec.state_label(order.item.state) if spec else order.item.state,
    }


@login_required
@renders_app_errors
@requires(Perm.VIEW_PROBLEMS, Perm.SUPERVISE)
@require_GET
def supervision_list(request: HttpRequest) -> HttpResponse:
    """The supervision orders whose items the user sees: colour, level, unit, kind, status."""
    form, orders, unit = _filtered(request)
    context = page_context(request, orders, 50)
    return render(
        request,
        "rectification/supervision_list.html",
        {
            **context,
            "form": form,
            "unit": unit,
            "rows": [_row(order) for order in context["page_obj"]],
            "can_export": user_has_perm_anywhere(request.user, Perm.EXPORT),
        },
    )


@login_required
@renders_app_errors
@requires(Perm.VIEW_PROBLEMS, Perm.SUPERVISE)
@require_GET
def supervision_export(request: HttpRequest) -> HttpResponse:
    """The filtered orders as a spreadsheet (no personal numbers), audited."""
    scope = scope_for(request.user, Perm.EXPORT)
    export = Export(request, object_type="rectification.supervisionorder", scope=scope)
    _form, orders, unit = _filtered(request)
    orders = scope.filter(orders, "item__unit_path")
    export.check_size(orders.count(), EXPORT_LIMIT)
    headers = [
        _("No."),
        _("Item"),
        _("Kind of item"),
        _("Unit"),
        _("supervising unit"),
        _("level"),
        _("due on"),
        _("colour"),
        _("active"),
        _("ended at"),
        _("requirements"),
    ]

    def lines() -> Any:
        for order in orders.iterator(chunk_size=2000):
            row = _row(order)
            ended = timezone.localtime(order.ended_at) if order.ended_at else None
            yield [
                order.pk,
                order.item.title,
                str(row["kind"]),
                order.item.unit.place,
                order.supervising_unit.place,
                order.get_level_display(),
                order.due_on,
                supervision.colour_label(order.colour),
                _("Yes") if order.is_active else _("No"),
                ended.strftime("%Y-%m-%d %H:%M") if ended else "",
                order.note,
            ]

    return export.response(
        name="supervision-orders",
        headers=headers,
        rows=lines(),
        unit_path=unit.path if unit else "",
        label="supervision export",
        details={"filters": request.GET.dict()},
    )


@login_required
@renders_app_errors
@requires(Perm.SUPERVISE)
@require_http_methods(["GET", "POST"])
def supervision_issue(request: HttpRequest, item_pk: int) -> HttpResponse:
    """Put a ledger item under supervision: the form, reached from the item's page."""
    item = ledger_selectors.item_get(request.user, item_pk)
    units = supervision.supervising_units_for(request.user, item)
    form = IssueForm(request.POST or None, units=units)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            unit = next(u for u in units if u.pk == data["supervising_unit"])
            try:
                order = supervision.order_issue(
                    actor=request.user,
                    item=item,
                    supervising_unit=unit,
                    level=data["level"],
                    due_on=data["due_on"],
                    note=data["note"],
                )
            except ApplicationError as exc:
                for name, errors in (exc.detail or {}).items():
                    field = "supervising_unit" if name == "supervising_unit_id" else name
                    for error in errors:
                        form.add_error(field if field in form.fields else None, error)
                if not exc.detail:
                    form.add_error(None, str(exc.message))
                status = exc.status
            else:
                messages.success(request, _("The item is now under supervision."))
                return redirect("rectification:supervision_order", order.pk)
        else:
            status = 400
    return render(
        request,
        "rectification/supervision_issue.html",
        {"item": item, "spec": kinds.get(item.kind), "form": form, "units": units},
        status=status,
    )


@login_required
@renders_app_errors
@require_GET
def supervision_order(request: HttpRequest, pk: int) -> HttpResponse:
    """One order: its item, level, deadline, colour; the end form for its supervisors."""
    order = supervision.order_get(request.user, pk)
    can_end = order.is_active and scope_for(request.user, Perm.SUPERVISE).covers(
        order.supervising_path
    )
    return render(
        request,
        "rectification/supervision_order.html",
        {
            "order": order,
            **_row(order),
            "can_end": can_end,
            "end_reason": supervision.end_reason(order),
        },
    )


@login_required
@renders_app_errors
@require_POST
def supervision_end(request: HttpRequest, pk: int) -> HttpResponse:
    """End an order by hand, with the reason (the page asks to confirm)."""
    order = supervision.order_get(request.user, pk)
    try:
        reason = request.POST.get("reason", "")
        supervision.order_end(actor=request.user, order=order, reason=reason)
    except ApplicationError as exc:
        if exc.status in (403, 404):
            raise
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("The supervision order has ended."))
    return redirect("rectification:supervision_order", order.pk)
