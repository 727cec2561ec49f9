"""What the health pages read from a request: posted declarations and list filters.

The services validate declarations (in the user's language); this module only turns form
fields into the raw dicts the services take, so the pages and the API share one set of
rules and messages.
"""

from typing import Any

from django import forms
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from fangkong.core.divisions import division_search
from fangkong.core.errors import InvalidInput
from fangkong.core.models import Division

from .models import (
    Colour,
    Contact,
    Declaration,
    FiledBy,
    OutbreakProfile,
    Symptom,
    TestResult,
    Whereabouts,
)
from .services import PROFILE_FIELDS

DEFAULT_TEMPERATURE = "36.5"
FIELDS = ("temperature", "division", "whereabouts", "contact", "test_result")


def declaration_from_post(data: QueryDict, *, person_id: int, prefix: str = "") -> dict[str, Any]:
    """Return the raw declaration posted under ``prefix`` for ``person_id``."""
    raw: dict[str, Any] = {name: data.get(prefix + name, "").strip() for name in FIELDS}
    raw["uuid"] = data.get(prefix + "uuid", "")
    raw["person"] = person_id
    raw["symptoms"] = data.getlist(prefix + "symptoms")
    raw["risk_area_stay"] = data.get(prefix + "risk_area_stay") in ("1", "on", "true")
    return raw


def declaration_from_json(data: dict[str, Any], *, person_id: int) -> dict[str, Any]:
    """Return the raw declaration of a personal link's JSON submit (the shell's script).

    The fields are the form's, as JSON types: ``symptoms`` a list of codes,
    ``risk_area_stay`` true or false. The person is the link's; the day is today, as on
    the form. The service checks the values; only what it cannot read is refused here.
    """
    raw: dict[str, Any] = {name: data.get(name) or "" for name in FIELDS}
    raw["uuid"] = data.get("uuid") or ""
    raw["person"] = person_id
    symptoms = data.get("symptoms") or []
    if not isinstance(symptoms, list) or not all(isinstance(code, str) for code in symptoms):
        raise InvalidInput(
            detail={"symptoms": [str(_("Send the symptoms as a list of their codes."))]}
        )
    raw["symptoms"] = symptoms
    raw["risk_area_stay"] = data.get("risk_area_stay") in (True, 1, "1", "on", "true")
    return raw


def division_lookup(query: str) -> tuple[str, list[Division]]:
    """Resolve a typed place (name, pinyin initials or code) for the form without JavaScript.

    Return the code when exactly one division matches (or one is named exactly), else ""
    and the candidates to choose from.
    """
    matches = list(division_search(query))
    exact = [d for d in matches if query in (d.code, d.name, d.full_name)]
    if len(exact) == 1:
        return exact[0].code, exact
    if len(matches) == 1:
        return matches[0].code, matches
    return "", matches


def values_from(declaration: Declaration | None) -> dict[str, Any]:
    """Return form values copied from a declaration, or the defaults of a normal day."""
    if declaration is None:
        return {
            "temperature": DEFAULT_TEMPERATURE,
            "symptoms": [],
            "division": "",
            "whereabouts": Whereabouts.AT_POST,
            "contact": Contact.NONE,
            "risk_area_stay": False,
            "test_result": TestResult.NONE,
        }
    return {
        "temperature": str(declaration.temperature),
        "symptoms": list(declaration.symptoms),
        "division": declaration.division_id,
        "whereabouts": declaration.whereabouts,
        "contact": declaration.contact,
        "risk_area_stay": declaration.risk_area_stay,
        "test_result": declaration.test_result,
    }


class DeclarationFilterForm(forms.Form):
    q = forms.CharField(label=_("Name or pinyin initials"), required=False)
    unit = forms.CharField(label=_("Unit (code)"), required=False)
    day = forms.DateField(
        label=_("Date"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("All")), *Colour.choices]
    )
    filed_by = forms.ChoiceField(
        label=_("Filed by"), required=False, choices=[("", _("All")), *FiledBy.choices]
    )
    history = forms.BooleanField(label=_("Include superseded"), required=False)


class OutbreakProfileForm(forms.ModelForm):
    """The outbreak profile's numbers; the service saves and audits them."""

    class Meta:
        model = OutbreakProfile
        fields = list(PROFILE_FIELDS)


class OutbreakCloseForm(forms.Form):
    """Closing the open outbreak: how long its personal data stays, and a confirmation."""

    outbreak = forms.IntegerField(widget=forms.HiddenInput)
    purge_after_days = forms.IntegerField(
        label=_("Erase its personal data after (days)"), min_value=1, max_value=3650
    )
    confirm = forms.BooleanField(
        label=_(
            "I understand that closing is final and that this outbreak's personal data "
            "will be erased after these days."
        ),
        error_messages={"required": _("Tick the box to confirm that closing is final.")},
    )


class SymptomForm(forms.ModelForm):
    """One row of the symptom list (the code is fixed once declarations use it)."""

    class Meta:
        model = Symptom
        fields = ["code", "name", "name_en", "order", "is_active"]
