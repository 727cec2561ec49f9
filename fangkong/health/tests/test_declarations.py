"""Declaring: validation in the user's language, one current per day, retries never duplicate."""

import datetime as dt
import uuid

import pytest
from django.utils import timezone

from fangkong.core.errors import InvalidInput, KeyReused, NotFound
from fangkong.health import services
from fangkong.health.models import Declaration, HealthRule, OutbreakProfile, PersonLink, Symptom
from fangkong.health.selectors import link_from_token, link_token
from fangkong.orgs.services import person_update, unit_move

from .factories import raw_declaration

pytestmark = pytest.mark.django_db


def declare(org, person, role="grid_worker", **overrides):
    actor = org.user(role, org.group)
    return services.declarations_submit(actor=actor, items=[raw_declaration(person, **overrides)])


def test_a_normal_declaration_is_green_and_current(org):
    [stored] = declare(org, org.person_a)
    row = stored.declaration
    assert stored.created and row.status == "green" and row.reasons == [] and row.is_current
    assert row.unit_path == org.person_a.unit_path and row.filed_by == "proxy"


@pytest.mark.parametrize(
    ("overrides", "status", "reasons"),
    [
        ({"temperature": "37.3"}, "yellow", ["fever"]),
        ({"temperature": "37.2"}, "green", []),
        ({"symptoms": ["cough"]}, "yellow", ["symptom"]),
        ({"contact": "confirmed"}, "red", ["contact_confirmed"]),
        ({"test_result": "positive", "temperature": "38.0"}, "red", ["fever", "test_positive"]),
        ({"risk_area_stay": True}, "yellow", ["risk_area"]),
    ],
)
def test_status_follows_the_default_rules(org, overrides, status, reasons):
    [stored] = declare(org, org.person_a, **overrides)
    assert stored.declaration.status == status
    assert sorted(stored.declaration.reasons) == sorted(reasons)


def test_the_fever_threshold_is_configurable(org):
    OutbreakProfile.objects.update_or_create(pk=1, defaults={"fever_threshold": "37.5"})
    [stored] = declare(org, org.person_a, temperature="37.4")
    assert stored.declaration.status == "green"


def test_the_symptom_list_and_its_rules_are_configurable(org):
    Symptom.objects.create(code="chills", name="寒战", name_en="Chills")
    Symptom.objects.filter(code="runny_nose").update(is_active=False)
    HealthRule.objects.create(
        condition="symptom", symptom=Symptom.objects.get(code="breathing"), colour="red"
    )
    [chills] = declare(org, org.person_a, symptoms=["chills"])
    assert (chills.declaration.status, chills.declaration.reasons) == ("yellow", ["symptom"])
    [breathing] = declare(org, org.person_b, symptoms=["breathing"])
    assert breathing.declaration.status == "red"
    with pytest.raises(InvalidInput) as caught:
        declare(org, org.person_a, symptoms=["runny_nose"])
    assert "runny_nose" in caught.value.detail["symptoms"][0]


def test_a_later_declaration_supersedes_and_the_earlier_stays_in_history(org):
    declare(org, org.person_a, temperature="36.4")
    declare(org, org.person_a, temperature="38.1")
    rows = Declaration.objects.filter(person=org.person_a).order_by("created_at", "pk")
    assert [(str(r.temperature), r.is_current) for r in rows] == [("36.4", False), ("38.1", True)]


def test_a_batch_reads_back_exactly_as_returned(org):
    """The batch insert bypasses bulk_create: every column and id must still round-trip."""
    actor = org.user("group_admin", org.group)
    items = [
        raw_declaration(org.person_a, symptoms=["cough"], temperature="38.2", contact="suspected"),
        raw_declaration(org.person_b, whereabouts="quarantine", risk_area_stay=True),
    ]
    stored = services.declarations_submit(actor=actor, items=items)
    fields = [field.attname for field in Declaration._meta.concrete_fields]
    for result in stored:
        loaded = Declaration.objects.get(pk=result.declaration.pk)
        assert {name: getattr(loaded, name) for name in fields} == {
            name: getattr(result.declaration, name) for name in fields
        }
    assert stored[0].declaration.symptoms == ["cough"] and stored[0].declaration.flag_fever
    assert stored[1].declaration.filed_by == "proxy" and stored[1].declaration.created_at


