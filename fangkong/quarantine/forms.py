"""What the quarantine pages read from a request; the services check the rules."""

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Level, Mode, Placement

ENDING_CHOICES = [
    ("", _("Any day")),
    ("today", _("Ending today")),
    ("tomorrow", _("Ending tomorrow")),
    ("overdue", _("Past the planned release")),
]


class PlacementFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False)
    state = forms.ChoiceField(
        label=_("State"),
        required=False,
        choices=[("open", _("Open")), ("", _("All")), *Placement.State.choices],
    )
    mode = forms.ChoiceField(
        label=_("Mode"), required=False, choices=[("", _("All")), *Mode.choices]
    )
    site = forms.IntegerField(required=False, widget=forms.HiddenInput)
    ending = forms.ChoiceField(label=_("Release"), required=False, choices=ENDING_CHOICES)


class PlacementForm(forms.Form):
    person = forms.IntegerField(widget=forms.HiddenInput)
    mode = forms.ChoiceField(label=_("Mode"), choices=Mode.choices)
    room = forms.IntegerField(label=_("Room"), required=False)
    address = forms.CharField(label=_("Home address"), max_length=255, required=False)
    level = forms.ChoiceField(label=_("Reason"), choices=Level.choices)
    days = forms.IntegerField(
        label=_("Days (blank: from the outbreak profile)"), required=False, min_value=1
    )
    start = forms.DateField(label=_("Start"), required=False)
    reason = forms.CharField(label=_("Details"), max_length=255, required=False)


class CheckForm(forms.Form):
    temperature = forms.DecimalField(
        label=_("Temperature (°C)"), max_digits=3, decimal_places=1, min_value=34, max_value=43
    )
    note = forms.CharField(label=_("Note"), max_length=500, required=False)


class SiteForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=128)
    unit_code = forms.CharField(label=_("Run by unit (code)"), max_length=64)
    address = forms.CharField(label=_("Address"), max_length=255, required=False)
    contact_name = forms.CharField(label=_("Contact person"), max_length=64, required=False)
    contact_phone = forms.CharField(label=_("Contact phone"), max_length=20, required=False)


class RoomForm(forms.Form):
    number = forms.CharField(label=_("Room"), max_length=32)
    capacity = forms.IntegerField(label=_("Beds"), min_value=1, max_value=50)
    note = forms.CharField(label=_("Note"), max_length=255, required=False)


class TripFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False)
    since = forms.DateField(label=_("From"), required=False)
    until = forms.DateField(label=_("To"), required=False)
    site = forms.IntegerField(required=False, widget=forms.HiddenInput)


class TripForm(forms.Form):
    unit_code = forms.CharField(label=_("Organised by unit (code)"), max_length=64)
    site = forms.IntegerField(label=_("To site"), required=False)
    vehicle_plate = forms.CharField(label=_("Vehicle plate"), max_length=16)
    driver_name = forms.CharField(label=_("Driver"), max_length=64)
    driver_phone = forms.CharField(label=_("Driver phone"), max_length=20, required=False)
    origin = forms.CharField(label=_("From"), max_length=128)
    destination = forms.CharField(label=_("To"), max_length=128)
    departed_at = forms.DateTimeField(label=_("Departed at"))
    arrived_at = forms.DateTimeField(label=_("Arrived at"), required=False)
    people = forms.CharField(
        label=_("People carried (document numbers, one a line)"), widget=forms.Textarea
    )
    note = forms.CharField(label=_("Note"), max_length=255, required=False)
