"""Return-to-post decisions: the highest risk met in the window → the applicable rule → outcome.

Pure reads; ``services.card_decide`` stores the verdict. The rule is the override of the
nearest ancestor unit of the person (一企一策), else the group-wide rule, else the
outbreak profile's quarantine days (the built-in default).
"""

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.db.models import Q
from django.utils.translation import gettext as _

from fangkong.core.paths import ancestor_paths
from fangkong.health.models import Contact, OutbreakProfile

from .models import (
    LEVEL_RANK,
    Itinerary,
    Outcome,
    QuarantineMode,
    ReturneeCard,
    ReturnRule,
    RiskArea,
    RiskAreaBatch,
    RiskLevel,
)
from .recheck import area_days, look_back_window
from .regions import covering_codes

# A confirmed contact is treated like a stay in a high-risk area, a suspected one medium.
CONTACT_LEVEL = {Contact.CONFIRMED: RiskLevel.HIGH, Contact.SUSPECTED: RiskLevel.MEDIUM}
# Without any rule rows: the profile's days, centralised after high risk, else at home.
DEFAULT_MODE = {RiskLevel.HIGH: QuarantineMode.CENTRALISED}


@dataclass(frozen=True)
class AreaHit:
    """An itinerary's days inside an area while it had ``level``."""

    code: str
    name: str
    level: str
    first_day: dt.date
    last_day: dt.date

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "name": self.name,
            "level": self.level,
            "from": self.first_day.isoformat(),
            "to": self.last_day.isoformat(),
        }

    def label(self) -> str:
        level = RiskLevel(self.level).label
        return f"{self.name}（{level}，{self.first_day:%m-%d}–{self.last_day:%m-%d}）"


@dataclass(frozen=True)
class Measures:
    rule: ReturnRule | None
    label: str
    quarantine_days: int
    mode: str
    tests: int
    monitoring_days: int


@dataclass
class Verdict:
    outcome: str
    level: str = ""
    measures: Measures | None = None
    hits: list[AreaHit] = field(default_factory=list)
    quarantine_until: dt.date | None = None
    explanation: str = ""


def risk_hits(person_id: int, window: tuple[dt.date, dt.date]) -> list[AreaHit]:
    """Return the person's stays in listed areas inside the window (any level)."""
    itineraries = list(
        Itinerary.objects.filter(
            person_id=person_id, to_day__gte=window[0], from_day__lte=window[1]
        ).order_by("from_day")
    )
    codes = {code for row in itineraries for code in covering_codes(row.division_id)}
    areas = list(
        RiskArea.objects.filter(division_id__in=codes, effective_from__lte=window[1])
        .filter(Q(effective_to__isnull=True) | Q(effective_to__gt=window[0]))
        .select_related("division")
    )
    hits = []
    for row in itineraries:
        covering = set(covering_codes(row.division_id))
        for area in areas:
            days = area_days(area, window)
            if area.division_id not in covering or days is None:
                continue
            first, last = max(row.from_day, days[0]), min(row.to_day, days[1])
            if first <= last:
                hits.append(
                    AreaHit(area.division_id, area.division.full_name, area.level, first, last)
                )
    return hits


def applicable_measures(level: str, unit_path: str) -> Measures:
    """Return the measures for ``level`` for a person of the unit at ``unit_path``."""
    profile_days = OutbreakProfile.current().quarantine_days(level)
    override = (
        ReturnRule.objects.filter(level=level, unit__path__in=ancestor_paths(unit_path))
        .select_related("unit")
        .order_by("-unit__depth")
        .first()
    )
    rule = override or ReturnRule.objects.filter(level=level, unit__isnull=True).first()
    level_label = RiskLevel(level).label
    if rule is None:
        return Measures(
            rule=None,
            label=_("group default for %(level)s areas (outbreak profile)")
            % {"level": level_label},
            quarantine_days=profile_days,
            mode=DEFAULT_MODE.get(level, QuarantineMode.HOME),  # type: ignore[call-overload]
            tests=0,
            monitoring_days=0,
        )
    if rule.unit is not None:
        label = _("%(unit)s's own rule for %(level)s areas") % {
            "unit": rule.unit.name,
            "level": level_label,
        }
    else:
        label = _("group rule for %(level)s areas") % {"level": level_label}
    return Measures(
        rule=rule,
        label=label,
        quarantine_days=profile_days if rule.quarantine_days is None else rule.quarantine_days,
        mode=rule.mode,
        tests=rule.tests,
        monitoring_days=rule.monitoring_days,
    )


def missing_answers(card: ReturneeCard, itinerary_count: int) -> list[str]:
    """Return what the card still lacks before a decision can be made."""
    missing = []
    if card.planned_return is None:
        missing.append(_("the planned return date"))
    if card.fever is None or card.symptoms is None or not card.contact:
        missing.append(_("the health questions"))
    if not card.no_travel and itinerary_count == 0:
        missing.append(_("the itinerary (or “stayed at home throughout”)"))
    return missing


