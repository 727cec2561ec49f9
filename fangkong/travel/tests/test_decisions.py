"""Returnee cards get a decision that names the rule and the area."""

import pytest

from fangkong.core.errors import InvalidInput, NotFound, PermissionDenied
from fangkong.core.models import AuditLog
from fangkong.health import services as health_services
from fangkong.orgs.services import unit_create
from fangkong.travel import services
from fangkong.travel.models import Decision, Itinerary, Outcome, ReturneeCard, ReturnRule

from .factories import JIANGAN, WUHAN, ZHANGDIAN, days_ago, set_level

pytestmark = pytest.mark.django_db


def card_raw(**overrides):
    raw = {
        "planned_return": days_ago(-1).isoformat(),
        "fever": "no",
        "symptoms": "no",
        "contact": "none",
        "itineraries": [
            {
                "division": JIANGAN,
                "from_day": days_ago(10).isoformat(),
                "to_day": days_ago(6).isoformat(),
                "transport": "train",
                "transport_number": "g1234",
            }
        ],
    }
    raw.update(overrides)
    return raw


def file(org, person=None, **overrides):
    return services.card_file(
        actor=org.user("grid_worker", org.group),
        person=person or org.person_a,
        raw=card_raw(**overrides),
    )


def test_a_card_waits_until_the_risk_list_exists_then_may_return(org):
    card = file(org)
    assert card.outcome == Outcome.WAITING
    assert "risk-area list" in card.decisions.first().explanation
    set_level(ZHANGDIAN, "low", since=3)
    services.card_redecide(actor=org.user("tracker", org.ent_a), card=card)
    card.refresh_from_db()
    assert card.outcome == Outcome.MAY_RETURN


def test_an_incomplete_card_waits_and_says_what_is_missing(org):
    set_level(ZHANGDIAN, "low", since=3)
    card = file(org, fever="", itineraries=[])
    decision = card.decisions.first()
    assert card.outcome == Outcome.WAITING
    assert "health questions" in decision.explanation and "itinerary" in decision.explanation


def test_high_risk_stay_means_quarantine_by_the_group_default_naming_area_and_rule(org):
    set_level(WUHAN, "high", since=20)
    card = file(org)
    decision = card.decisions.get()
    assert card.outcome == Outcome.MUST_QUARANTINE
    assert decision.level == "high" and decision.quarantine_days == 14
    assert decision.quarantine_until == days_ago(6 - 14)
    assert "湖北省 武汉市" in decision.explanation
    assert "outbreak profile" in decision.rule_label
    assert Itinerary.objects.get(card=card).transport_number == "G1234"


def test_the_nearest_ancestor_override_wins_over_the_group_rule(org):
    admin = org.user("group_admin", org.group)
    services.rule_save(
        actor=admin, unit=None, level="high", raw={"quarantine_days": "14", "tests": "2"}
    )
    services.rule_save(
        actor=org.user("unit_admin", org.ent_a),
        unit=org.ent_a,
        level="high",
        raw={"quarantine_days": "21", "mode": "centralised"},
    )
    plant_rule = services.rule_save(
        actor=admin,
        unit=org.plant_a,
        level="high",
        raw={"quarantine_days": "", "mode": "home", "monitoring_days": "7"},
    )
    set_level(WUHAN, "high", since=20)
    decision = file(org).decisions.get()
    assert decision.rule == plant_rule
    assert decision.quarantine_days == 14  # blank: the profile's days for high risk
    assert decision.mode == "home" and decision.monitoring_days == 7
    assert "电解铝厂" in decision.rule_label and "电解铝厂" in decision.explanation
    # person_b's enterprise has no override: the group rule
    other = file(org, person=org.person_b).decisions.get()
    assert other.rule.unit is None and other.tests == 2


def test_a_rule_change_redecides_open_cards_of_the_subtree(org):
    set_level(WUHAN, "medium", since=20)
    recent = [
        {
            "division": JIANGAN,
            "from_day": days_ago(4).isoformat(),
            "to_day": days_ago(2).isoformat(),
        }
    ]
    card = file(org, itineraries=recent)
    assert card.outcome == Outcome.MUST_QUARANTINE  # profile: 7 days after medium risk
    services.rule_save(
        actor=org.user("unit_admin", org.ent_a),
        unit=org.ent_a,
        level="medium",
        raw={"quarantine_days": "0", "monitoring_days": "14"},
    )
    card.refresh_from_db()
    assert card.outcome == Outcome.MAY_RETURN
    assert "14 days of health monitoring" in card.decisions.first().explanation


