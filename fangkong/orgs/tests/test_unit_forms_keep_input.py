"""A form the server refuses on a unit page comes back with what was typed and the message
at the field, instead of a redirect that loses every field.
"""

import re

import pytest
from django.urls import reverse

from fangkong.orgs.models import OrgUnit, Person
from fangkong.testing import valid_resident_id

pytestmark = pytest.mark.django_db

WOMAN = valid_resident_id(4, birth="19900215")  # 17th digit 4: a woman


def field_block(page: str, field_id: str) -> str:
    """The <div> holding a field: its input and the messages under it."""
    start = page.rindex("<div>", 0, page.index(f'id="{field_id}"'))
    return page[start : page.index("</div>", start)]


def test_a_refused_registration_keeps_the_fields_and_shows_the_checksum_at_the_number(
    client, org, login_as
):
    login_as("unit_admin", org.ent_a)
    url = reverse("orgs:unit_action", args=[org.shop_a.pk, "add-person"])
    bad_checksum = valid_resident_id(7)[:-1] + ("0" if valid_resident_id(7)[-1] != "0" else "1")
    response = client.post(
        url,
        {
            "name": "王芳",
            "id_type": "resident_id",
            "id_number": bad_checksum,
            "phone": "13800138077",
            "category": "employee",
        },
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    assert response.status_code == 422
    page = response.content.decode()
    assert 'id="unit-actions" open' in page
    assert 'value="王芳"' in field_block(page, "p-name")
    assert 'value="13800138077"' in field_block(page, "p-phone")
    number = field_block(page, "p-number")
    assert f'value="{bad_checksum}" autofocus aria-invalid="true"' in number
    assert "校验码" in number
    assert not Person.objects.filter(name="王芳").exists()


def test_a_gender_the_number_contradicts_is_named_at_the_gender(client, org, login_as):
    login_as("unit_admin", org.ent_a)
    url = reverse("orgs:unit_action", args=[org.shop_a.pk, "add-person"])
    form = {
        "name": "王芳",
        "id_type": "resident_id",
        "id_number": WOMAN,
        "gender": "male",
        "phone": "13800138078",
        "category": "employee",
    }
    response = client.post(url, form, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 422
    page = response.content.decode()
    gender = field_block(page, "id_gender")
    assert "女" in gender and "autofocus" in gender
    assert re.search(r'<option value="male" selected>', gender)
    assert f'value="{WOMAN}"' in field_block(page, "p-number")
    assert 'value="13800138078"' in field_block(page, "p-phone")


def test_the_other_unit_forms_keep_their_input(client, org, login_as):
    login_as("unit_admin", org.ent_a)
    taken = client.post(
        reverse("orgs:unit_action", args=[org.plant_a.pk, "add"]),
        {"code": org.shop_a.code, "name": "二车间", "kind": "workshop"},
    )
    assert taken.status_code == 422
    page = taken.content.decode()
    assert 'value="二车间"' in field_block(page, "add-name")
    assert "已被使用" in field_block(page, "add-code")
    assert not OrgUnit.objects.filter(name="二车间").exists()

    empty = client.post(reverse("orgs:unit_action", args=[org.shop_a.pk, "rename"]), {"name": " "})
    assert empty.status_code == 422
    assert 'aria-invalid="true"' in field_block(empty.content.decode(), "rename-name")

    outside = client.post(
        reverse("orgs:unit_action", args=[org.shop_a.pk, "move"]), {"parent_code": "B"}
    )
    assert outside.status_code == 422
    move = field_block(outside.content.decode(), "move-parent")
    assert 'value="B"' in move and "范围" in move
