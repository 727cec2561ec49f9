"""What the problem pages read from a request; the services check the rules."""

import datetime as dt
from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from fangkong.core.text import FIRST_DAY, LAST_DAY

from .ledger_kind import PROBLEM
from .models import Colour, ProblemClass, Severity, Source

TARGET_ROWS = 3
MILESTONE_ROWS = 4
DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class DayField(forms.DateField):
    """A date in the window every date here lies in (core.text.FIRST_DAY … LAST_DAY)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("widget", DATE)
        super().__init__(**kwargs)

    def clean(self, value: Any) -> dt.date | None:
        day = super().clean(value)
        if day is not None and not FIRST_DAY <= day <= LAST_DAY:
            raise ValidationError(
                _("Give a date between %(first)s and %(last)s.")
                % {"first": FIRST_DAY, "last": LAST_DAY}
            )
        return day


def _all(choices: Any) -> list[tuple[str, Any]]:
    return [("", _("All")), *choices]


class ProblemFilterForm(forms.Form):
    q = forms.CharField(label=_("Title or reference"), required=False, max_length=100)
    unit = forms.CharField(label=_("Unit (code)"), required=False, max_length=64)
    state = forms.ChoiceField(label=_("State"), required=False)
    colour = forms.ChoiceField(
        label=pgettext_lazy("supervision", "Colour"),
        required=False,
        choices=_all([*Colour.choices[1:], ("none", pgettext_lazy("colour", "None"))]),
    )
    source = forms.ChoiceField(label=_("Source"), required=False, choices=_all(Source.choices))
    severity = forms.ChoiceField(
        label=_("Severity"), required=False, choices=_all(Severity.choices)
    )
    problem_class = forms.ChoiceField(
        label=_("Class"), required=False, choices=_all(ProblemClass.choices)
    )
    overdue = forms.ChoiceField(
        label=_("Deadline"),
        required=False,
        choices=[("", _("All")), ("1", _("Overdue")), ("0", _("Not overdue"))],
    )
    owner = forms.ChoiceField(
        label=_("Owner"), required=False, choices=[("", _("Anyone")), ("me", _("Mine"))]
    )
    # Set by the figures page and the home page; kept through the filters.
    opened_from = DayField(required=False, widget=forms.HiddenInput)
    opened_to = DayField(required=False, widget=forms.HiddenInput)
    closed_from = DayField(required=False, widget=forms.HiddenInput)
    closed_to = DayField(required=False, widget=forms.HiddenInput)
    active_from = DayField(required=False, widget=forms.HiddenInput)
    active_to = DayField(required=False, widget=forms.HiddenInput)
    on_time = forms.ChoiceField(
        required=False, choices=[("", ""), ("1", "1"), ("0", "0")], widget=forms.HiddenInput
    )
    with_targets = forms.BooleanField(required=False, widget=forms.HiddenInput)
    with_savings = forms.BooleanField(required=False, widget=forms.HiddenInput)
    awaiting = forms.BooleanField(required=False, widget=forms.HiddenInput)
    check_due = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        state: Any = self.fields["state"]
        state.choices = [
            ("open", _("Open (all)")),
            ("closed", _("Closed out")),
            ("", _("All")),
            # the closed state is "Closed out" above
            *((s.key, s.label) for s in PROBLEM.states if s.key not in PROBLEM.closed_states),
        ]


class RegisterForm(forms.Form):
    source = forms.ChoiceField(label=_("Source"), choices=Source.choices)
    source_ref = forms.CharField(label=_("Source reference"), max_length=100, required=False)
    title = forms.CharField(label=_("Title"), max_length=200)
    description = forms.CharField(label=_("Description"), widget=forms.Textarea, required=False)
    category = forms.CharField(
        label=pgettext_lazy("problem", "Category"), max_length=64, required=False
    )
    severity = forms.ChoiceField(label=_("Severity"), choices=Severity.choices)
    problem_class = forms.ChoiceField(
        label=_("Class"), choices=ProblemClass.choices, initial=ProblemClass.DEADLINE
    )
    unit_code = forms.CharField(label=_("Responsible unit (code)"), max_length=64)
    assigning_unit = forms.TypedChoiceField(label=_("Assigning unit"), coerce=int)
    due_on = DayField(label=_("Due on"), required=False)
    due_working_days = forms.IntegerField(
        label=_("Or within working days"), required=False, min_value=1, max_value=250
    )
    responsible_name = forms.CharField(label=_("Person responsible"), max_length=64, required=False)
    leader_name = forms.CharField(label=_("Leader in charge"), max_length=64, required=False)

    def __init__(self, *args: Any, units: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field: Any = self.fields["assigning_unit"]
        field.choices = [(u.pk, u.place) for u in units]
        for i in range(TARGET_ROWS):
            self.fields[f"target_{i}_label"] = forms.CharField(
                label=pgettext_lazy("quantity", "Target"), max_length=100, required=False
            )
            self.fields[f"target_{i}_uom"] = forms.CharField(
                label=_("Unit of measure"), max_length=16, required=False
            )
            self.fields[f"target_{i}_qty"] = forms.DecimalField(
                label=_("Quantity"),
                required=False,
                min_value=Decimal("0.01"),
                max_digits=12,
                decimal_places=2,
            )
        for i in range(MILESTONE_ROWS):
            self.fields[f"milestone_{i}_title"] = forms.CharField(
                label=_("Milestone"), max_length=200, required=False
            )
            self.fields[f"milestone_{i}_due"] = DayField(label=_("Due on"), required=False)
        self._name_the_rows_inputs()

    def _name_the_rows_inputs(self) -> None:
        """The rows' inputs sit under the table's header, with no label of their own: each
        is named for a screen reader by its column and row ("数量 2")."""
        for name, field in self.fields.items():
            if name.startswith(("target_", "milestone_")):
                row = int(name.split("_")[1]) + 1
                field.widget.attrs["aria-label"] = format_lazy("{} {}", field.label, row)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for i in range(TARGET_ROWS):
            label, qty = data.get(f"target_{i}_label"), data.get(f"target_{i}_qty")
            if label and qty is None and f"target_{i}_qty" not in self.errors:
                self.add_error(f"target_{i}_qty", _("Give the quantity of this target."))
            if qty is not None and not label:
                self.add_error(f"target_{i}_label", _("Name what is counted."))
        for i in range(MILESTONE_ROWS):
            title, due = data.get(f"milestone_{i}_title"), data.get(f"milestone_{i}_due")
            if title and due is None and f"milestone_{i}_due" not in self.errors:
                self.add_error(f"milestone_{i}_due", _("Give the milestone's day."))
            if due is not None and not title:
                self.add_error(f"milestone_{i}_title", _("Name the milestone."))
        return data

    def target_rows(self) -> list[tuple[Any, Any, Any]]:
        return [
            (self[f"target_{i}_label"], self[f"target_{i}_uom"], self[f"target_{i}_qty"])
            for i in range(TARGET_ROWS)
        ]

    def milestone_rows(self) -> list[tuple[Any, Any]]:
        return [
            (self[f"milestone_{i}_title"], self[f"milestone_{i}_due"])
            for i in range(MILESTONE_ROWS)
        ]

    def targets(self) -> list[tuple[str, str, Any]]:
        data = self.cleaned_data
        return [
            (data[f"target_{i}_label"], data[f"target_{i}_uom"] or "", data[f"target_{i}_qty"])
            for i in range(TARGET_ROWS)
            if data.get(f"target_{i}_label")
        ]

    def milestones(self) -> list[tuple[str, dt.date]]:
        data = self.cleaned_data
        return [
            (data[f"milestone_{i}_title"], data[f"milestone_{i}_due"])
            for i in range(MILESTONE_ROWS)
            if data.get(f"milestone_{i}_title")
        ]


class AssignForm(forms.Form):
    owners = forms.TypedMultipleChoiceField(
        label=_("People responsible"), coerce=int, widget=forms.CheckboxSelectMultiple
    )
    responsible_name = forms.CharField(
        label=_("Person responsible (name shown)"), max_length=64, required=False
    )

    def __init__(self, *args: Any, candidates: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field: Any = self.fields["owners"]
        field.choices = [(u.pk, u.display_name or u.username) for u in candidates]


class ProgressForm(forms.Form):
    note = forms.CharField(label=_("What was done"), widget=forms.Textarea, required=False)
    milestones = forms.TypedMultipleChoiceField(
        label=_("Milestones reached"),
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args: Any, problem: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.target_ids: list[int] = []
        if problem is None:
            return
        for target in problem.targets.all():
            self.target_ids.append(target.pk)
            self.fields[f"done_{target.pk}"] = forms.DecimalField(
                label=target.label,
                required=False,
                min_value=0,
                max_value=target.target,
                max_digits=12,
                decimal_places=2,
                initial=target.done,
            )
        field: Any = self.fields["milestones"]
        field.choices = [(m.pk, m.title) for m in problem.milestones.all() if m.done_at is None]
        if not field.choices:  # nothing left to reach: no empty box on the page
            del self.fields["milestones"]

    def target_fields(self) -> list[Any]:
        return [self[f"done_{pk}"] for pk in self.target_ids]

    def done(self) -> dict[int, Any]:
        return {
            pk: self.cleaned_data[f"done_{pk}"]
            for pk in self.target_ids
            if self.cleaned_data.get(f"done_{pk}") is not None
        }


class SubmitForm(forms.Form):
    measures = forms.CharField(label=_("Measures taken"), widget=forms.Textarea)
    root_cause = forms.CharField(label=_("Root cause"), widget=forms.Textarea, required=False)
    preventive = forms.CharField(
        label=_("Preventive action"), widget=forms.Textarea, required=False
    )
    note = forms.CharField(label=_("Note"), max_length=500, required=False)


class AcceptForm(forms.Form):
    note = forms.CharField(label=_("Note"), max_length=500, required=False)


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=500)


class CheckForm(forms.Form):
    effective = forms.ChoiceField(
        label=_("Does the fix hold?"),
        choices=[("1", _("Effective")), ("0", _("Not effective"))],
        widget=forms.RadioSelect,
    )
    note = forms.CharField(label=_("Note"), max_length=500, required=False)


class RecurForm(forms.Form):
    reason = forms.CharField(label=_("What came back"), max_length=500)
    due_on = DayField(label=_("New due date (blank: as long as the first time)"), required=False)


class SavingForm(forms.Form):
    label = forms.CharField(label=_("What is measured"), max_length=100)
    unit_of_measure = forms.CharField(label=_("Unit of measure"), max_length=16, required=False)
    baseline = forms.DecimalField(
        label=_("Baseline"),
        max_digits=14,
        decimal_places=2,
        min_value=Decimal("0.01"),
    )
    current = forms.DecimalField(label=_("Now"), max_digits=14, decimal_places=2, min_value=0)


class FiguresForm(forms.Form):
    unit = forms.CharField(label=_("Unit (code)"), required=False, max_length=64)
    start = DayField(label=_("From"), required=False)
    end = DayField(label=_("To"), required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        if start and end and end < start:
            self.add_error("end", _("The last day comes on or after the first."))
        return data
