import csv
import io

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from fangkong.core.models import AuditLog
from fangkong.orgs import importing
from fangkong.orgs.models import ImportJob, Person
from fangkong.testing import valid_resident_id

pytestmark = pytest.mark.django_db


def test_pages_need_a_login(client):
    assert client.get(reverse("orgs:tree")).status_code == 302


def test_tree_page_finds_units_by_pinyin_and_shows_head_counts(client, org, login_as):
    login_as("viewer", org.group)
    page = client.get(reverse("orgs:tree"), {"q": "sdly"}).content.decode()
    assert "山东铝业有限公司" in page and "山西铝业有限公司" not in page.split("search-results")[1]
    children = client.get(reverse("orgs:children", args=[org.group.pk])).content.decode()
    assert "山东铝业有限公司" in children and "1 人" in children


def test_unit_page_shows_breadcrumbs_and_sub_units(client, org, login_as):
    login_as("viewer", org.group)
    page = client.get(reverse("orgs:unit", args=[org.plant_a.pk])).content.decode()
    assert "中国铝业集团有限公司" in page and "一车间" in page


def test_out_of_scope_pages_answer_404(client, org, login_as):
    login_as("unit_admin", org.ent_a)
    assert client.get(reverse("orgs:unit", args=[org.ent_b.pk])).status_code == 404
    assert client.get(reverse("orgs:person", args=[org.person_b.pk])).status_code == 404


def test_people_list_is_masked_and_searchable(client, org, login_as):
    login_as("reporter", org.group)
    page = client.get(reverse("orgs:people"), {"q": "zw"}).content.decode()
    assert "张伟" in page and "李娜" not in page
    assert org.person_a.id_number not in page and "138****8001" in page


def test_export_is_masked_as_on_screen_and_audited(client, org, login_as):
    user = login_as("reporter", org.group)
    response = client.get(reverse("orgs:people_export"), {"format": "csv"})
    text = response.content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert len(rows) == 3
    assert org.person_a.id_number not in text and "138****8001" in text
    entry = AuditLog.objects.get(action="export")
    assert entry.actor == user and entry.after["rows"] == 2
    xlsx = client.get(reverse("orgs:people_export"), {"format": "xlsx"})
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet.max_row == 3


def test_person_page_shows_full_numbers_to_trackers_and_records_it(client, org, login_as):
    login_as("tracker", org.ent_a)
    page = client.get(reverse("orgs:person", args=[org.person_a.pk])).content.decode()
    assert org.person_a.id_number in page
    assert AuditLog.objects.filter(action="view_sensitive").count() == 1


def test_merge_from_the_duplicates_page(client, org, login_as):
    dup = Person.objects.create(
        name="张伟", id_number=org.person_a.id_number, unit=org.plant_a, unit_path=org.plant_a.path
    )
    login_as("unit_admin", org.ent_a)
    assert "张伟" in client.get(reverse("orgs:duplicates")).content.decode()
    client.post(reverse("orgs:merge"), {"survivor": org.person_a.pk, "duplicate": dup.pk})
    dup.refresh_from_db()
    assert dup.merged_into_id == org.person_a.pk


def test_import_flow_through_the_pages(client, org, login_as, django_capture_on_commit_callbacks):
    login_as("unit_admin", org.ent_a)
    book = openpyxl.Workbook()
    sheet = book.active
    headers = importing.template_headers("people")
    sheet.append(headers)
    row = dict.fromkeys(headers, "")
    row.update({"姓名": "王芳", "证件号码": valid_resident_id(77), "所属单位编码": "A1W1"})
    sheet.append([row[h] for h in headers])
    data = io.BytesIO()
    book.save(data)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("orgs:imports"),
            {
                "kind": "people",
                "unit_code": "A",
                "file": SimpleUploadedFile("people.xlsx", data.getvalue()),
            },
        )
    job = ImportJob.objects.get()
    assert response.url == reverse("orgs:import_detail", args=[job.pk])
    assert "commit-import" in client.get(response.url).content.decode()
    client.post(reverse("orgs:import_commit", args=[job.pk]))
    assert Person.objects.filter(name="王芳", unit=org.shop_a).exists()
    assert "import-done" in client.get(response.url).content.decode()


def test_import_into_an_unknown_unit_shows_a_form_error(client, org, login_as):
    login_as("unit_admin", org.ent_a)
    page = client.post(
        reverse("orgs:imports"),
        {"kind": "people", "unit_code": "B", "file": SimpleUploadedFile("people.xlsx", b"x")},
    ).content.decode()
    assert "导入范围" in page
    assert not ImportJob.objects.exists()


def test_template_download_has_the_chinese_headers(client, org, login_as):
    login_as("unit_admin")
    response = client.get(reverse("orgs:import_template", args=["people"]))
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    assert next(sheet.iter_rows(values_only=True))[0] == "姓名"


def test_english_is_complete_for_the_same_page(client, org, login_as):
    login_as("viewer", org.group)
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    page = client.get(reverse("orgs:tree")).content.decode()
    assert "Organisation" in page and "组织架构" not in page


