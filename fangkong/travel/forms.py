"""What the travel pages read from a request: the card form, itinerary rows and list filters.

The services validate (in the user's language); this module turns form fields into the raw
dicts they take. A region is typed as a name, pinyin initials or a code and resolved here;
an ambiguous one comes back with its candidates.
"""

from typing import Any

from django import forms
from django.http import QueryDict
from django.urls import reverse_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from fangkong.core.models import Division
from fangkong.health.forms import division_lookup
from fangkong.health.models import Contact

from .models import Outcome, ReturneeCard, RiskLevel, Transport

ITINERARY_ROWS = 5  # blank rows offered on the form (more: save and edit again)
CARD_FIELDS = ("planned_return", "fever", "symptoms", "contact", "note")


def resolve_region(typed: str) -> tuple[str, str]:
    """Return (code, problem) for a typed region; code "" when it is unknown or ambiguous."""
    typed = typed.strip()
    if not typed:
        return "", ""
    if typed.isdigit() and Division.objects.filter(code=typed).exists():
        return typed, ""
    code, matches = division_lookup(typed)
    if code:
        return code, ""
    if not matches:
        return "", _("No region matches “%(typed)s”.") % {"typed": typed}
    names = "、".join(f"{d.full_name}（{d.code}）" for d in matches[:6])
    return "", _("Several regions match; type one of: %(names)s.") % {"names": names}


def itinerary_from_post(data: QueryDict, prefix: str) -> tuple[dict[str, Any], str]:
    """Return one posted itinerary row and a region problem, if any."""
    typed = data.get(prefix + "region", "").strip()
    code, problem = resolve_region(typed)
    row = {
        "region": typed,
        "division": code or ("?" if typed else ""),
        "from_day": data.get(prefix + "from_day", "").strip(),
        "to_day": data.get(prefix + "to_day", "").strip(),
        "transport": data.get(prefix + "transport", "").strip(),
        "transport_number": data.get(prefix + "transport_number", "").strip(),
        "note": data.get(prefix + "note", "").strip(),
    }
    return row, problem


def card_from_post(data: QueryDict) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """Return the raw card and the region problems found while reading it."""
    raw: dict[str, Any] = {name: data.get(name, "").strip() for name in CARD_FIELDS}
    raw["no_travel"] = data.get("no_travel") in ("1", "on")
    problems: dict[str, list[str]] = {}
    raw["coming_from_region"] = data.get("coming_from_region", "").strip()
    raw["coming_from"], problem = resolve_region(raw["coming_from_region"])
    if problem:
        problems["coming_from"] = [problem]
    rows: list[dict[str, Any]] = []
    count = int(data.get("rows", ITINERARY_ROWS) or ITINERARY_ROWS)
    for index in range(min(count, 30)):
        row, problem = itinerary_from_post(data, f"it{index}-")
        if problem:
            problems[f"itineraries.{len(rows)}"] = [problem]
        if row["region"] or row["from_day"]:
            rows.append(row)
    raw["itineraries"] = rows
    return raw, problems


def card_values(card: ReturneeCard | None) -> dict[str, Any]:
    """Form values for an existing card (or an empty form)."""
    if card is None:
        return {"itineraries": [], "contact": "", "no_travel": False}

    def answer(value: bool | None) -> str:
        return "" if value is None else ("yes" if value else "no")

    return {
        "planned_return": card.planned_return.isoformat() if card.planned_return else "",
        "coming_from_region": card.coming_from.full_name if card.coming_from else "",
        "no_travel": card.no_travel,
        "fever": answer(card.fever),
        "symptoms": answer(card.symptoms),
        "contact": card.contact,
        "note": card.note,
        "itineraries": [
            {
                "region": row.division.full_name,
                "from_day": row.from_day.isoformat(),
                "to_day": row.to_day.isoformat(),
                "transport": row.transport,
                "transport_number": row.transport_number,
                "note": row.note,
            }
            for row in card.itineraries.select_related("division").order_by("from_day")
        ],
    }


def form_rows(values: dict[str, Any], errors: dict[str, Any]) -> list[dict[str, Any]]:
    """The itinerary rows to show: the given ones, then blank ones, each with its errors."""
    rows = list(values.get("itineraries") or [])
    rows += [{} for _ in range(ITINERARY_ROWS if len(rows) < 3 else 2)]
    shown = []
    for index, row in enumerate(rows):
        problem = errors.get(f"itineraries.{index}")
        if isinstance(problem, dict):
            messages = [m for field_messages in problem.values() for m in field_messages]
        else:
            messages = list(problem or [])
        shown.append({"index": index, "values": row, "errors": messages})
    return shown


def form_choices() -> dict[str, Any]:
    return {
        "transport_choices": Transport.choices,
        "contact_choices": Contact.choices,
    }


class ReturneeFilterForm(forms.Form):
    q = forms.CharField(label=gettext_lazy("Name, initials or ID tail"), required=False)
    unit = forms.CharField(label=gettext_lazy("Unit (code)"), required=False)
    outcome = forms.ChoiceField(
        label=gettext_lazy("Decision"),
        required=False,
        choices=[("", gettext_lazy("All")), *Outcome.choices],
    )
    level = forms.ChoiceField(
        label=gettext_lazy("Risk level"),
        required=False,
        choices=[("", gettext_lazy("All")), *RiskLevel.choices],
    )
    return_from = forms.DateField(
        label=gettext_lazy("Return from"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    return_to = forms.DateField(
        label=gettext_lazy("Return until"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    closed = forms.BooleanField(label=gettext_lazy("Include closed cards"), required=False)


class RiskAreaFilterForm(forms.Form):
    q = forms.CharField(
        label=gettext_lazy("Region (name or code)"),
        required=False,
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "data-region-suggest": reverse_lazy("health:divisions")}
        ),
    )
    level = forms.ChoiceField(
        label=gettext_lazy("Risk level"),
        required=False,
        choices=[("", gettext_lazy("All")), *RiskLevel.choices],
    )
