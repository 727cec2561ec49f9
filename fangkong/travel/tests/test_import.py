"""The risk-area list imported from Excel: per-row errors, all rows or none."""

import io

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from python_calamine import CalamineWorkbook

from fangkong.core.errors import InvalidInput, PermissionDenied
from fangkong.travel.importing import risk_areas_import, template_headers, template_workbook
from fangkong.travel.models import RiskArea, RiskAreaBatch

from .factories import JIANGAN, captured_exposures, days_ago, trip

pytestmark = pytest.mark.django_db


def workbook(rows, headers=None) -> SimpleUploadedFile:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(headers or template_headers())
    for row in rows:
        sheet.append(row)
    data = io.BytesIO()
    book.save(data)
    return SimpleUploadedFile("通知.xlsx", data.getvalue())


def admin(org):
    return org.user("group_admin", org.group)


def test_a_good_file_imports_every_row_as_one_version_and_rechecks(org):
    trip(org.person_a, JIANGAN, 5, 3)
    upload = workbook(
        [
            ["420100", "武汉市", "高", days_ago(10).isoformat()],
            ["", "山东省 淄博市 张店区", "低风险", days_ago(2)],
            ["110101", "", "中", days_ago(1).strftime("%Y/%m/%d")],
        ]
    )
    with captured_exposures() as sent:
        change = risk_areas_import(actor=admin(org), upload=upload, notice="第5号通告")
    batch = RiskAreaBatch.objects.get()
    assert (batch.kind, batch.rows, batch.raised, batch.notice) == ("import", 3, 3, "第5号通告")
    assert dict(RiskArea.objects.values_list("division_id", "level")) == {
        "420100": "high",
        "370303": "low",
        "110101": "medium",
    }
    assert [e.person_id for e in sent] == [org.person_a.pk] and change.exposures == sent


def test_bad_rows_are_listed_with_row_and_reason_and_nothing_is_imported(org):
    upload = workbook(
        [
            ["420100", "武汉市", "高", days_ago(3).isoformat()],
            ["999999", "", "高", days_ago(3).isoformat()],
            ["420100", "", "中", days_ago(3).isoformat()],
            ["370303", "北京", "很高", "昨天"],
            ["", "", "高", days_ago(-5).isoformat()],
        ]
    )
    with pytest.raises(InvalidInput) as caught:
        risk_areas_import(actor=admin(org), upload=upload)
    errors = caught.value.detail["rows"]
    by_row = {}
    for error in errors:
        by_row.setdefault(error["row"], set()).add(error["column"])
    assert by_row == {
        3: {"地区代码"},
        4: {"地区代码"},  # listed twice
        5: {"地区名称", "风险等级", "生效日期"},
        6: {"地区代码", "生效日期"},  # no region; a future date
    }
    assert "4" in str(caught.value.message)
    assert not RiskArea.objects.exists() and not RiskAreaBatch.objects.exists()


def test_missing_columns_are_named(org):
    with pytest.raises(InvalidInput) as caught:
        risk_areas_import(
            actor=admin(org), upload=workbook([["420100", "高"]], headers=["地区代码", "等级x"])
        )
    assert "风险等级" in str(caught.value.message) and "生效日期" in str(caught.value.message)


def test_only_outbreak_admins_import(org):
    with pytest.raises(PermissionDenied):
        risk_areas_import(actor=org.user("unit_admin", org.ent_a), upload=workbook([]))


def test_the_template_has_the_headers_and_imports_as_is(org, tmp_path):
    path = tmp_path / "t.xlsx"
    path.write_bytes(template_workbook())
    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()
    assert rows[0] == ["地区代码", "地区名称", "风险等级", "生效日期", "适用停留起始日期"]
    risk_areas_import(actor=admin(org), upload=SimpleUploadedFile("t.xlsx", template_workbook()))
    assert RiskArea.objects.count() == 2


# ---------------------------------------------------------------- the shared reader


def csv_file(lines, *, encoding="utf-8", newline="\r\n") -> SimpleUploadedFile:
    return SimpleUploadedFile("通知.csv", newline.join(lines).encode(encoding))


def test_a_gb18030_csv_with_bare_cr_a_title_and_synonyms_imports(org):
    upload = csv_file(
        [
            "湖北省新冠肺炎风险地区名单（第5号）,,,,",
            "区划代码,地名,风险级别,生效时间,备注",
            f"420100,武汉市,高风险,{days_ago(3).isoformat()},封控",
            f"370303,张店区,低,{days_ago(2).isoformat()},",
        ],
        encoding="gb18030",
        newline="\r",
    )
    change = risk_areas_import(actor=admin(org), upload=upload)
    assert change.batch.rows == 2 and change.ignored_columns == ["备注"]
    assert dict(RiskArea.objects.values_list("division_id", "level")) == {
        "420100": "high",
        "370303": "low",
    }


def test_a_merged_title_row_in_excel_is_skipped(org):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["风险地区名单（2020年2月）"])
    sheet.merge_cells("A1:D1")
    sheet.append(template_headers())
    sheet.append(["420100", "武汉市", "高", days_ago(3)])
    data = io.BytesIO()
    book.save(data)
    risk_areas_import(actor=admin(org), upload=SimpleUploadedFile("名单.xlsx", data.getvalue()))
    assert RiskArea.objects.get().division_id == "420100"


def test_unreadable_lines_are_listed_and_nothing_is_imported(org):
    day = days_ago(3).isoformat()
    upload = csv_file(
        [
            ",".join(template_headers()),
            f"420100,武汉市,高,{day}",
            f'"110101,东城区,中,{day}',  # a quote that never closes
            f"370303,张店\x07区,低,{day}",  # a control character
            f"110102,西城区,中,{day}",
            f'"120101,和平区,中,{day}',  # and the file ends inside a quote
        ],
    )
    with pytest.raises(InvalidInput) as caught:
        risk_areas_import(actor=admin(org), upload=upload)
    errors = caught.value.detail["rows"]
    assert [(e["row"], e["column"]) for e in errors] == [(3, ""), (4, "地区名称"), (6, "")]
    assert errors[1]["value"] == "张店␇区" and all(e["message"] for e in errors)
    assert not RiskArea.objects.exists() and not RiskAreaBatch.objects.exists()


def test_the_import_page_shows_ignored_columns(client, org):
    client.force_login(admin(org))
    url = reverse("travel:risk_area_import")
    headers = [*template_headers(), "备注"]
    bad = client.post(url, {"file": workbook([["9", "", "高", days_ago(1)]], headers=headers)})
    assert bad.status_code == 422
    assert 'id="ignored-columns"' in bad.content.decode() and "备注" in bad.content.decode()
    good = workbook([["420100", "", "高", days_ago(1), "", "封控"]], headers=headers)
    response = client.post(url, {"file": good}, follow=True)
    assert "Ignored columns: 备注." in [  # travel tests run in English (conftest)
        str(m) for m in response.context["messages"]
    ]
