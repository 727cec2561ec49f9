"""A problem list imported from Excel: preview, all or nothing, no duplicates, permissions.

The lists are imported at 16:00 on Wednesday 30 September 2026, the eve of the National
Day holiday (1–7 October off, Saturday 10 October worked), and their dates counted from it.
"""

import datetime as dt
import io
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation

from fangkong.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from fangkong.core.models import AuditLog
from fangkong.ledger.models import Item
from fangkong.rectification import importing
from fangkong.rectification.ledger_kind import REGISTERED
from fangkong.rectification.models import Milestone, Problem, ProblemClass, Target
from fangkong.testing import travel

pytestmark = pytest.mark.django_db

HEADERS = importing.template_headers()


@pytest.fixture(autouse=True)
def _english():
    """Messages are asserted by their English source; the pages pick their own language."""
    with translation.override("en"):
        yield


IMPORT_DAY = dt.date(2026, 9, 30)


@pytest.fixture
def now():
    """The import's instant: the clock stands still there (from the org's making on:
    request this first)."""
    with travel("2026-09-30", "16:00") as instant:
        yield instant


def _row(**cells) -> list:
    """A row in the template's column order; unnamed cells are empty."""
    keys = list(importing.PROBLEM_COLUMNS.fields)
    return [cells.get(key, "") for key in keys]


def _xlsx(rows, *, title_row: str | None = None) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    if title_row:
        sheet.append([title_row])
        sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(HEADERS))
    sheet.append(HEADERS)
    for row in rows:
        sheet.append(row)
        for cell in sheet[sheet.max_row]:  # text stays text, "=…" included
            if isinstance(cell.value, str):
                cell.data_type = "s"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _file(tmp_path: Path, rows, **kwargs) -> Path:
    path = tmp_path / "list.xlsx"
    path.write_bytes(_xlsx(rows, **kwargs))
    return path


def _audit_list(org, today: dt.date) -> list[list]:
    later = (today + dt.timedelta(days=60)).isoformat()
    step = (today + dt.timedelta(days=20)).isoformat()
    return [
        _row(
            source="审计",
            source_ref="审计报告〔2026〕5号",
            title="厂区路灯损坏",
            unit="A1",
            responsible_name="张伟",
            leader_name="李强",
            due=later,
            target_label="修复路灯",
            target_quantity=698,
            target_uom="盏",
            milestones=f"{step} 完成招标；{later} 完成施工",
        ),
        _row(
            source="审计",
            source_ref="审计报告〔2026〕5号",
            title="卫生间设施老化",
            unit="山东铝业有限公司 › 电解铝厂 › 一车间",
            severity="较重",
            due="15个工作日",
            target_label="整修卫生间",
            target_quantity="217间",
        ),
        _row(
            title="招待费超标",
            unit="山东铝业有限公司",
            problem_class="立行立改",
            severity="严重",  # the pages' top level
        ),
    ]


