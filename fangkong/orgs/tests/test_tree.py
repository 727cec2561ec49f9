import datetime as dt

import pytest

from fangkong.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from fangkong.core.models import AuditLog
from fangkong.orgs import selectors, services
from fangkong.orgs.models import OrgUnit, Person, UnitKind
from fangkong.testing import valid_resident_id

pytestmark = pytest.mark.django_db


def test_subtree_headcounts_count_people_in_every_sub_unit(org):
    assert selectors.subtree_headcount(org.group.path) == 2
    assert selectors.subtree_headcount(org.ent_a.path) == 1
    assert selectors.subtree_headcount(org.shop_a.path) == 1
    assert selectors.subtree_headcount(org.community.path) == 0


def test_moving_a_subtree_moves_paths_depths_and_head_counts(org):
    admin = org.user("group_admin", org.group)
    services.unit_move(actor=admin, unit=org.plant_a, new_parent=org.ent_b)
    shop = OrgUnit.objects.get(pk=org.shop_a.pk)
    assert shop.path.startswith(org.ent_b.path)
    assert shop.depth == org.ent_b.depth + 2
    assert Person.objects.get(pk=org.person_a.pk).unit_path == shop.path
    assert selectors.subtree_headcount(org.ent_a.path) == 0
    assert selectors.subtree_headcount(org.ent_b.path) == 2
    assert AuditLog.objects.filter(action="move", object_id=str(org.plant_a.pk)).exists()


def test_a_unit_cannot_move_under_its_own_descendant(org):
    with pytest.raises(Conflict):
        services.unit_move(actor=None, unit=org.ent_a, new_parent=org.shop_a)


def test_a_unit_admin_cannot_move_a_unit_out_of_their_subtree(org):
    admin = org.user("unit_admin", org.ent_a)
    with pytest.raises(NotFound):
        services.unit_move(actor=admin, unit=org.plant_a, new_parent=org.ent_b)


def test_closing_a_unit_with_people_is_refused(org):
    with pytest.raises(Conflict):
        services.unit_close(actor=None, unit=org.plant_a)


def test_closing_closes_the_subtree_and_keeps_history(org):
    services.person_update(actor=None, person=org.person_a, unit=org.plant_b)
    day = dt.date.today()
    services.unit_close(actor=None, unit=org.plant_a, on=day)
    assert OrgUnit.objects.get(pk=org.shop_a.pk).valid_to == day
    assert OrgUnit.objects.filter(pk=org.plant_a.pk).exists()
    assert selectors.subtree_unit_count(org.ent_a.path) == 1
    assert org.plant_a not in selectors.unit_search(org.user("group_admin", org.group), "电解")


def test_codes_are_unique_and_names_required(org):
    with pytest.raises(InvalidInput):
        services.unit_create(
            actor=None, code="A", name="重复", kind=UnitKind.PLANT, parent=org.group
        )
    with pytest.raises(InvalidInput):
        services.unit_create(
            actor=None, code="NEW", name=" ", kind=UnitKind.PLANT, parent=org.group
        )


@pytest.mark.parametrize("query", ["sdly", "SDLY", "山东", "A", "shandong"])
def test_search_by_name_code_or_pinyin(org, query):
    found = selectors.unit_search(org.user("viewer", org.group), query)
    assert org.ent_a in found


def test_search_stays_inside_the_scope(org):
    viewer_b = org.user("viewer", org.ent_b)
    assert list(selectors.unit_search(viewer_b, "sdly")) == []


def test_a_reporter_may_not_create_units(org):
    reporter = org.user("reporter", org.ent_a)
    with pytest.raises(PermissionDenied):
        services.unit_create(
            actor=reporter, code="X1", name="新车间", kind=UnitKind.WORKSHOP, parent=org.plant_a
        )


def test_registering_the_same_document_twice_in_scope_is_refused(org):
    admin = org.user("unit_admin", org.ent_a)
    with pytest.raises(InvalidInput):
        services.person_create(
            actor=admin, unit=org.plant_a, name="张伟", id_number=org.person_a.id_number
        )


def test_merge_keeps_the_duplicate_as_history(org):
    """A community registers someone a plant already has: it cannot see them, so a duplicate."""
    community_admin = org.user("unit_admin", org.ent_b)
    duplicate = services.person_create(
        actor=community_admin,
        unit=org.community,
        name="张伟",
        id_number=org.person_a.id_number,
        phone="",
        household=org.household,
        category="resident",
    )
    admin = org.user("group_admin", org.group)
    assert [len(g) for g in selectors.duplicate_groups(admin)] == [2]
    survivor = services.person_merge(actor=admin, survivor=org.person_a, duplicate=duplicate)
    duplicate.refresh_from_db()
    assert survivor.household == org.household
    assert duplicate.is_active is False and duplicate.merged_into == survivor
    assert selectors.duplicate_groups(admin) == []
    assert selectors.subtree_headcount(org.group.path) == 2
    assert AuditLog.objects.filter(action="merge").count() == 1


def test_merge_of_different_documents_is_refused(org):
    with pytest.raises(Conflict):
        services.person_merge(actor=None, survivor=org.person_a, duplicate=org.person_b)


def test_every_service_write_is_audited_with_before_and_after(org):
    admin = org.user("unit_admin", org.ent_a)
    services.unit_rename(actor=admin, unit=org.shop_a, name="电解一车间")
    entry = AuditLog.objects.filter(action="update", object_id=str(org.shop_a.pk)).get()
    assert entry.actor == admin
    assert entry.before["name"] == "一车间" and entry.after["name"] == "电解一车间"
    assert entry.scope_path == org.shop_a.path


def test_person_fields_are_validated_together(org):
    with pytest.raises(InvalidInput) as error:
        services.person_create(actor=None, unit=org.plant_a, name="", id_number="123", phone="555")
    assert set(error.value.detail) == {"name", "id_number", "phone"}


def test_id_numbers_are_stored_canonically(org):
    person = services.person_create(
        actor=None,
        unit=org.plant_a,
        name="王芳",
        id_number="11010519491231002x",
        phone="+86 139 0000 0000",
    )
    assert person.id_number == "11010519491231002X"
    assert person.phone == "13900000000"
    assert valid_resident_id(5) != person.id_number
