"""Close contacts: the observation card from the last contact, and who exposed whom."""

import datetime as dt

import pytest
from django.utils import timezone

from fangkong.core.errors import InvalidInput, NotFound, PermissionDenied
from fangkong.orgs.services import person_create
from fangkong.testing import valid_resident_id
from fangkong.tracking import rules, selectors, services
from fangkong.tracking.kinds import CONTACT
from fangkong.tracking.models import CloseContact

from .helpers import card_of

pytestmark = pytest.mark.django_db


def person(org, name, seed, unit=None):
    return person_create(
        actor=None, unit=unit or org.shop_a, name=name, id_number=valid_resident_id(seed)
    )


def ago(n: int) -> dt.date:
    return timezone.localdate() - dt.timedelta(days=n)


def test_a_contact_is_observed_for_the_follow_up_days_from_the_last_contact(org):
    tracker = org.user("tracker", org.ent_a)
    case = person(org, "王强", 801)
    _link, card = services.contact_record(
        actor=tracker, person=org.person_a, case=case, last_contact_day=ago(3), relation="colleague"
    )
    assert card is not None and card.kind == CONTACT
    assert card.data["observe_until"] == (ago(3) + dt.timedelta(days=14)).isoformat()
    assert list(card.owners.all()) == [tracker]
    assert not rules.readiness(card).ready

    # A later contact extends the observation on the same card.
    _link, again = services.contact_record(
        actor=tracker, person=org.person_a, case=case, last_contact_day=ago(1)
    )
    assert (
        again.pk == card.pk
        and again.data["observe_until"] == (ago(1) + dt.timedelta(days=14)).isoformat()
    )
    assert CloseContact.objects.get().last_contact_day == ago(1)


def test_a_contact_whose_period_is_over_gets_no_card(org):
    tracker = org.user("tracker", org.ent_a)
    case = person(org, "王强", 801)
    link, card = services.contact_record(
        actor=tracker, person=org.person_a, case=case, last_contact_day=ago(20)
    )
    assert link.pk and card is None and card_of(org.person_a, CONTACT) is None


def test_contacts_are_checked(org):
    tracker = org.user("tracker", org.ent_a)
    with pytest.raises(InvalidInput):
        services.contact_record(
            actor=tracker, person=org.person_a, case=org.person_a, last_contact_day=ago(1)
        )
    case = person(org, "王强", 801)
    with pytest.raises(InvalidInput):
        services.contact_record(
            actor=tracker, person=org.person_a, case=case, last_contact_day=ago(-1)
        )
    with pytest.raises(NotFound):  # the case lies outside the tracker's units
        services.contact_record(
            actor=tracker, person=org.person_a, case=org.person_b, last_contact_day=ago(1)
        )
    with pytest.raises(PermissionDenied):
        services.contact_record(
            actor=org.user("reporter", org.ent_a),
            person=org.person_a,
            case=case,
            last_contact_day=ago(1),
        )


def test_the_case_tree_follows_the_chain_and_hides_people_outside_the_scope(org):
    group_tracker = org.user("tracker", org.group)
    case = person(org, "王强", 801)
    second = person(org, "赵敏", 802)
    third = person(org, "钱进", 803, unit=org.plant_b)
    services.contact_record(
        actor=group_tracker, person=org.person_a, case=case, last_contact_day=ago(5)
    )
    services.contact_record(actor=group_tracker, person=second, case=case, last_contact_day=ago(4))
    services.contact_record(
        actor=group_tracker, person=third, case=org.person_a, last_contact_day=ago(2)
    )
    services.contact_record(
        actor=group_tracker, person=case, case=third, last_contact_day=ago(2)
    )  # a cycle

    tree = selectors.case_tree(group_tracker, case)
    names = [child.name for child in tree.root.children]
    assert sorted(names) == ["张伟", "赵敏"]
    zhang = next(c for c in tree.root.children if c.name == "张伟")
    assert [c.name for c in zhang.children] == ["钱进"]
    assert tree.size == 4
    assert [n.name for n in tree.exposed_by] == ["钱进"]

    local = selectors.case_tree(org.user("tracker", org.ent_a), case)
    zhang = next(c for c in local.root.children if c.person_id == org.person_a.pk)
    assert zhang.children[0].hidden and zhang.children[0].name == "—"