def test_an_audit_list_becomes_problems_with_targets_milestones_and_working_day_deadlines(
    now, org, tmp_path
):
    supervisor = org.user("supervisor", org.ent_a)
    path = _file(tmp_path, _audit_list(org, IMPORT_DAY), title_row="审计发现问题整改清单")

    preview = importing.check_rows(actor=supervisor, path=path, assigning=org.ent_a, now=now)
    assert (preview.rows_total, len(preview.good), preview.errors) == (3, 3, [])
    assert preview.header_row == 2  # the merged title row above is not a problem
    assert Problem.objects.count() == 0  # the preview writes nothing

    outcome = importing.problems_import(
        actor=supervisor, path=path, assigning=org.ent_a, name="list.xlsx", now=now
    )
    assert len(outcome.created) == 3
    lamps = Problem.objects.get(title="厂区路灯损坏")
    assert (lamps.source, lamps.source_ref, lamps.responsible_name) == (
        "audit",
        "审计报告〔2026〕5号",
        "张伟",
    )
    assert lamps.item.unit == org.plant_a and lamps.item.state == REGISTERED
    assert lamps.due_on == dt.date(2026, 11, 29)  # the date written in the list
    assert list(
        Target.objects.filter(problem=lamps).values_list("label", "target", "unit_of_measure")
    ) == [("修复路灯", Decimal("698"), "盏")]
    assert list(Milestone.objects.filter(problem=lamps).values_list("title", flat=True)) == [
        "完成招标",
        "完成施工",
    ]
    toilets = Problem.objects.get(title="卫生间设施老化")
    assert toilets.item.unit == org.shop_a  # found by its full place name
    assert toilets.severity == "serious"
    assert Problem.objects.get(title="招待费超标").severity == "major"  # 严重, as the pages say
    # 15 working days on the official calendar: 8–10, 12–16, 19–23, 26 and 27 October.
    assert toilets.due_on == dt.date(2026, 10, 27)
    assert toilets.targets.get().unit_of_measure == "间"
    fees = Problem.objects.get(title="招待费超标")
    assert fees.problem_class == ProblemClass.IMMEDIATE
    assert fees.due_on == dt.date(2026, 10, 8)  # 立行立改: the first working day after the holiday
    assert fees.source == "audit"  # the form's source where the cell is empty
    done = AuditLog.objects.filter(action=AuditLog.Action.IMPORT, after__step="done").get()
    assert done.after["created"] == 3 and done.scope_path == org.ent_a.path


@pytest.mark.parametrize(
    ("cells", "column", "reason"),
    [
        ({"unit": "NOPE"}, "责任单位", "Unknown unit code"),
        ({"due": "2026-13-45"}, "完成时限", "Not a date"),
        ({"target_label": "修复路灯", "target_quantity": -5}, "目标数量", "above zero"),
        ({"title": ""}, "问题标题", "required"),
        ({"title": '=HYPERLINK("http://x","点我")'}, "问题标题", "formula"),
        ({"description": "@SUM(A1)"}, "问题描述", "formula"),
        ({"due": "2020-01-01"}, "完成时限", "past"),
        ({"problem_class": "马上改"}, "整改类型", "立行立改"),
        ({"milestones": "明年完成"}, "里程碑", "milestone"),
        ({"due": ""}, "完成时限", "Give a due date"),
        ({"problem_class": "长期整改", "due": "30个工作日"}, "完成时限", "final due date"),
    ],
)
def test_a_bad_row_is_refused_with_its_reason_and_nothing_is_written(
    now, org, tmp_path, cells, column, reason
):
    supervisor = org.user("supervisor", org.ent_a)
    bad = _row(**{"title": "坏的一行", "unit": "A1", "due": "2026-10-30", **cells})
    path = _file(tmp_path, [*_audit_list(org, IMPORT_DAY), bad])
    before = (Problem.objects.count(), Item.objects.count(), Target.objects.count())

    preview = importing.check_rows(actor=supervisor, path=path, assigning=org.ent_a, now=now)
    assert not preview.may_commit
    [error] = preview.errors
    assert (error.row, error.column) == (5, column)  # the header is row 1
    assert reason.lower() in error.message.lower()
    with pytest.raises(InvalidInput) as refused:
        importing.problems_import(actor=supervisor, path=path, assigning=org.ent_a, now=now)
    assert "Nothing was written" in str(refused.value.message)
    assert (Problem.objects.count(), Item.objects.count(), Target.objects.count()) == before


def test_a_csv_with_a_control_character_and_blank_rows_is_refused_at_its_line(now, org, tmp_path):
    due = "2026-10-30"
    path = tmp_path / "list.csv"
    lines = [
        ",".join(HEADERS),
        ",,路灯,,,,,A1,,," + due,
        ",,,,,,,,,,",
        ",,卫生间\x07,,,,,A1,,," + due,
    ]
    path.write_text("\r\n".join(lines), encoding="utf-8")
    preview = importing.check_rows(
        actor=org.user("supervisor", org.ent_a), path=path, assigning=org.ent_a, now=now
    )
    assert preview.rows_total == 2  # the blank line is not a row
    [error] = preview.errors
    assert (error.row, error.column) == (4, "问题标题")
    assert "control character" in error.message and "␇" in error.value
    assert not preview.may_commit


