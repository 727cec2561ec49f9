import io

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from fangkong.core.errors import Conflict
from fangkong.orgs import importing
from fangkong.orgs.models import ImportJob, OrgUnit, Person
from fangkong.testing import valid_resident_id

pytestmark = pytest.mark.django_db
HEADERS = importing.template_headers("people")


def xlsx(rows, headers=HEADERS, name="people.xlsx", above=()):
    """Return an uploaded workbook: rows ``above`` (a title, blank rows), the header, ``rows``."""
    book = openpyxl.Workbook()
    sheet = book.active
    for row in above:
        sheet.append(row)
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    data = io.BytesIO()
    book.save(data)
    return SimpleUploadedFile(name, data.getvalue())


def person_row(name, id_number, phone="13800000001", unit="A1W1", **extra):
    row = {
        "姓名": name,
        "性别": "",
        "证件类型": "身份证",
        "证件号码": id_number,
        "手机号码": phone,
        "人员类别": "员工",
        "所属单位编码": unit,
        "住户编码": "",
        "是否党员": "否",
        "入职日期": "",
    }
    row.update(extra)
    return [row[h] for h in HEADERS]


@pytest.fixture
def create_job(django_capture_on_commit_callbacks):
    """Upload as a user would: validation is queued when the upload commits, and runs."""

    def create(**kwargs):
        with translation.override("zh-hans"), django_capture_on_commit_callbacks(execute=True):
            job = importing.import_job_create(**kwargs)
        job.refresh_from_db()
        return job

    return create


@pytest.fixture
def upload(create_job):
    def send(org, rows, *, user=None, unit=None, **kwargs):
        user = user or org.user("unit_admin", org.group)
        return create_job(
            actor=user, kind="people", scope_unit=unit or org.group, upload=xlsx(rows, **kwargs)
        )

    return send


def reasons(job):
    return {(e["row"], e["column"]): e["message"] for e in job.errors}


def test_bad_rows_are_listed_with_chinese_reasons_and_nothing_is_written(org, upload):
    good = valid_resident_id(101)
    before = Person.objects.count()
    job = upload(
        org,
        [
            person_row("王芳", good),
            person_row("赵强", good[:-1] + ("0" if good[-1] != "0" else "1")),  # bad check digit
            person_row("钱明", valid_resident_id(102), unit="NOPE"),  # unknown unit
            person_row("孙丽", good),  # duplicate in file
            person_row("周杰", valid_resident_id(103), phone="12345"),  # bad phone
            person_row("", valid_resident_id(104)),  # empty required
            person_row("吴磊", org.person_a.id_number),  # already registered
        ],
    )
    assert job.status == ImportJob.Status.PREVIEW
    assert job.rows_total == 7 and job.rows_bad == 6
    found = reasons(job)
    assert "校验码" in found[(3, "证件号码")]
    assert "单位" in found[(4, "所属单位编码")]
    assert "第 2 行" in found[(5, "证件号码")]
    assert "手机" in found[(6, "手机号码")]
    assert "为空" in found[(7, "姓名")]
    assert "已登记" in found[(8, "证件号码")]
    with pytest.raises(Conflict):
        importing.import_job_commit(actor=job.created_by, job=job)
    assert Person.objects.count() == before


def test_rejected_rows_download_has_the_rows_and_reasons(org, upload):
    bad = valid_resident_id(101)[:-1] + "Y"
    job = upload(org, [person_row("王芳", valid_resident_id(101)), person_row("赵强", bad)])
    sheet = openpyxl.load_workbook(io.BytesIO(importing.rejected_rows_workbook(job))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][-1] in ("原因", "Reason")
    assert len(rows) == 2 and rows[1][0] == "赵强"
    assert "证件号码" in rows[1][-1]


def test_a_clean_file_commits_every_row(org, upload):
    job = upload(
        org,
        [
            person_row("王芳", valid_resident_id(201), 是否党员="是", 入职日期=43876),
            person_row(
                "赵强",
                valid_resident_id(202).lower(),
                phone="+86 139 0000 0002",
                所属单位编码="Ｂ１",
            ),
        ],
    )
    assert job.rows_bad == 0
    job = importing.import_job_commit(actor=job.created_by, job=job)
    assert job.status == ImportJob.Status.DONE and job.rows_imported == 2
    wang = Person.objects.get(name="王芳")
    assert wang.is_party_member and str(wang.joined_on) == "2020-02-15"
    assert wang.unit == org.shop_a and wang.unit_path == org.shop_a.path
    zhao = Person.objects.get(name="赵强")
    assert zhao.unit == org.plant_b and zhao.phone == "13900000002"


def test_a_second_commit_of_the_same_job_is_refused(org, upload):
    job = upload(org, [person_row("王芳", valid_resident_id(301))])
    importing.import_job_commit(actor=job.created_by, job=job)
    with pytest.raises(Conflict):
        importing.import_job_commit(actor=job.created_by, job=job)
    assert Person.objects.filter(name="王芳").count() == 1