def test_retrying_a_batch_stores_nothing_twice(org):
    actor = org.user("reporter", org.ent_a)
    items = [raw_declaration(org.person_a), raw_declaration(org.person_a, temperature="36.8")]
    first = services.declarations_submit(actor=actor, items=items)
    again = services.declarations_submit(actor=actor, items=items)
    assert [s.created for s in first] == [True, True]
    assert [s.created for s in again] == [False, False]
    assert Declaration.objects.count() == 2
    assert Declaration.objects.get(is_current=True).temperature == first[1].declaration.temperature


def test_out_of_range_temperature_is_refused_in_chinese_and_stores_nothing(org):
    with pytest.raises(InvalidInput) as caught:
        declare(org, org.person_a, temperature="42.5")
    assert "体温" in caught.value.as_text()
    assert Declaration.objects.count() == 0


def test_one_bad_row_refuses_the_whole_batch(org):
    actor = org.user("reporter", org.ent_a)
    items = [raw_declaration(org.person_a), raw_declaration(org.person_a, division="999999")]
    with pytest.raises(InvalidInput) as caught:
        services.declarations_submit(actor=actor, items=items)
    assert list(caught.value.detail["items"]) == ["1"]
    assert Declaration.objects.count() == 0


def test_future_and_stale_days_are_refused(org):
    today = timezone.localdate()
    for day in (today + dt.timedelta(days=1), today - dt.timedelta(days=8)):
        with pytest.raises(InvalidInput):
            declare(org, org.person_a, day=day.isoformat())


def test_nobody_declares_for_people_outside_their_units(org):
    actor = org.user("reporter", org.ent_a)
    with pytest.raises(NotFound):
        services.declarations_submit(actor=actor, items=[raw_declaration(org.person_b)])
    viewer = org.user("viewer", org.group)
    with pytest.raises(NotFound):
        services.declarations_submit(actor=viewer, items=[raw_declaration(org.person_a)])


def test_declarations_follow_a_person_who_moves(org):
    declare(org, org.person_a)
    admin = org.user("group_admin", org.group)
    person_update(actor=admin, person=org.person_a, unit=org.plant_b)
    assert Declaration.objects.get().unit_path == org.plant_b.path


def test_declarations_follow_a_unit_that_moves(org):
    declare(org, org.person_a)
    admin = org.user("group_admin", org.group)
    unit_move(actor=admin, unit=org.plant_a, new_parent=org.ent_b)
    org.person_a.refresh_from_db()
    assert Declaration.objects.get().unit_path == org.person_a.unit_path


def test_a_personal_link_declares_only_for_its_person_and_can_be_revoked(org):
    admin = org.user("grid_worker", org.group)
    link = services.link_issue(actor=admin, person=org.person_a)
    token = link_token(link)
    assert link_from_token(token) == link
    [stored] = services.declarations_submit(
        actor=None, items=[raw_declaration(org.person_a)], via_link=link
    )
    assert stored.declaration.filed_by == "self" and stored.declaration.proxy is None
    with pytest.raises(Exception):
        services.declarations_submit(
            actor=None, items=[raw_declaration(org.person_b)], via_link=link
        )
    services.link_revoke(actor=admin, person=org.person_a)
    with pytest.raises(NotFound):
        link_from_token(token)
    with pytest.raises(NotFound):
        link_from_token(token[:-2] + "xx")
    assert PersonLink.objects.filter(revoked_at__isnull=True).count() == 0


def test_reissuing_a_link_kills_the_old_one(org):
    admin = org.user("grid_worker", org.group)
    old = link_token(services.link_issue(actor=admin, person=org.person_a))
    new = link_token(services.link_issue(actor=admin, person=org.person_a))
    assert link_from_token(new).person == org.person_a
    with pytest.raises(NotFound):
        link_from_token(old)


def test_a_uuid_reused_for_other_content_is_refused(org):
    client_uuid = str(uuid.uuid4())
    declare(org, org.person_a, uuid=client_uuid, temperature="36.6")
    with pytest.raises(KeyReused):
        declare(org, org.person_a, uuid=client_uuid, temperature="39.0")
    assert [str(t) for t in Declaration.objects.values_list("temperature", flat=True)] == ["36.6"]


def test_a_grid_worker_declares_for_household_members_employed_elsewhere(org):
    worker = org.user("grid_worker", org.community)
    with pytest.raises(NotFound):
        services.declarations_submit(actor=worker, items=[raw_declaration(org.person_b)])
    org.person_b.household = org.household
    org.person_b.save(update_fields=["household"])
    [stored] = services.declarations_submit(actor=worker, items=[raw_declaration(org.person_b)])
    assert stored.declaration.unit_path == org.plant_b.path
    assert services.link_issue(actor=worker, person=org.person_b).person == org.person_b