def test_raising_the_area_after_filing_redecides_the_card(org):
    set_level(ZHANGDIAN, "low", since=20)
    card = file(org)
    assert card.outcome == Outcome.MAY_RETURN
    set_level(WUHAN, "high", since=20)
    card.refresh_from_db()
    assert card.outcome == Outcome.MUST_QUARANTINE
    assert Decision.objects.filter(card=card).count() == 2


def test_quarantine_already_served_by_the_return_date_means_may_return(org):
    set_level(WUHAN, "medium", since=30)
    card = file(
        org,
        itineraries=[
            {
                "division": JIANGAN,
                "from_day": days_ago(14).isoformat(),
                "to_day": days_ago(12).isoformat(),
            }
        ],
    )
    assert card.outcome == Outcome.MAY_RETURN
    assert "has passed" in card.decisions.first().explanation


def test_fever_waits_for_a_medical_check_and_a_confirmed_contact_is_treated_as_high_risk(org):
    set_level(ZHANGDIAN, "low", since=20)
    assert file(org, fever="yes").outcome == Outcome.WAITING
    card = file(org, fever="no", contact="confirmed", itineraries=[], no_travel="1")
    assert card.outcome == Outcome.MUST_QUARANTINE
    assert ReturneeCard.objects.filter(person=org.person_a).count() == 1  # updated, not duplicated


def test_card_errors_name_the_itinerary_row(org):
    with pytest.raises(InvalidInput) as caught:
        file(
            org,
            itineraries=[
                {"division": JIANGAN, "from_day": days_ago(3).isoformat()},
                {"division": "999999", "from_day": "x"},
            ],
        )
    assert set(caught.value.detail) == {"itineraries.1"}
    assert set(caught.value.detail["itineraries.1"]) == {"division", "from_day"}


def test_only_proxies_of_the_person_file_cards(org):
    with pytest.raises(PermissionDenied):
        services.card_file(
            actor=org.user("tracker", org.ent_a), person=org.person_a, raw=card_raw()
        )
    with pytest.raises(NotFound):
        services.card_file(
            actor=org.user("grid_worker", org.ent_b), person=org.person_a, raw=card_raw()
        )


def test_a_personal_link_files_only_for_its_person(org):
    link = health_services.link_issue(actor=org.user("grid_worker", org.group), person=org.person_a)
    card = services.card_file(actor=None, person=org.person_a, raw=card_raw(), via_link=link)
    assert card.filed_by == "self" and card.proxy is None
    with pytest.raises(PermissionDenied):
        services.card_file(actor=None, person=org.person_b, raw=card_raw(), via_link=link)


def test_group_rules_need_the_outbreak_permission_and_overrides_the_unit_scope(org):
    with pytest.raises(PermissionDenied):
        services.rule_save(actor=org.user("unit_admin", org.ent_a), unit=None, level="high", raw={})
    with pytest.raises(NotFound):
        services.rule_save(
            actor=org.user("unit_admin", org.ent_a), unit=org.ent_b, level="high", raw={}
        )
    shop = unit_create(actor=None, code="B9", name="新厂", kind="plant", parent=org.ent_b)
    rule = services.rule_save(
        actor=org.user("unit_admin", org.ent_b), unit=shop, level="low", raw={"tests": "1"}
    )
    assert ReturnRule.objects.get(pk=rule.pk).tests == 1
    assert AuditLog.objects.filter(object_type="travel.returnrule", object_id=str(rule.pk)).exists()


def test_closing_a_card_needs_a_reason(org):
    card = file(org)
    worker = org.user("grid_worker", org.group)
    with pytest.raises(InvalidInput):
        services.card_close(actor=worker, card=card, reason=" ")
    services.card_close(actor=worker, card=card, reason="已返岗")
    card.refresh_from_db()
    assert not card.is_open


def test_merging_people_moves_their_itineraries_and_cards(org):
    from fangkong.orgs.models import Person
    from fangkong.orgs.services import person_merge

    duplicate = Person.objects.create(
        name=org.person_a.name,
        id_number=org.person_a.id_number,
        unit=org.shop_a,
        unit_path=org.shop_a.path,
    )
    file(org, person=duplicate)
    person_merge(actor=None, survivor=org.person_a, duplicate=duplicate)
    assert ReturneeCard.objects.get().person == org.person_a
    assert Itinerary.objects.get().person == org.person_a