def measures_text(measures: Measures) -> str:
    parts = []
    if measures.quarantine_days:
        parts.append(
            _("%(days)d days of %(mode)s")
            % {"days": measures.quarantine_days, "mode": QuarantineMode(measures.mode).label}
        )
    if measures.tests:
        parts.append(_("%(n)d test(s)") % {"n": measures.tests})
    if measures.monitoring_days:
        parts.append(_("%(days)d days of health monitoring") % {"days": measures.monitoring_days})
    return "、".join(parts) or _("no measures")


def open_placement(person_id: int) -> Any:
    """Return the person's open quarantine placement, if any.

    Read through the app registry: quarantine sits beside travel, not below it, so travel
    does not import it (tracking, above both, re-decides when a placement starts or ends).
    """
    if not apps.is_installed("fangkong.quarantine"):
        return None
    placement = apps.get_model("quarantine", "Placement")
    return (
        placement.objects.filter(person_id=person_id, state__in=placement.OPEN_STATES)
        .select_related("site", "room")
        .first()
    )


def in_quarantine(verdict: Verdict, placement: Any) -> Verdict:
    """A person placed in quarantine may not return before release, whatever the card says."""
    until = max(placement.planned_end, verdict.quarantine_until or placement.planned_end)
    text = _(
        "Must quarantine: in quarantine since %(start)s (%(where)s), planned release on "
        "%(end)s; may return to post only after release."
    ) % {
        "start": placement.start.isoformat(),
        "where": placement.where,
        "end": placement.planned_end.isoformat(),
    }
    if verdict.outcome == Outcome.MUST_QUARANTINE:
        text += " " + verdict.explanation
    verdict.outcome, verdict.quarantine_until, verdict.explanation = (
        Outcome.MUST_QUARANTINE,
        until,
        text,
    )
    return verdict


def decide(card: ReturneeCard, *, today: dt.date | None = None) -> Verdict:
    """Work out the card's decision and explain it in one paragraph.

    An open quarantine placement of the person overrides a "may return" or "waiting".
    """
    verdict = decide_by_card(card, today=today)
    placement = open_placement(card.person_id)
    return in_quarantine(verdict, placement) if placement is not None else verdict


def decide_by_card(card: ReturneeCard, *, today: dt.date | None = None) -> Verdict:
    """The decision from the card, the itineraries, the risk-area list and the rules."""
    window = look_back_window(today)
    today = window[1]
    count = Itinerary.objects.filter(person_id=card.person_id, to_day__gte=window[0]).count()
    missing = missing_answers(card, count)
    if missing:
        return Verdict(
            Outcome.WAITING,
            explanation=_("Waiting: the card lacks %(what)s.") % {"what": "、".join(missing)},
        )
    if not RiskAreaBatch.objects.exists():
        return Verdict(
            Outcome.WAITING,
            explanation=_("Waiting: the risk-area list has not been entered yet."),
        )
    if card.fever or card.symptoms:
        return Verdict(
            Outcome.WAITING,
            explanation=_(
                "Waiting: fever or symptoms were reported; a medical check comes before the "
                "return-to-post decision."
            ),
        )
    hits = risk_hits(card.person_id, window)
    level = max((hit.level for hit in hits), key=LEVEL_RANK.__getitem__, default="")
    reasons = [hit.label() for hit in hits if hit.level == level]
    contact_level = CONTACT_LEVEL.get(card.contact, "")  # type: ignore[call-overload]
    if LEVEL_RANK[contact_level] > LEVEL_RANK[level]:
        level, reasons = contact_level, [str(Contact(card.contact).label)]
    if not level:
        days = window[1] - window[0]
        return Verdict(
            Outcome.MAY_RETURN,
            hits=hits,
            explanation=_(
                "May return: no stay in a listed risk area in the last %(days)d days; "
                "no return rule applies."
            )
            % {"days": days.days},
        )
    person_path = card.person.unit_path
    measures = applicable_measures(level, person_path)
    last_day = max((hit.last_day for hit in hits if hit.level == level), default=today)
    until = last_day + dt.timedelta(days=measures.quarantine_days)
    back_on = max(card.planned_return or today, today)
    facts = {
        "reasons": "；".join(reasons),
        "level": RiskLevel(level).label,
        "rule": measures.label,
        "measures": measures_text(measures),
    }
    if measures.quarantine_days and until > back_on:
        outcome = Outcome.MUST_QUARANTINE
        text = _(
            "Must quarantine until %(until)s: %(reasons)s (%(level)s). Rule applied: %(rule)s — "
            "%(measures)s."
        ) % {**facts, "until": until.isoformat()}
    else:
        outcome = Outcome.MAY_RETURN
        text = (
            _("May return: %(reasons)s (%(level)s). Rule applied: %(rule)s — %(measures)s.") % facts
        )
        if measures.quarantine_days:
            text += " " + _("The quarantine period after leaving the area has passed.")
    return Verdict(
        outcome,
        level=level,
        measures=measures,
        hits=hits,
        quarantine_until=until if outcome == Outcome.MUST_QUARANTINE else None,
        explanation=text,
    )