def test_uploading_the_same_list_again_creates_no_duplicates(now, org, tmp_path):
    supervisor = org.user("supervisor", org.ent_a)
    rows = _audit_list(org, IMPORT_DAY)
    path = _file(tmp_path, rows)
    importing.problems_import(actor=supervisor, path=path, assigning=org.ent_a, now=now)
    with pytest.raises(Conflict):
        importing.problems_import(actor=supervisor, path=path, assigning=org.ent_a, now=now)
    assert Problem.objects.count() == 3

    # A corrected copy with one more row: only the new row is registered.
    extra = _row(title="停车位不足", unit="A1", due="10个工作日")
    again = _file(tmp_path, [*rows, extra])
    preview = importing.check_rows(actor=supervisor, path=again, assigning=org.ent_a, now=now)
    assert [row.new.title for row in preview.good] == ["停车位不足"]
    assert len(preview.already) == 3
    outcome = importing.problems_import(actor=supervisor, path=again, assigning=org.ent_a, now=now)
    assert (len(outcome.created), outcome.already) == (1, 3)
    assert Problem.objects.count() == 4


def test_the_same_problem_twice_in_one_file_is_refused(now, org, tmp_path):
    row = _row(title="路灯", unit="A1", due="5个工作日")
    path = _file(tmp_path, [row, row])
    preview = importing.check_rows(
        actor=org.user("supervisor", org.ent_a), path=path, assigning=org.ent_a, now=now
    )
    [error] = preview.errors
    assert error.row == 3 and "row 2" in error.message


def test_permissions_assigning_and_responsible_units(now, org, tmp_path):
    path = _file(tmp_path, [_row(title="路灯", unit="B1", due="5个工作日")])
    # Without the rectification permission on the assigning unit: refused.
    with pytest.raises(PermissionDenied):
        importing.check_rows(
            actor=org.user("viewer", org.ent_a), path=path, assigning=org.ent_a, now=now
        )
    plant_supervisor = org.user("supervisor", org.plant_a)
    with pytest.raises(NotFound):  # the enterprise above is not theirs to see
        importing.check_rows(actor=plant_supervisor, path=path, assigning=org.ent_a, now=now)
    # A responsible unit outside the assigning unit's subtree is a row error.
    group_supervisor = org.user("supervisor", org.group)
    preview = importing.check_rows(actor=group_supervisor, path=path, assigning=org.ent_a, now=now)
    [error] = preview.errors
    assert error.column == "责任单位" and "not 山东铝业有限公司 or a unit below it" in error.message
    # Who cannot see the unit learns nothing of it.
    preview = importing.check_rows(
        actor=org.user("supervisor", org.ent_a), path=path, assigning=org.ent_a, now=now
    )
    assert "Unknown unit code" in preview.errors[0].message
    assert Problem.objects.count() == 0


def test_a_file_without_the_columns_or_not_a_workbook_is_a_clear_error(org, tmp_path):
    supervisor = org.user("supervisor", org.ent_a)
    path = tmp_path / "list.xlsx"
    path.write_bytes(b"not a workbook")
    with pytest.raises(InvalidInput):
        importing.check_rows(actor=supervisor, path=path, assigning=org.ent_a)
    book = openpyxl.Workbook()
    book.active.append(["姓名", "身份证"])
    book.save(path)
    with pytest.raises(InvalidInput) as refused:
        importing.check_rows(actor=supervisor, path=path, assigning=org.ent_a)
    assert "问题标题" in str(refused.value.message)