def test_data_changed_since_preview_sends_the_job_back_and_writes_nothing(org, upload):
    number = valid_resident_id(401)
    job = upload(org, [person_row("王芳", valid_resident_id(402)), person_row("赵强", number)])
    from fangkong.orgs.services import person_create

    person_create(actor=None, unit=org.plant_a, name="赵强", id_number=number)
    job = importing.import_job_commit(actor=job.created_by, job=job)
    assert job.status == ImportJob.Status.PREVIEW and job.rows_bad == 1
    assert not Person.objects.filter(name="王芳").exists()


def test_valid_rows_only_when_the_user_asks(org, upload):
    job = upload(org, [person_row("王芳", valid_resident_id(501)), person_row("赵强", "123")])
    job = importing.import_job_commit(actor=job.created_by, job=job, skip_bad_rows=True)
    assert job.status == ImportJob.Status.DONE and job.rows_imported == 1
    assert not Person.objects.filter(name="赵强").exists()


def test_units_outside_the_importers_scope_are_rejected(org, upload):
    admin_a = org.user("unit_admin", org.ent_a)
    job = upload(
        org, [person_row("王芳", valid_resident_id(601), unit="B1")], user=admin_a, unit=org.ent_a
    )
    assert job.rows_bad == 1


def test_missing_columns_fail_the_job_with_a_message(org, upload):
    job = upload(org, [["王芳"]], headers=["姓名"])
    assert job.status == ImportJob.Status.FAILED
    assert "证件号码" in job.message


def test_a_broken_file_fails_cleanly(org, create_job):
    user = org.user("unit_admin", org.group)
    job = create_job(
        actor=user,
        kind="people",
        scope_unit=org.group,
        upload=SimpleUploadedFile("broken.xlsx", b"not a zip"),
    )
    assert job.status == ImportJob.Status.FAILED and job.message


def test_csv_in_gb18030_with_full_width_characters(org, create_job):
    lines = [
        ",".join(HEADERS),
        ",".join(
            person_row("王芳", "　" + valid_resident_id(701) + " ", phone="１３８００１３８０００")
        ),
    ]
    upload_file = SimpleUploadedFile("people.csv", "\n".join(lines).encode("gb18030"))
    job = create_job(
        actor=org.user("unit_admin", org.group),
        kind="people",
        scope_unit=org.group,
        upload=upload_file,
    )
    assert job.rows_bad == 0, job.errors
    importing.import_job_commit(actor=job.created_by, job=job)
    assert Person.objects.get(name="王芳").phone == "13800138000"


def test_units_import_builds_the_tree_in_file_order(org, create_job):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(importing.template_headers("units"))
    sheet.append(["A2", "热电厂", "厂/部门", "A", "2020-01-01"])
    sheet.append(["A2W1", "运行车间", "车间", "A2", 43831])
    sheet.append(["A2W2", "检修车间", "车间", "B1", None])  # B1 is outside the admin's scope
    data = io.BytesIO()
    book.save(data)
    admin = org.user("unit_admin", org.ent_a)
    job = create_job(
        actor=admin,
        kind="units",
        scope_unit=org.ent_a,
        upload=SimpleUploadedFile("units.xlsx", data.getvalue()),
    )
    assert job.rows_bad == 1
    importing.import_job_commit(actor=admin, job=job, skip_bad_rows=True)
    shop = OrgUnit.objects.get(code="A2W1")
    assert shop.parent.code == "A2" and shop.path.startswith(org.ent_a.path)
    assert str(shop.valid_from) == "2020-01-01"
    assert not OrgUnit.objects.filter(code="A2W2").exists()


def test_a_crashing_step_marks_the_job_failed(org, create_job):
    from fangkong.orgs import tasks

    job = create_job(
        actor=org.user("unit_admin", org.group),
        kind="people",
        scope_unit=org.group,
        upload=xlsx([person_row("王芳", valid_resident_id(801))]),
    )

    def explode(job):
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        tasks._run(job.pk, explode)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED and "未写入" in job.message
    assert not Person.objects.filter(name="王芳").exists()


def test_rows_are_numbered_as_excel_shows_them_below_blank_rows(org, upload):
    rows = [person_row("王芳", valid_resident_id(901)), person_row("赵强", "123")]
    job = upload(org, rows, above=[[], []])
    assert [e["row"] for e in job.errors] == [5]


def test_a_title_above_the_header_is_reported_as_missing_columns(org, upload):
    job = upload(
        org, [person_row("王芳", valid_resident_id(901))], above=[["山东铝业人员名单"], []]
    )
    assert job.status == ImportJob.Status.FAILED and "证件号码" in job.message
