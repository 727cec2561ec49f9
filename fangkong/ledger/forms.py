"""Forms of the ledger pages: list filters, follow-ups, calendar overrides."""

from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .kinds import Kind


class ItemFilterForm(forms.Form):
    q = forms.CharField(label=_("Name, ID number or phone"), required=False)
    unit = forms.CharField(label=_("Unit (code)"), required=False)
    state = forms.ChoiceField(label=_("State"), required=False)
    overdue = forms.ChoiceField(
        label=_("Deadline"),
        required=False,
        # "On time" reads 按时上报 (a daily report's word): a card is "not overdue".
        choices=[("", _("All")), ("1", _("Overdue")), ("0", _("Not overdue"))],
    )
    owner = forms.ChoiceField(
        label=_("Owner"),
        required=False,
        choices=[("", _("Anyone")), ("me", _("Mine")), ("none", _("Unassigned"))],
    )
    # Set by the home page's "new since your last visit" link, kept through the filters.
    opened_after = forms.DateTimeField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, kind: Kind, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        state_field: Any = self.fields["state"]
        state_field.choices = [
            ("open", _("Open (all)")),
            ("closed", _("Closed out")),
            ("", _("All")),
            *((state.key, state.label) for state in kind.states),
        ]


class FollowUpForm(forms.Form):
    text = forms.CharField(
        label=_("What did the follow-up find?"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    value = forms.DecimalField(
        label=_("Measurement (optional)"),
        required=False,
        max_digits=10,
        decimal_places=2,
        widget=forms.NumberInput(attrs={"step": "0.1", "inputmode": "decimal"}),
    )
    unit = forms.CharField(label=_("Unit of measure"), required=False, max_length=16)
    file = forms.FileField(label=_("Attachment"), required=False)


class OverrideForm(forms.Form):
    day = forms.DateField(label=_("Day"), widget=forms.DateInput(attrs={"type": "date"}))
    is_working = forms.TypedChoiceField(
        label=_("The day is"),
        coerce=lambda value: value == "1",
        choices=[("0", _("a day off")), ("1", _("a working day (make-up)"))],
    )
    name = forms.CharField(label=_("Name"), required=False, max_length=64)
    note = forms.CharField(label=_("Note"), required=False, max_length=200)


def year_param(raw: str | None) -> int:
    """Return the year a query string asks for, this year when missing or odd."""
    try:
        year = int(raw or "")
    except ValueError:
        return timezone.localdate().year
    return year if 2000 <= year <= 2200 else timezone.localdate().year
