"""Forms of the tracking pages; the services validate and write."""

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Relation


class ContactForm(forms.Form):
    person_document = forms.CharField(label=_("Close contact: document number"), max_length=32)
    case_document = forms.CharField(label=_("Case: document number"), max_length=32)
    relation = forms.ChoiceField(label=_("Relation"), choices=Relation.choices)
    last_contact_day = forms.DateField(
        label=_("Last contact"), widget=forms.DateInput(attrs={"type": "date"})
    )
    note = forms.CharField(label=_("Note"), max_length=500, required=False)