def test_unit_admin_adds_renames_moves_and_closes_units_from_the_page(client, org, login_as):
    login_as("unit_admin", org.ent_a)
    add = reverse("orgs:unit_action", args=[org.plant_a.pk, "add"])
    client.post(add, {"code": "A1W2", "name": "二车间", "kind": "workshop"})
    from fangkong.orgs.models import OrgUnit

    new = OrgUnit.objects.get(code="A1W2")
    assert new.parent == org.plant_a
    page = client.post(add, {"code": "A1W2", "name": "重复", "kind": "workshop"}, follow=True)
    assert "已被使用" in page.content.decode()
    client.post(reverse("orgs:unit_action", args=[new.pk, "rename"]), {"name": "检修车间"})
    client.post(reverse("orgs:unit_action", args=[new.pk, "move"]), {"parent_code": "A"})
    new.refresh_from_db()
    assert new.name == "检修车间" and new.parent == org.ent_a
    refused = client.post(
        reverse("orgs:unit_action", args=[new.pk, "move"]), {"parent_code": "B"}, follow=True
    )
    assert "范围" in refused.content.decode()
    client.post(reverse("orgs:unit_action", args=[new.pk, "close"]))
    new.refresh_from_db()
    assert new.valid_to is not None
    assert AuditLog.objects.filter(object_id=str(new.pk)).count() == 4


def test_register_a_person_with_a_bad_id_shows_the_reason(client, org, login_as):
    login_as("unit_admin", org.ent_a)
    url = reverse("orgs:unit_action", args=[org.shop_a.pk, "add-person"])
    page = client.post(
        url,
        {
            "name": "王芳",
            "id_type": "resident_id",
            "id_number": "110105194912310021",
            "category": "employee",
        },
        follow=True,
    ).content.decode()
    assert "校验码" in page
    assert not Person.objects.filter(name="王芳").exists()
    client.post(
        url,
        {
            "name": "王芳",
            "id_type": "resident_id",
            "id_number": "11010519491231002x",
            "phone": "13800000000",
            "category": "employee",
        },
    )
    assert Person.objects.get(name="王芳").unit == org.shop_a


def test_viewers_see_no_management_forms(client, org, login_as):
    login_as("viewer", org.ent_a)
    page = client.get(reverse("orgs:unit", args=[org.plant_a.pk])).content.decode()
    assert "unit-actions" not in page
    response = client.post(
        reverse("orgs:unit_action", args=[org.plant_a.pk, "rename"]), {"name": "x"}
    )
    assert response.status_code == 403


def test_units_export_has_subtree_head_counts(client, org, login_as):
    login_as("viewer", org.group)
    response = client.get(reverse("orgs:units_export"), {"format": "csv"})
    rows = {r[0]: r for r in csv.reader(io.StringIO(response.content.decode("utf-8-sig")))}
    assert rows["G"][-1] == "2" and rows["A"][-1] == "1" and rows["C"][-1] == "0"
    assert AuditLog.objects.filter(action="export", object_type="orgs.orgunit").exists()


def test_audit_log_export_is_itself_audited(client, org, login_as):
    login_as("unit_admin", org.ent_a)
    response = client.get(reverse("accounts:audit"), {"format": "xlsx"})
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert AuditLog.objects.filter(action="export", object_type="core.auditlog").exists()


def test_navigation_shows_only_what_the_role_may_use(client, org, login_as):
    login_as("reporter", org.ent_a)
    page = client.get(reverse("orgs:tree")).content.decode()
    assert reverse("orgs:people") in page
    assert reverse("orgs:imports") not in page and reverse("accounts:audit") not in page


def test_tree_children_cost_the_same_queries_however_many_children(
    client, org, login_as, django_assert_num_queries
):
    from fangkong.orgs.services import unit_create

    login_as("viewer", org.group)
    url = reverse("orgs:children", args=[org.group.pk])
    client.get(url)  # warm the session
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as before:
        client.get(url)
    for i in range(5):
        unit_create(actor=None, code=f"E{i}", name=f"企业{i}", kind="enterprise", parent=org.group)
    with django_assert_num_queries(len(before.captured_queries)):
        page = client.get(url).content.decode()
    assert "企业4" in page


def test_editing_a_person_moves_them_and_keeps_history(client, org, login_as):
    login_as("unit_admin", org.group)
    url = reverse("orgs:person", args=[org.person_a.pk])
    client.post(
        url,
        {
            "phone": "+86 139 1234 5678",
            "category": "contractor",
            "unit_code": "B1",
            "is_party_member": "on",
        },
    )
    org.person_a.refresh_from_db()
    assert org.person_a.unit == org.plant_b and org.person_a.unit_path == org.plant_b.path
    assert org.person_a.phone == "13912345678" and org.person_a.is_party_member
    page = client.post(url, {"phone": "12", "category": "employee", "unit_code": "B1"}).content
    assert "手机" in page.decode()
    assert AuditLog.objects.filter(action="update", object_id=str(org.person_a.pk)).count() == 1


def test_adding_a_sub_unit_proposes_the_kind_a_child_usually_is(client, org, login_as):
    login_as("unit_admin", org.ent_a)
    for unit, kind in ((org.ent_a, "plant"), (org.plant_a, "workshop"), (org.shop_a, "team")):
        form = client.get(f"/units/{unit.pk}/").context["add_form"]
        assert form["kind"].value() == kind
