"""Ledger lists name each item's unit after its nearest ancestors, in a fixed number of queries."""

import pytest
from django.urls import reverse

from fangkong.accounts.roles import Role
from fangkong.ledger import services
from fangkong.ledger.keys import person_key
from fangkong.orgs.models import UnitKind
from fangkong.orgs.services import person_create, unit_create
from fangkong.testing import valid_resident_id

pytestmark = pytest.mark.django_db


def team_card(shop, number):
    team = unit_create(
        actor=None, code=f"{shop.code}T{number}", name="甲班", kind=UnitKind.TEAM, parent=shop
    )
    person = person_create(
        actor=None, unit=team, name=f"工人{number}", id_number=valid_resident_id(100 + number)
    )
    services.item_open(
        actor=None,
        kind="testcase",
        subject=person,
        person=person,
        unit=team,
        title=f"{person.name} 发热",
        open_key=person_key(person.pk),
    )


def shop_under(plant, number):
    return unit_create(
        actor=None,
        code=f"{plant.code}W{number}",
        name="一车间",
        kind=UnitKind.WORKSHOP,
        parent=plant,
    )


def test_same_named_teams_are_told_apart_in_a_ledger_list(client, org, login_as):
    team_card(org.shop_a, 1)
    team_card(shop_under(org.plant_b, 1), 2)
    login_as(Role.GROUP_ADMIN, org.group)
    page = client.get(reverse("ledger:list", args=["testcase"])).content.decode()
    assert "山东铝业有限公司 › 电解铝厂 › 一车间 › 甲班" in page
    assert "山西铝业有限公司 › 氧化铝厂 › 一车间 › 甲班" in page
    assert ">姓名<" in page


def test_a_longer_ledger_list_costs_no_more_queries(
    client, org, login_as, django_assert_max_num_queries
):
    team_card(org.shop_a, 1)
    login_as(Role.GROUP_ADMIN, org.group)
    url = reverse("ledger:list", args=["testcase"])
    with django_assert_max_num_queries(60) as few:
        client.get(url)
    for number in range(2, 8):
        team_card(shop_under(org.plant_b, number), number)
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = client.get(url).content.decode()
    assert page.count("山西铝业有限公司 › 氧化铝厂 › 一车间 › 甲班") == 6
