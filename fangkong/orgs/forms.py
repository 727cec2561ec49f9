from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from .models import Gender, IdType, ImportJob, PersonCategory, UnitKind


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
    file = forms.FileField(label=_("File (.xlsx, .xls, .ods or .csv)"))


# What a sub-unit usually is, by its parent's kind (the form's first guess; any kind goes).
CHILD_KIND = {
    UnitKind.GROUP: UnitKind.ENTERPRISE,
    UnitKind.SEGMENT: UnitKind.ENTERPRISE,
    UnitKind.ENTERPRISE: UnitKind.PLANT,
    UnitKind.PLANT: UnitKind.WORKSHOP,
    UnitKind.WORKSHOP: UnitKind.TEAM,
    UnitKind.COMMUNITY: UnitKind.BUILDING,
    UnitKind.BUILDING: UnitKind.HOUSEHOLD,
    UnitKind.SERVICE_CENTRE: UnitKind.SERVICE_STATION,
    UnitKind.SERVICE_STATION: UnitKind.WINDOW,
}


class UnitAddForm(forms.Form):
    code = forms.CharField(label=_("Code"), max_length=64)
    name = forms.CharField(label=_("Name"), max_length=128)
    kind = forms.ChoiceField(label=_("Kind"), choices=UnitKind.choices)

    @classmethod
    def under(cls, parent_kind: str) -> "UnitAddForm":
        """An empty form whose kind is what a sub-unit of ``parent_kind`` usually is."""
        return cls(initial={"kind": CHILD_KIND.get(UnitKind(parent_kind), "")})


class UnitRenameForm(forms.Form):
    # Not required here: the service says what is wrong with an empty name, at the field.
    name = forms.CharField(label=_("New name"), max_length=128, required=False)


class UnitMoveForm(forms.Form):
    parent_code = forms.CharField(label=_("New parent unit (code)"), max_length=64)


class PersonAddForm(forms.Form):
    name = forms.CharField(label=pgettext_lazy("person", "Name"), max_length=64)
    id_type = forms.ChoiceField(label=_("Document type"), choices=IdType.choices)
    id_number = forms.CharField(label=_("Document number"), max_length=32)
    # Left empty, both are read from a resident ID; given, they must agree with it.
    gender = forms.ChoiceField(
        label=_("Gender"), choices=Gender.choices, initial=Gender.UNKNOWN, required=False
    )
    birth_date = forms.DateField(
        label=_("Date of birth"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    phone = forms.CharField(label=_("Phone"), max_length=20, required=False)
    category = forms.ChoiceField(label=_("Category"), choices=PersonCategory.choices)

    def clean_gender(self) -> str:
        return self.cleaned_data.get("gender") or Gender.UNKNOWN


class PersonEditForm(forms.Form):
    phone = forms.CharField(label=_("Phone"), max_length=20, required=False)
    category = forms.ChoiceField(label=_("Category"), choices=PersonCategory.choices)
    unit_code = forms.CharField(label=_("Unit (code)"), max_length=64)
    is_party_member = forms.BooleanField(label=_("Party member"), required=False)
