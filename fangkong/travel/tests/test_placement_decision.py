"""A person placed in quarantine is not 可返岗: the returnee decision follows the placement."""

import pytest

from fangkong.quarantine.models import Mode
from fangkong.quarantine.services import (
    placement_release_approve,
    placement_release_request,
    placement_start,
)
from fangkong.quarantine.tests.factories import make_site
from fangkong.travel import services
from fangkong.travel.models import Outcome

from .factories import ZHANGDIAN, set_level
from .test_decisions import card_raw

pytestmark = pytest.mark.django_db
STAYED_HOME = card_raw(no_travel=True, itineraries=[])


def test_a_person_in_a_room_must_quarantine_until_release_then_may_return(org):
    set_level(ZHANGDIAN, "low", since=20)  # the list has been entered
    card = services.card_file(actor=None, person=org.person_a, raw=STAYED_HOME)
    assert card.outcome == Outcome.MAY_RETURN
    site, rooms = make_site(org.ent_a, name="铝城宾馆")
    placement = placement_start(
        actor=None,
        person=org.person_a,
        mode=Mode.CENTRALISED,
        level="high",
        site=site,
        room=rooms["102"],
    )
    card.refresh_from_db()
    assert card.outcome == Outcome.MUST_QUARANTINE
    decision = card.decisions.first()
    assert decision.quarantine_until == placement.planned_end
    assert "in quarantine since" in decision.explanation and "102" in decision.explanation
    placement_release_request(actor=None, placement=placement, reason="期满")
    card.refresh_from_db()
    assert card.outcome == Outcome.MUST_QUARANTINE  # awaiting approval is still inside
    placement_release_approve(actor=None, placement=placement)
    card.refresh_from_db()
    assert card.outcome == Outcome.MAY_RETURN


def test_filing_a_card_while_placed_decides_must_quarantine(org):
    set_level(ZHANGDIAN, "low", since=20)
    placement_start(
        actor=None, person=org.person_a, mode=Mode.HOME, level="medium", address="张店区1号"
    )
    card = services.card_file(actor=None, person=org.person_a, raw=STAYED_HOME)
    assert card.outcome == Outcome.MUST_QUARANTINE
