import io

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation

from fangkong.core.errors import Conflict
from fangkong.orgs import headcount, importing, selectors
from fangkong.orgs.models import ImportJob, OrgUnit, Person
from fangkong.testing import make_id_pool, valid_resident_id

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
        "出生日期": "",
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


def zh(message):
    """Return a message as a Chinese user reads it (the catalogue's translation)."""
    with translation.override("zh-hans"):
        return translation.gettext(message)


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
    assert rows[1][-2] == 3 and "证件号码" in rows[1][-1]  # its row in the upload


def test_a_rejected_formula_comes_back_as_text_not_a_formula(org, create_job):
    formula = '=HYPERLINK("http://evil.example")'
    job = csv_upload(create_job, org, [csv_line(*HEADERS), csv_line(*person_row(formula, "123"))])
    sheet = openpyxl.load_workbook(io.BytesIO(importing.rejected_rows_workbook(job))).active
    cell = sheet.cell(row=2, column=1)
    assert cell.data_type != "f" and cell.value == "'" + formula


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
    # The import's own insert (COPY on PostgreSQL) is counted by the head-count triggers.
    assert selectors.subtree_headcount(org.group.path) == 4
    assert headcount.differences() == {}


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


def test_missing_columns_name_the_columns_that_were_not_recognised(org, upload):
    job = upload(org, [["王芳", "8801"]], headers=["姓名", "工号"])
    assert job.status == ImportJob.Status.FAILED
    assert "证件号码" in job.message and "工号" in job.message


# ---------------------------------------------------------------- every row accounted for


def assert_adds_up(job):
    """The summary users see: rows read = imported + rejected, and each rejection listed."""
    job.refresh_from_db()
    assert job.rows_bad == len({e["row"] for e in job.errors})
    if job.status == ImportJob.Status.DONE:
        assert job.rows_total == job.rows_imported + job.rows_bad
    return job


def csv_upload(create_job, org, lines, *, encoding="utf-8", newline="\r\n", name="people.csv"):
    data = newline.join(lines).encode(encoding)
    return create_job(
        actor=org.user("unit_admin", org.group),
        kind="people",
        scope_unit=org.group,
        upload=SimpleUploadedFile(name, data),
    )


def csv_line(*cells):
    return ",".join(cells)


def test_csv_with_bare_cr_line_endings_imports(org, create_job):
    lines = [
        csv_line(*HEADERS),
        csv_line(*person_row("王芳", valid_resident_id(911))),
        csv_line(*person_row("赵强", valid_resident_id(912))),
    ]
    job = csv_upload(create_job, org, lines, newline="\r", encoding="gb18030")
    assert job.status == ImportJob.Status.PREVIEW, job.message
    assert (job.rows_total, job.rows_bad) == (2, 0)
    job = assert_adds_up(importing.import_job_commit(actor=job.created_by, job=job))
    assert job.rows_imported == 2 and Person.objects.filter(name="赵强").exists()


def test_an_unbalanced_quote_in_50000_rows_rejects_one_line_and_swallows_none(org, create_job):
    ids = make_id_pool(50_000)
    lines = [csv_line(*HEADERS)]
    for index, number in enumerate(ids):
        name = f"员工{index}"
        if index == 25_000:
            name = '"王五'  # opens a quote that never closes
        if index == 25_065:
            name = '李"四'  # a quote inside a cell: the old reader closed the first one here
        lines.append(csv_line(*person_row(name, number)))
    before = Person.objects.count()
    job = csv_upload(create_job, org, lines)
    assert job.status == ImportJob.Status.PREVIEW, job.message
    assert (job.rows_total, job.rows_bad) == (50_000, 1)
    [error] = job.errors
    assert error["row"] == 25_002  # the line in the file: header on line 1
    assert error["message"] and error["value"].startswith('"王五') and error["column"] == ""
    job = assert_adds_up(
        importing.import_job_commit(actor=job.created_by, job=job, skip_bad_rows=True)
    )
    assert job.rows_imported == 49_999
    assert Person.objects.count() == before + 49_999
    assert Person.objects.filter(name='李"四').exists()


def test_a_file_ending_inside_a_quote_rejects_the_last_line(org, create_job):
    lines = [
        csv_line(*HEADERS),
        csv_line(*person_row("王芳", valid_resident_id(921))),
        csv_line(*person_row("赵强", valid_resident_id(922))),
        '"钱明,' + valid_resident_id(923),  # the quote runs to the end of the file
    ]
    job = csv_upload(create_job, org, lines, newline="\n")
    assert (job.rows_total, job.rows_bad) == (3, 1)
    assert [e["row"] for e in job.errors] == [4] and job.errors[0]["column"] == ""
    job = assert_adds_up(
        importing.import_job_commit(actor=job.created_by, job=job, skip_bad_rows=True)
    )
    assert job.rows_imported == 2


def test_a_quoted_cell_over_two_lines_is_one_row_numbered_by_its_first_line(org, create_job):
    lines = [
        csv_line(*HEADERS, "备注"),
        csv_line(*person_row("王芳", valid_resident_id(931)), '"夜班\n二号楼"'),
        csv_line(*person_row("赵强", "123"), ""),
    ]
    job = csv_upload(create_job, org, lines)
    assert (job.rows_total, job.rows_bad) == (2, 1)
    assert [e["row"] for e in job.errors] == [4]  # lines 2–3 are 王芳's row
    assert job.ignored_columns == ["备注"]


