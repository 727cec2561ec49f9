"""Health status from a declaration: the configured rules, worst colour wins."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from .models import Colour, Contact, HealthRule, OutbreakProfile, TestResult

Condition = HealthRule.Condition
_RANK = {Colour.GREEN: 0, Colour.YELLOW: 1, Colour.RED: 2}
# Which flag column each condition sets (contact of either kind is one reason in counts).
FLAG_OF = {
    Condition.FEVER: "flag_fever",
    Condition.SYMPTOM: "flag_symptom",
    Condition.CONTACT_SUSPECTED: "flag_contact",
    Condition.CONTACT_CONFIRMED: "flag_contact",
    Condition.RISK_AREA: "flag_risk_area",
    Condition.TEST_POSITIVE: "flag_positive",
}
FLAG_FIELDS = tuple(dict.fromkeys(FLAG_OF.values()))


@dataclass(frozen=True)
class RuleSpec:
    """A rule detached from the database, so a batch evaluates without queries."""

    condition: str
    colour: str
    threshold: Decimal | None = None
    symptom_code: str | None = None


@dataclass(frozen=True)
class Assessment:
    status: str
    reasons: list[str]
    flags: dict[str, bool] = field(default_factory=dict)


def active_rules(profile: OutbreakProfile | None = None) -> list[RuleSpec]:
    """Load the active rules once (per request or batch); fever reads the profile."""
    fever_threshold = (profile or OutbreakProfile.current()).fever_threshold
    return [
        RuleSpec(
            rule.condition,
            rule.colour,
            fever_threshold if rule.condition == Condition.FEVER else None,
            rule.symptom.code if rule.symptom else None,
        )
        for rule in HealthRule.objects.filter(is_active=True).select_related("symptom")
    ]


def _matches(
    rule: RuleSpec,
    *,
    temperature: Decimal,
    symptoms: Sequence[str],
    contact: str,
    risk_area_stay: bool,
    test_result: str,
) -> bool:
    if rule.condition == Condition.FEVER:
        return rule.threshold is not None and temperature >= rule.threshold
    if rule.condition == Condition.SYMPTOM:
        return rule.symptom_code in symptoms if rule.symptom_code else bool(symptoms)
    if rule.condition == Condition.CONTACT_SUSPECTED:
        return contact == Contact.SUSPECTED
    if rule.condition == Condition.CONTACT_CONFIRMED:
        return contact == Contact.CONFIRMED
    if rule.condition == Condition.RISK_AREA:
        return risk_area_stay
    return rule.condition == Condition.TEST_POSITIVE and test_result == TestResult.POSITIVE


def assess(
    *,
    rules: Iterable[RuleSpec],
    temperature: Decimal,
    symptoms: Sequence[str] = (),
    contact: str = Contact.NONE,
    risk_area_stay: bool = False,
    test_result: str = TestResult.NONE,
) -> Assessment:
    """Return the colour, the matched conditions (reasons) and the flag columns."""
    status, reasons = Colour.GREEN, []
    flags = dict.fromkeys(FLAG_FIELDS, False)
    for rule in rules:
        if not _matches(
            rule,
            temperature=temperature,
            symptoms=symptoms,
            contact=contact,
            risk_area_stay=risk_area_stay,
            test_result=test_result,
        ):
            continue
        if rule.condition not in reasons:
            reasons.append(rule.condition)
        flags[FLAG_OF[Condition(rule.condition)]] = True
        if _RANK[Colour(rule.colour)] > _RANK[Colour(status)]:
            status = Colour(rule.colour)
    return Assessment(status=str(status), reasons=reasons, flags=flags)


def reason_labels(reasons: Iterable[str]) -> list[str]:
    """Turn stored condition codes into the user's language."""
    return [str(Condition(code).label) if code in _CONDITIONS else code for code in reasons]


_CONDITIONS = frozenset(Condition.values)
