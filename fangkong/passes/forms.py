"""Forms of the pass pages: the list's filters and the unit admin's issuing forms."""

import datetime as dt
import re
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import Pass

STATE_CHOICES = [
    ("", _("All")),
    ("active", _("In force")),
    ("revoked", _("Revoked")),
    ("expired", _("Expired")),
]
LONG_TERM_DAYS = 90  # a printed card's default validity


class PassFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=64)
    kind = forms.ChoiceField(
        label=_("Kind"), required=False, choices=[("", _("All")), *Pass.Kind.choices]
    )
    state = forms.ChoiceField(label=_("State"), required=False, choices=STATE_CHOICES)


def zone_codes(text: str) -> list[str]:
    """Codes separated by commas, spaces or the Chinese comma."""
    return [code for code in re.split(r"[\s,，、;；]+", text or "") if code]


class _IssueForm(forms.Form):
    unit_code = forms.CharField(label=_("Unit (code)"), max_length=64)
    zones = forms.CharField(
        label=_("Zones or checkpoints (codes; blank: the unit and the units above it)"),
        max_length=400,
        required=False,
    )


class VehiclePassForm(_IssueForm):
    plate = forms.CharField(label=_("Plate"), max_length=16)
    driver = forms.CharField(label=_("Driver"), max_length=64)
    route = forms.CharField(label=_("Route"), max_length=200)
    valid_from = forms.DateField(label=_("From"), initial=timezone.localdate)
    valid_until = forms.DateField(label=_("Until (inclusive)"))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("valid_from"), data.get("valid_until")
        if start and end and end < start:
            self.add_error("valid_until", _("The last day comes on or after the first."))
        return data


class VisitorPassForm(_IssueForm):
    visitor = forms.CharField(label=_("Visitor's name"), max_length=64)
    day = forms.DateField(label=_("Day of the visit"), initial=timezone.localdate)
    window_from = forms.TimeField(label=_("From (time)"), initial=dt.time(8, 0))
    window_until = forms.TimeField(label=_("Until (time)"), initial=dt.time(18, 0))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("window_from"), data.get("window_until")
        if start and end and end <= start:
            self.add_error("window_until", _("The visit ends after it starts, on the same day."))
        return data


class PrintedPassForm(forms.Form):
    person = forms.IntegerField(widget=forms.HiddenInput)
    valid_until = forms.DateField(label=_("Until (inclusive)"))


class RevokeForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=255)