def test_demo_import_registers_the_audit_list_once(now, org):
    supervisor = org.user("supervisor", org.ent_a)
    outcome = importing.demo_import(supervisor, org.ent_a, [org.plant_a, org.shop_a, org.ent_a])
    assert len(outcome.created) == 6
    titles = set(Problem.objects.values_list("title", flat=True))
    assert {"厂区路灯损坏未及时修复", "职工卫生间设施老化", "停车位不足、停放无序"} <= titles
    quantities = dict(Target.objects.values_list("unit_of_measure", "target"))
    assert quantities == {"盏": 698, "间": 217, "个": 446}
    assert set(Problem.objects.values_list("source_ref", flat=True)) == {importing.DEMO_REF}
    again = importing.demo_import(supervisor, org.ent_a, [org.plant_a, org.shop_a, org.ent_a])
    assert again.created == [] and Problem.objects.count() == 6


# ---------------------------------------------------------------- the pages


def _upload(client, org, rows, *, unit=None):
    data = SimpleUploadedFile("审计清单.xlsx", _xlsx(rows))
    return client.post(
        reverse("rectification:import"),
        {"assigning_unit": (unit or org.ent_a).pk, "source": "audit", "file": data},
    )


def test_pages_upload_preview_commit(now, client, org, login_as):
    login_as("supervisor", org.ent_a)
    page = client.get(reverse("rectification:import"))
    assert page.status_code == 200
    assert org.ent_a.name in page.content.decode()
    template = client.get(reverse("rectification:import_template"))
    book = openpyxl.load_workbook(io.BytesIO(template.content))
    assert [cell.value for cell in book.worksheets[0][1]] == HEADERS

    rows = _audit_list(org, IMPORT_DAY)
    answer = _upload(client, org, rows)
    assert answer.status_code == 302
    preview = client.get(answer["Location"])
    text = preview.content.decode()
    assert "厂区路灯损坏" in text and 'id="commit-import"' in text
    done = client.post(answer["Location"] + "commit/", follow=True)
    text = done.content.decode()
    assert Problem.objects.count() == 3
    assert 'id="import-nothing-new"' in text  # the list now shows as imported
    item = Problem.objects.get(title="厂区路灯损坏").item_id
    assert reverse("ledger:item", args=[item]) in text


def test_pages_a_refused_row_shows_its_reason_and_offers_no_commit(client, org, login_as):
    login_as("supervisor", org.ent_a)
    answer = _upload(client, org, [_row(title="路灯", unit="NOPE", due="5个工作日")])
    text = client.get(answer["Location"]).content.decode()
    assert 'id="import-errors"' in text and "NOPE" in text
    assert 'id="commit-import"' not in text
    committed = client.post(answer["Location"] + "commit/", follow=True)
    assert committed.status_code == 200 and Problem.objects.count() == 0


def test_pages_refuse_strangers_and_bad_files(client, org, login_as):
    login_as("viewer", org.ent_a)
    assert client.get(reverse("rectification:import")).status_code == 403
    client.logout()
    login_as("supervisor", org.ent_a)
    answer = client.post(
        reverse("rectification:import"),
        {
            "assigning_unit": org.ent_a.pk,
            "source": "audit",
            "file": SimpleUploadedFile("x.exe", b"MZ"),
        },
    )
    assert answer.status_code == 200 and answer.context["form"].non_field_errors()
    outside = client.post(
        reverse("rectification:import"),
        {
            "assigning_unit": org.ent_b.pk,
            "source": "audit",
            "file": SimpleUploadedFile("a.xlsx", b"x"),
        },
    )
    assert outside.status_code == 200 and "assigning_unit" in outside.context["form"].errors
    assert client.get(reverse("rectification:import_preview", args=["0" * 64])).status_code == 404
    assert client.get(reverse("rectification:import_preview", args=["nope"])).status_code == 404
    answer = _upload(client, org, [_row(title="路灯", unit="A1", due="5个工作日")])
    client.logout()
    login_as("supervisor", org.group)  # another user cannot open someone's upload
    assert client.get(answer["Location"]).status_code == 404
