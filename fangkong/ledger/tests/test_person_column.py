"""The person column is headed 姓名 (a person's name), not 名称 (a thing's name)."""

import io

import openpyxl
import pytest
from django.urls import reverse

from fangkong.accounts.roles import Role
from fangkong.ledger import services
from fangkong.ledger.keys import person_key

pytestmark = pytest.mark.django_db


def test_ledger_export_heads_the_person_column_with_xingming(client, org, login_as):
    person = org.person_a
    services.item_open(
        actor=None,
        kind="testcase",
        subject=person,
        person=person,
        unit=person.unit,
        title="发热",
        open_key=person_key(person.pk),
    )
    login_as(Role.GROUP_ADMIN, org.group)
    url = reverse("ledger:export", args=["testcase"]) + "?format=xlsx"
    sheet = openpyxl.load_workbook(io.BytesIO(client.get(url).content)).active
    headers = next(sheet.iter_rows(values_only=True))
    assert "姓名" in headers and "名称" not in headers


@pytest.mark.parametrize(
    "name", ["quarantine:placements", "travel:returnees", "health:declarations"]
)
def test_person_lists_head_the_name_column_with_xingming(client, org, login_as, name):
    login_as(Role.GROUP_ADMIN, org.group)
    page = client.get(reverse(name)).content.decode()
    assert "<th>姓名</th>" in page and "<th>名称</th>" not in page