def test_control_characters_reject_the_row_and_nothing_of_it_is_stored(org, create_job):
    lines = [
        csv_line(*HEADERS),
        csv_line(*person_row("王\x00芳", valid_resident_id(941))),
        csv_line(*person_row("赵\x1b强", valid_resident_id(942))),
        csv_line(*person_row("钱明\t", valid_resident_id(943))),  # a tab is only a space
    ]
    job = csv_upload(create_job, org, lines)
    assert (job.rows_total, job.rows_bad) == (3, 2)
    assert set(reasons(job)) == {(2, "姓名"), (3, "姓名")}
    assert {e["value"] for e in job.errors} == {"王␀芳", "赵␛强"}
    sheet = openpyxl.load_workbook(io.BytesIO(importing.rejected_rows_workbook(job))).active
    assert [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)] == ["王␀芳", "赵␛强"]
    job = assert_adds_up(
        importing.import_job_commit(actor=job.created_by, job=job, skip_bad_rows=True)
    )
    assert list(Person.objects.filter(name__startswith="钱").values_list("name", flat=True)) == [
        "钱明"
    ]
    assert not Person.objects.filter(name__contains="芳").exists()


def merged_title_workbook(title, headers, rows):
    """Return a roster as offices make them: a title merged across the columns, then the header."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append([title])
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(headers))
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    data = io.BytesIO()
    book.save(data)
    return SimpleUploadedFile("花名册.xlsx", data.getvalue())


def test_a_merged_title_row_above_the_header_is_skipped(org, create_job):
    upload_file = merged_title_workbook(
        "XX厂 人员花名册（2020年2月）",
        HEADERS,
        [person_row("王芳", valid_resident_id(951)), person_row("赵强", "123")],
    )
    job = create_job(
        actor=org.user("unit_admin", org.group),
        kind="people",
        scope_unit=org.group,
        upload=upload_file,
    )
    assert job.status == ImportJob.Status.PREVIEW, job.message
    assert job.header_row == 2 and job.rows_total == 2
    assert [e["row"] for e in job.errors] == [4]  # as Excel shows it
    assert job.ignored_columns == []


def test_roster_headers_are_recognised_and_unknown_ones_are_shown_as_ignored(
    org, create_job, client, login_as
):
    headers = ["序号", "姓名", "身份证号码", "手机", "部门", "岗位"]
    upload_file = merged_title_workbook(
        "XX厂 人员花名册（2020年2月）",
        headers,
        [
            [1, "王芳", valid_resident_id(961), "138 0013 8000", "一车间", "电工"],
            [2, "赵强", valid_resident_id(962), "13900139000", "A1", "司机"],
            [3, "钱明", valid_resident_id(963), "13700137000", "不存在的部门", "司机"],
        ],
    )
    admin = login_as("unit_admin", org.group)
    job = create_job(actor=admin, kind="people", scope_unit=org.group, upload=upload_file)
    assert job.ignored_columns == ["序号", "岗位"]
    assert [(e["row"], e["column"]) for e in job.errors] == [(5, "部门")]
    page = client.get(reverse("orgs:import_detail", args=[job.pk])).content.decode()
    assert zh("Ignored columns") in page and "序号、岗位" in page
    assert client.get(f"/api/v1/imports/{job.pk}").json()["ignored_columns"] == ["序号", "岗位"]
    job = assert_adds_up(importing.import_job_commit(actor=admin, job=job, skip_bad_rows=True))
    wang = Person.objects.get(name="王芳")
    assert (wang.phone, wang.unit) == ("13800138000", org.shop_a)  # 手机 is read, 部门 by name
    assert Person.objects.get(name="赵强").unit == org.plant_a  # or by code


def test_a_unit_name_shared_by_two_units_is_refused(org, upload):
    from fangkong.orgs.services import unit_create

    for parent, code in ((org.plant_a, "A1W9"), (org.plant_b, "B1W9")):
        unit_create(actor=None, code=code, name="机修车间", kind="workshop", parent=parent)
    job = upload(org, [person_row("王芳", valid_resident_id(971), unit="机修车间")])
    assert reasons(job)[(2, "所属单位编码")] == zh(
        "Several units in your import scope have this name; give the code."
    )


def test_utf8_csv_with_synonyms_and_a_title_line(org, create_job):
    lines = [
        "XX厂 人员花名册（2020年2月）,,,",
        "",
        csv_line("姓名*", "身份证", "联系电话", "单位编码"),
        csv_line("王芳", valid_resident_id(981), "13800138000", "A1W1"),
    ]
    job = csv_upload(create_job, org, lines, encoding="utf-8-sig")
    assert job.status == ImportJob.Status.PREVIEW, job.message
    assert (job.header_row, job.rows_total, job.rows_bad) == (3, 1, 0)
    importing.import_job_commit(actor=job.created_by, job=job)
    assert Person.objects.get(name="王芳").phone == "13800138000"


def test_the_units_import_finds_its_header_below_a_title(org, create_job):
    upload_file = merged_title_workbook(
        "新建单位",
        ["单位编码", "单位名称", "单位类型", "上级单位编码"],
        [["A3", "动力厂", "厂", "A"]],
    )
    admin = org.user("unit_admin", org.ent_a)
    job = create_job(actor=admin, kind="units", scope_unit=org.ent_a, upload=upload_file)
    assert (job.header_row, job.rows_total, job.rows_bad) == (2, 1, 0), job.message
    importing.import_job_commit(actor=admin, job=job)
    assert OrgUnit.objects.get(code="A3").parent == org.ent_a
