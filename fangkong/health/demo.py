"""Deterministic demo declarations: a week for the small demo, one day at the larger scales.

Statuses and flags come from the configured rules (``status.assess``; by default fever from
37.3 °C, any symptom, a suspected contact and a stay in a risk area are yellow, a confirmed
contact and a positive test red). Rows go in with ``bulk_create``.
"""

import datetime as dt
import random
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from fangkong.core.models import Division
from fangkong.orgs.models import Person

from . import tally
from .defaults import DEFAULT_SYMPTOMS
from .models import Contact, Declaration, TestResult, Whereabouts
from .status import RuleSpec, active_rules, assess

DEFAULT_DIVISION = "370303"
SYMPTOM_CODES = [code for code, _name, _en in DEFAULT_SYMPTOMS]


def declaration(
    person: Any,
    day: dt.date,
    *,
    temperature: Decimal | str = "36.5",
    symptoms: list[str] | None = None,
    whereabouts: str = Whereabouts.AT_POST,
    contact: str = Contact.NONE,
    risk_area_stay: bool = False,
    test_result: str = TestResult.NONE,
    division_id: str = DEFAULT_DIVISION,
    unit_path: str | None = None,
    rules: list[RuleSpec] | None = None,
) -> Declaration:
    """Return an unsaved current declaration with its status and flags filled in."""
    temperature = Decimal(str(temperature))
    symptoms = symptoms or []
    judged = assess(
        rules=active_rules() if rules is None else rules,
        temperature=temperature,
        symptoms=symptoms,
        contact=contact,
        risk_area_stay=risk_area_stay,
        test_result=test_result,
    )
    return Declaration(
        person_id=person if isinstance(person, int) else person.pk,
        unit_path=unit_path if unit_path is not None else person.unit_path,
        day=day,
        temperature=temperature,
        symptoms=symptoms,
        division_id=division_id,
        whereabouts=whereabouts,
        contact=contact,
        risk_area_stay=risk_area_stay,
        test_result=test_result,
        status=judged.status,
        reasons=judged.reasons,
        **judged.flags,
    )


class DeclarationMaker:
    """Draw one person's declaration for one day: mostly normal, about 1 % abnormal."""

    def __init__(self, rng: random.Random, divisions: set[str]) -> None:
        self.rng, self.divisions, self.rules = rng, divisions, active_rules()

    def make(self, person_id: int, unit_path: str, region: str, day: dt.date) -> Declaration:
        rng = self.rng
        roll = rng.random()
        fields: dict[str, Any] = {"temperature": Decimal(rng.choice(("36.2", "36.5", "36.7")))}
        if roll < 0.004:
            fields["temperature"] = Decimal(rng.choice(("37.4", "37.6", "38.1")))
        elif roll < 0.008:
            fields["symptoms"] = [rng.choice(SYMPTOM_CODES)]
        elif roll < 0.009:
            fields["risk_area_stay"] = True
        elif roll < 0.0095:
            fields["contact"] = Contact.SUSPECTED
        elif roll < 0.03:
            fields["whereabouts"] = Whereabouts.TRAVELLING
        elif roll < 0.25:
            fields["whereabouts"] = Whereabouts.AT_HOME
        division = region if region in self.divisions else DEFAULT_DIVISION
        return declaration(
            person_id, day, unit_path=unit_path, division_id=division, rules=self.rules, **fields
        )


def _people() -> Iterator[tuple[int, str, str]]:
    yield from (
        Person.objects.filter(is_active=True)
        .order_by("id")
        .values_list("id", "unit_path", "id_number")
        .iterator(chunk_size=20_000)
    )


def seed_declarations(
    *,
    days: int = 7,
    today: dt.date | None = None,
    rate: float = 0.95,
    seed: int = 20200316,
    batch: int = 5_000,
    quarantined: int = 1,
) -> int:
    """Declare for every active person on each of the ``days`` ending ``today``.

    About ``rate`` of the people declare on a given day; the first ``quarantined`` people
    (by id, among employees of plants) are in quarantine every day. Return the rows made.
    """
    today = today or timezone.localdate()
    window = [today - dt.timedelta(days=n) for n in range(days - 1, -1, -1)]
    rng = random.Random(seed)
    maker = DeclarationMaker(rng, set(Division.objects.values_list("code", flat=True)))
    in_quarantine = set(
        Person.objects.filter(is_active=True, category="employee")
        .order_by("id")
        .values_list("id", flat=True)[:quarantined]
    )
    made, chunk = 0, []
    with transaction.atomic():
        for person_id, unit_path, id_number in _people():
            for day in window:
                if rng.random() > rate and person_id not in in_quarantine:
                    continue
                row = maker.make(person_id, unit_path, id_number[:6], day)
                if person_id in in_quarantine:
                    row.whereabouts = Whereabouts.QUARANTINE
                chunk.append(row)
            if len(chunk) >= batch:
                Declaration.objects.bulk_create(chunk)
                made, chunk = made + len(chunk), []
        Declaration.objects.bulk_create(chunk)
        tally.rebuild(window)
    return made + len(chunk)
