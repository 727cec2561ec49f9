from django import forms
from django.utils.translation import gettext_lazy as _

from .models import ImportJob, PersonCategory


class PeopleFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False)
    category = forms.ChoiceField(
        label=_("Category"),
        required=False,
        choices=[("", _("All")), *PersonCategory.choices],
    )
    party = forms.ChoiceField(
        label=_("Party member"),
        required=False,
        choices=[("", _("All")), ("1", _("Yes")), ("0", _("No"))],
    )
    unit = forms.IntegerField(required=False, widget=forms.HiddenInput)


class ImportUploadForm(forms.Form):
    kind = forms.ChoiceField(label=_("What to import"), choices=ImportJob.Kind.choices)
    unit_code = forms.CharField(label=_("Into unit (code)"), max_length=64)
    file = forms.FileField(label=_("File (.xlsx or .csv)"))
