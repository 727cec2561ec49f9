"""Units named after their nearest ancestors, and search results best match first."""

import pytest
from django.urls import reverse_lazy

from fangkong.accounts.roles import Role
from fangkong.orgs import selectors
from fangkong.orgs.models import OrgUnit, UnitKind, place_related
from fangkong.orgs.services import person_create, unit_create
from fangkong.testing import valid_resident_id

pytestmark = pytest.mark.django_db

TREE = reverse_lazy("orgs:tree")


def unit(name, code, parent, kind=UnitKind.TEAM):
    return unit_create(actor=None, code=code, name=name, kind=kind, parent=parent)


def test_same_named_teams_are_told_apart_in_the_search_results(client, org, login_as):
    shop_b = unit("一车间", "B1W1", org.plant_b, UnitKind.WORKSHOP)
    unit("甲班", "A1W1T1", org.shop_a)
    unit("甲班", "B1W1T1", shop_b)
    login_as(Role.GROUP_ADMIN, org.group)
    page = client.get(TREE, {"q": "甲班"}).content.decode()
    assert "山东铝业有限公司 › 电解铝厂 › 一车间 › 甲班" in page
    assert "山西铝业有限公司 › 氧化铝厂 › 一车间 › 甲班" in page


def test_a_place_names_ancestors_up_to_the_enterprise_and_leaves_out_the_root(org):
    team = unit("甲班", "A1W1T1", org.shop_a)
    plant = unit("电解铝厂", "B2", org.ent_b, UnitKind.PLANT)
    namesake = unit("甲班", "B2W1T1", unit("一车间", "B2W1", plant, UnitKind.WORKSHOP))
    places = {
        u.pk: u.place
        for u in OrgUnit.objects.select_related(place_related()).filter(
            pk__in=[team.pk, namesake.pk, org.household.pk, org.plant_a.pk, org.ent_a.pk]
        )
    }
    assert places == {
        team.pk: "山东铝业有限公司 › 电解铝厂 › 一车间 › 甲班",
        namesake.pk: "山西铝业有限公司 › 电解铝厂 › 一车间 › 甲班",
        org.household.pk: "山西铝业有限公司 › 翠溪北区 › 1单元101室",
        org.plant_a.pk: "山东铝业有限公司 › 电解铝厂",
        org.ent_a.pk: "山东铝业有限公司",
    }
    assert OrgUnit.objects.get(pk=org.group.pk).place == "中国铝业集团有限公司"


def test_search_results_grow_without_more_queries(
    client, org, login_as, django_assert_max_num_queries
):
    shops = [unit("一车间", f"B1W{i}", org.plant_b, UnitKind.WORKSHOP) for i in range(6)]
    unit("甲班", "T0", shops[0])
    login_as(Role.GROUP_ADMIN, org.group)
    with django_assert_max_num_queries(50) as few:
        assert "甲班" in client.get(TREE, {"q": "甲班"}).content.decode()
    for i, shop in enumerate(shops[1:], start=1):
        unit("甲班", f"T{i}", shop)
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = client.get(TREE, {"q": "甲班"}).content.decode()
    assert page.count("山西铝业有限公司 › 氧化铝厂 › 一车间 › 甲班") == 6


def test_search_puts_exact_then_prefix_then_pinyin_then_contains(org):
    admin = org.user(Role.GROUP_ADMIN, org.group)
    contains = unit("仓库JB区", "X1", org.plant_a)
    initials = unit("甲班", "X2", org.plant_a)
    prefix = unit("检修班", "JB-7", org.plant_a)
    exact = unit("调度室", "JB", org.plant_b)
    assert list(selectors.unit_search(admin, "jb")) == [exact, prefix, initials, contains]


def test_search_orders_a_kind_of_match_by_path(org):
    admin = org.user(Role.GROUP_ADMIN, org.group)
    later_exact = unit("甲班", "Z1", org.plant_b)
    inside = unit("乙甲班", "Z2", org.plant_a)
    prefix = unit("甲班组", "Z3", org.plant_a)
    first_exact = unit("甲班", "Z4", org.shop_a)
    found = list(selectors.unit_search(admin, "甲班"))
    assert found == [first_exact, later_exact, prefix, inside]


def test_people_search_puts_the_exact_name_first(org):
    person_create(actor=None, unit=org.plant_a, name="张伟华", id_number=valid_resident_id(7))
    person_create(actor=None, unit=org.plant_a, name="小张伟", id_number=valid_resident_id(8))
    admin = org.user(Role.GROUP_ADMIN, org.group)
    names = [p.name for p in selectors.people_visible(admin, selectors.PeopleFilter(query="张伟"))]
    assert names == ["张伟", "张伟华", "小张伟"]
