"""The back office: the catalogue (search, export, add, edit, deactivate, the import with
its preview and all-or-nothing commit), windows, staff (leaving revokes the badges), badge
codes and their printable PDF, jurisdiction profiles and tag versions."""

import io
import re

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from pypdf import PdfReader

from fangkong.core.models import AuditLog
from fangkong.evaluation import selectors, services
from fangkong.evaluation.badge_pdf import INSTRUCTION, badge_qr_png, badge_url
from fangkong.evaluation.models import Badge, Offering, Profile, Service, Staff, TagSet, Window
from fangkong.testing import read_qr_codes

from .helpers import build_centre

pytestmark = pytest.mark.django_db


def workbook(rows) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["事项编码", "事项名称", "事项类别", "单位编码", "窗口号"])
    for row in rows:
        sheet.append(row)
    data = io.BytesIO()
    book.save(data)
    return data.getvalue()


def pdf_text(data: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_the_catalogue_searches_filters_and_exports(client, org):
    c = build_centre(org)
    Service.objects.create(code="HJ001", name="户口迁移", category="户籍", is_active=False)
    client.force_login(c.head)
    page = client.get("/evaluation/admin/")
    assert page.status_code == 200 and page.context["page_obj"].paginator.count == 3
    assert client.get("/evaluation/admin/?q=不动产").context["page_obj"].paginator.count == 1
    assert client.get("/evaluation/admin/?category=户籍").context["page_obj"].paginator.count == 1
    assert client.get("/evaluation/admin/?active=0").context["page_obj"].paginator.count == 1
    export = client.get("/evaluation/admin/export/?q=社保&format=xlsx")
    rows = list(
        openpyxl.load_workbook(io.BytesIO(export.content)).active.iter_rows(values_only=True)
    )
    assert len(rows) == 2 and rows[1][:3] == ("SB001", "社保参保登记", "社保")
    assert AuditLog.objects.filter(action=AuditLog.Action.EXPORT).exists()


def test_adding_a_service_with_a_taken_code_keeps_what_was_typed(client, org):
    c = build_centre(org)
    client.force_login(c.head)
    refused = client.post(
        "/evaluation/admin/", {"code": "sb001", "name": "医保参保", "category": "医保"}
    )
    assert refused.status_code == 422
    html = refused.content.decode()
    assert 'value="医保参保"' in html and 'value="sb001"' in html and 'aria-invalid="true"' in html
    done = client.post(
        "/evaluation/admin/", {"code": "yb001", "name": "医保参保", "category": "医保"}
    )
    assert done.status_code == 302 and Service.objects.filter(code="YB001").exists()


def test_edit_and_deactivate_a_service(client, org):
    c = build_centre(org)
    client.force_login(c.head)
    url = f"/evaluation/admin/services/{c.social.pk}/"
    client.post(url, {"action": "save", "code": "SB001", "name": "社保参保登记（个人）"})
    c.social.refresh_from_db()
    assert c.social.name == "社保参保登记（个人）"
    client.post(url, {"action": "deactivate"})
    c.social.refresh_from_db()
    assert not c.social.is_active
    with pytest.raises(services.InvalidInput):  # no new case for a deactivated service
        services.case_register(actor=c.clerk, service=c.social)


def test_the_import_previews_then_commits_every_row_or_none(client, org):
    c = build_centre(org)
    client.force_login(c.head)
    bad = workbook(
        [["YB001", "医保参保", "医保", "ZB01", ""], ["MZ001", "低保申请", "民政", "NOPE", ""]]
    )
    refused = client.post("/evaluation/admin/import/", {"file": SimpleUploadedFile("s.xlsx", bad)})
    assert refused.status_code == 422
    assert [row["row"] for row in refused.context["bad_rows"]] == [3]
    assert not Service.objects.filter(code="YB001").exists()
    good = workbook(
        [
            ["YB001", "医保参保", "医保", "ZB01", "3"],
            ["YB001", "医保参保", "医保", "ZB", ""],
            ["MZ001", "低保申请", "民政", "", ""],
        ]
    )
    preview = client.post("/evaluation/admin/import/", {"file": SimpleUploadedFile("s.xlsx", good)})
    assert preview.status_code == 200 and len(preview.context["rows"]) == 3
    assert not Service.objects.filter(code="YB001").exists()  # nothing before the commit
    done = client.post("/evaluation/admin/import/", {"token": preview.context["token"]})
    assert done.status_code == 302
    medical = Service.objects.get(code="YB001")
    assert Offering.objects.filter(service=medical, window=c.window).exists()
    assert Offering.objects.filter(service=medical, unit=c.centre, window__isnull=True).exists()
    assert Service.objects.filter(code="MZ001").exists()
    forged = client.post("/evaluation/admin/import/", {"token": "forged"})
    assert forged.status_code == 422


def test_another_centres_head_cannot_import_offerings_here(client, org):
    build_centre(org)
    client.force_login(org.user("service_head", org.ent_b))
    sheet = workbook([["YB001", "医保参保", "医保", "ZB01", ""]])
    refused = client.post(
        "/evaluation/admin/import/", {"file": SimpleUploadedFile("s.xlsx", sheet)}
    )
    assert refused.status_code == 422 and not Service.objects.filter(code="YB001").exists()


def test_windows_are_added_per_station_and_a_duplicate_number_is_refused(client, org):
    c = build_centre(org)
    client.force_login(c.head)
    refused = client.post(
        "/evaluation/admin/windows/", {"unit": c.station.pk, "number": "3", "name": "第二综合窗口"}
    )
    assert refused.status_code == 422 and 'value="第二综合窗口"' in refused.content.decode()
    client.post("/evaluation/admin/windows/", {"unit": c.station.pk, "number": "4", "name": "社保"})
    assert Window.objects.filter(unit=c.station, number="4").exists()
    listed = client.get(f"/evaluation/admin/windows/?unit={c.station.pk}")
    assert listed.context["page_obj"].paginator.count == 2
    assert client.get("/evaluation/admin/windows/?unit=999999").status_code == 404


def test_staff_are_assigned_and_leaving_revokes_their_badges(client, org):
    c = build_centre(org)
    new_clerk = org.user("window_staff", c.centre)
    client.force_login(c.head)
    refused = client.post(
        "/evaluation/admin/staff/",
        {
            "window": c.window.pk,
            "username": new_clerk.username,
            "name": "李娜",
            "staff_number": "ZB0103",
        },
    )
    assert refused.status_code == 422 and 'value="李娜"' in refused.content.decode()
    stranger = client.post(
        "/evaluation/admin/staff/",
        {"window": c.window.pk, "username": "nobody", "name": "李娜", "staff_number": "ZB0104"},
    )
    assert stranger.status_code == 422
    client.post(
        "/evaluation/admin/staff/",
        {
            "window": c.window.pk,
            "username": new_clerk.username,
            "name": "李娜",
            "staff_number": "ZB0104",
        },
    )
    member = Staff.objects.get(user=new_clerk)
    badge = services.badge_issue(actor=c.head, unit=c.station, staff=member)
    token = services.badge_token(badge)
    # Marked as left from a searched list, the list comes back as it was searched.
    listed = client.get("/evaluation/admin/staff/?q=ZB0104").content.decode()
    [leave] = re.findall(rf'action="(/evaluation/admin/staff/{member.pk}/leave/[^"]*)"', listed)
    left = client.post(leave.replace("&amp;", "&"))
    assert left.status_code == 302 and left["Location"] == "/evaluation/admin/staff/?q=ZB0104"
    member.refresh_from_db()
    badge.refresh_from_db()
    assert not member.is_active and badge.revoked_at is not None
    with pytest.raises(services.NotFound):
        services.badge_from_token(token)
    assert client.get("/evaluation/admin/staff/?left=1").context["page_obj"].paginator.count == 1


def test_badges_are_issued_revoked_with_audit_and_scoped(client, org):
    c = build_centre(org)
    client.force_login(c.head)
    client.post("/evaluation/admin/badges/", {"holder": "staff", "staff": c.staff.pk})
    client.post("/evaluation/admin/badges/", {"holder": "window", "window": c.window.pk})
    client.post("/evaluation/admin/badges/", {"holder": "account", "unit": c.station.pk})
    refused = client.post("/evaluation/admin/badges/", {"holder": "staff", "staff": "x"})
    assert refused.status_code == 422
    assert Badge.objects.count() == 3
    assert Badge.objects.filter(channel="account", holder="station").count() == 1
    listed = client.get(f"/evaluation/admin/badges/?unit={c.station.pk}")
    assert listed.context["page_obj"].paginator.count == 3
    # Each row opens the page its code leads to, as a citizen who scans it sees it.
    scan_links = re.findall(r'<a href="([^"]+)"[^>]*data-scan>', listed.content.decode())
    assert sorted(scan_links) == sorted(selectors.badge_path(b) for b in Badge.objects.all())
    assert all(client.get(link).status_code == 200 for link in scan_links)
    badge = Badge.objects.get(holder="staff")
    client.post(f"/evaluation/admin/badges/{badge.pk}/revoke/")
    badge.refresh_from_db()
    assert badge.revoked_at is not None
    assert (
        AuditLog.objects.filter(object_type="evaluation.badge", object_id=str(badge.pk)).count()
        == 2
    )
    assert (
        client.get(f"/evaluation/admin/badges/?unit={c.station.pk}")
        .context["page_obj"]
        .paginator.count
        == 2
    )
    client.force_login(org.user("service_head", org.ent_b))
    assert client.post(f"/evaluation/admin/badges/{badge.pk}/revoke/").status_code == 404
    assert client.get(f"/evaluation/admin/badges/{badge.pk}/badge.pdf").status_code == 404
    client.force_login(c.supervisor)  # no back office for the supervisor
    assert client.get("/evaluation/admin/badges/").status_code == 403


def test_the_badge_pdf_carries_name_number_window_instruction_and_a_qr_of_the_link(client, org):
    c = build_centre(org)
    badge = services.badge_issue(actor=c.head, unit=c.station, staff=c.staff)
    client.force_login(c.head)
    response = client.get(f"/evaluation/admin/badges/{badge.pk}/badge.pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = pdf_text(response.content)
    text = text.replace("\n", "")
    assert "王晓红" in text and "ZB0103" in text and "3 综合窗口" in text and INSTRUCTION in text
    url = badge_url(badge, "http://testserver/")
    assert services.badge_token(badge) in url
    assert read_qr_codes(badge_qr_png(badge, "http://testserver/")) == [url]
    assert services.badge_from_token(url.rstrip("/").rsplit("/", 1)[1]) == badge


def test_a_stations_sheet_prints_every_live_badge_several_per_page(client, org):
    c = build_centre(org)
    for _ in range(5):
        services.badge_issue(actor=c.head, unit=c.station, window=c.window)
    services.badge_issue(actor=c.head, unit=c.station, staff=c.staff)
    client.force_login(c.head)
    response = client.get(f"/evaluation/admin/badges/sheet.pdf?unit={c.station.pk}")
    assert response.status_code == 200
    reader = PdfReader(io.BytesIO(response.content))
    assert len(reader.pages) == 2  # four badges to an A4 page
    assert "王晓红" in pdf_text(response.content)
    assert client.get("/evaluation/admin/badges/sheet.pdf").status_code == 422


def test_profiles_are_edited_and_activated(client, org):
    c = build_centre(org)
    client.force_login(c.head)
    dezhou = Profile.objects.get(name="德州市")
    refused = client.post(
        "/evaluation/admin/profiles/",
        {
            "profile": dezhou.pk,
            "callback_hours": "abc",
            "rectify_working_days": "5",
            "follow_up_days": "7",
        },
    )
    assert refused.status_code == 422 and 'value="abc"' in refused.content.decode()
    client.post(
        "/evaluation/admin/profiles/",
        {
            "profile": dezhou.pk,
            "callback_hours": "12",
            "rectify_working_days": "5",
            "follow_up_days": "10",
        },
    )
    dezhou.refresh_from_db()
    assert (dezhou.callback_hours, dezhou.follow_up_days) == (12, 10)
    client.post("/evaluation/admin/profiles/", {"profile": dezhou.pk, "action": "activate"})
    assert services.active_profile().name == "德州市"


def test_saving_tags_makes_a_new_version_and_keeps_the_old(client, org):
    c = build_centre(org)
    client.force_login(c.head)
    first = TagSet.objects.get(version=1)
    form = {f"level_{level}": "\n".join(first.tags[str(level)]) for level in range(1, 6)}
    unchanged = client.post("/evaluation/admin/tags/", form)
    assert unchanged.status_code == 422
    form["level_1"] += "\n窗口无人"
    too_long = {**form, "level_2": "这是一个非常非常非常长的标签文字超过了十六个字"}
    refused = client.post("/evaluation/admin/tags/", too_long)
    assert refused.status_code == 422 and "窗口无人" in refused.content.decode()
    assert client.post("/evaluation/admin/tags/", form).status_code == 302
    assert TagSet.objects.get(version=2).tags["1"][-1] == "窗口无人"
    first.refresh_from_db()
    assert "窗口无人" not in first.tags["1"]


def sheet_rows(response) -> list[tuple]:
    assert response.status_code == 200, response.content[:300]
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    return list(book.active.iter_rows(values_only=True))


def export_link(page) -> str:
    """The page's export button, as the list's filters left it."""
    [link] = re.findall(r'<a class="button secondary" data-export href="([^"]+)"', page)
    return link.replace("&amp;", "&")


def test_windows_staff_and_badges_export_what_their_lists_show(client, org):
    c = build_centre(org)
    other = services.window_create(actor=c.head, unit=c.centre, number="1", name="咨询窗口")
    services.badge_issue(actor=c.head, unit=c.station, staff=c.staff)
    revoked = services.badge_issue(actor=c.head, unit=c.station, window=c.window)
    services.badge_revoke(actor=c.head, badge=revoked)
    client.force_login(c.head)

    windows = client.get(f"/evaluation/admin/windows/?unit={c.station.pk}").content.decode()
    assert sheet_rows(client.get(export_link(windows))) == [
        ("服务中心或站点", "窗口号", "名称", "工作人员", "有效"),
        (c.station.place, "3", "综合窗口", 1, "是"),
    ]
    all_windows = client.get("/evaluation/admin/windows/").content.decode()
    assert {row[2] for row in sheet_rows(client.get(export_link(all_windows)))[1:]} == {
        "综合窗口",
        other.name,
    }

    staff = client.get("/evaluation/admin/staff/?q=王晓").content.decode()
    assert 'data-label="姓名">王晓红' in staff  # a person's name, on the phone too
    assert sheet_rows(client.get(export_link(staff))) == [
        ("工号", "姓名", "账号", "服务中心或站点", "窗口", "状态"),
        ("ZB0103", "王晓红", c.clerk.username, c.station.place, str(c.window), "在岗"),
    ]
    left = client.get("/evaluation/admin/staff/?q=王晓&left=1").content.decode()
    assert sheet_rows(client.get(export_link(left)))[1:] == []

    live = client.get(f"/evaluation/admin/badges/?unit={c.station.pk}").content.decode()
    [header, row] = sheet_rows(client.get(export_link(live)))
    assert header == ("用途", "持证人", "服务中心或站点", "生成时间", "吊销时间", "扫码页")
    assert row[:3] == ("工作人员", "ZB0103 王晓红", c.station.place) and row[4] is None
    assert row[5].startswith("http://testserver/e/b/")
    assert client.get(row[5].removeprefix("http://testserver")).status_code == 200
    gone = client.get(f"/evaluation/admin/badges/?unit={c.station.pk}&revoked=1").content.decode()
    [_header, row] = sheet_rows(client.get(export_link(gone)))
    assert row[1].startswith("3") and row[4] and row[5] is None  # no address for a dead code

    exported = AuditLog.objects.filter(action=AuditLog.Action.EXPORT)
    assert {"evaluation.window", "evaluation.staff", "evaluation.badge"} <= set(
        exported.values_list("object_type", flat=True)
    )
    # Another enterprise's head exports none of it; the supervisor has no back office.
    client.force_login(org.user("service_head", org.ent_b))
    assert sheet_rows(client.get("/evaluation/admin/windows/export/?format=xlsx"))[1:] == []
    assert sheet_rows(client.get("/evaluation/admin/staff/export/?format=xlsx"))[1:] == []
    assert sheet_rows(client.get("/evaluation/admin/badges/export/?revoked="))[1:] == []
    client.force_login(c.supervisor)
    assert client.get("/evaluation/admin/badges/export/").status_code == 403
