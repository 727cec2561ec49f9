"""The audit log page: object types chosen by name, rows linked to their objects."""

import re

import pytest
from django.urls import reverse

from fangkong.accounts.roles import Role
from fangkong.orgs.services import person_update, unit_rename

pytestmark = pytest.mark.django_db


def test_object_type_filter_offers_translated_types(client, org, login_as):
    unit_rename(actor=None, unit=org.shop_a, name="一车间（新）")
    person_update(actor=None, person=org.person_a, phone="13800138009")
    login_as(Role.GROUP_ADMIN, org.group)
    page = client.get(reverse("accounts:audit")).content.decode()
    select = re.search(r'<select id="f-type" name="object_type">(.*?)</select>', page).group(1)
    assert '<option value="orgs.person">人员</option>' in select
    assert '<option value="orgs.orgunit">组织单位</option>' in select
    only_people = client.get(reverse("accounts:audit"), {"object_type": "orgs.person"})
    text = only_people.content.decode()
    assert "张伟" in text and "一车间（新）" not in text
    assert '<option value="orgs.person" selected>人员</option>' in text


def test_rows_link_to_the_person_and_the_unit_they_are_about(client, org, login_as):
    unit_rename(actor=None, unit=org.shop_a, name="一车间（新）")
    person_update(actor=None, person=org.person_a, phone="13800138009")
    login_as(Role.GROUP_ADMIN, org.group)
    page = client.get(reverse("accounts:audit")).content.decode()
    assert f'href="{reverse("orgs:person", args=[org.person_a.pk])}"' in page
    assert f'href="{reverse("orgs:unit", args=[org.shop_a.pk])}"' in page


def test_no_link_to_a_page_the_reader_may_not_open(client, org, login_as):
    from fangkong.ledger import services
    from fangkong.ledger.keys import person_key
    from fangkong.ledger.testing import register_test_kinds, unregister_test_kinds

    register_test_kinds()
    try:
        item, _ = services.item_open(
            actor=None,
            kind="testcase",
            subject=org.person_a,
            person=org.person_a,
            unit=org.shop_a,
            title="发热",
            open_key=person_key(org.person_a.pk),
        )
        login_as(Role.SUPERVISOR, org.group)  # reads the audit log, not health data
        page = client.get(reverse("accounts:audit")).content.decode()
        assert reverse("ledger:item", args=[item.pk]) not in page
        login_as(Role.GROUP_ADMIN, org.group)
        page = client.get(reverse("accounts:audit")).content.decode()
        assert reverse("ledger:item", args=[item.pk]) in page
    finally:
        unregister_test_kinds()


def test_link_rows_stored_in_english_read_in_chinese(client, org, login_as):
    from fangkong.core.models import AuditLog

    for text in ("张伟: declaration link", "一车间: 12 declaration links"):
        AuditLog.objects.create(
            action=AuditLog.Action.CREATE,
            object_type="health.personlink",
            object_repr=text,
            scope_path=org.shop_a.path,
        )
    login_as(Role.GROUP_ADMIN, org.group)
    page = client.get(reverse("accounts:audit")).content.decode()
    assert "declaration link" not in page
    assert "个人申报链接 张伟" in page
