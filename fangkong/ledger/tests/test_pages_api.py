"""Ledger pages and /api/v1/ledger: lists, export, item actions, worklist, calendar."""

import datetime as dt
import io

import openpyxl
import pytest
from django.utils import timezone

from fangkong.accounts.roles import Role
from fangkong.core.models import AuditLog, CalendarDay, CalendarNotice
from fangkong.ledger import services
from fangkong.ledger.keys import person_key
from fangkong.ledger.models import Item

pytestmark = pytest.mark.django_db


def card(org, person=None, **kwargs):
    person = person or org.person_a
    item, _ = services.item_open(
        actor=None,
        kind="testcase",
        subject=person,
        person=person,
        unit=person.unit,
        title=f"{person.name} 发热",
        open_key=person_key(person.pk),
        **kwargs,
    )
    return item


def test_list_page_filters_and_pages(client, org, login_as):
    late = card(org, opened_at=timezone.now() - dt.timedelta(hours=30))
    card(org, org.person_b)
    services.overdue_sweep(timezone.now())
    login_as(Role.GROUP_ADMIN, org.group)
    page = client.get("/ledger/testcase/").content.decode()
    assert "张伟 发热" in page and "李娜 发热" in page
    page = client.get("/ledger/testcase/?overdue=1").content.decode()
    assert "张伟 发热" in page and "李娜 发热" not in page
    page = client.get(f"/ledger/testcase/?unit={org.ent_b.code}").content.decode()
    assert "李娜 发热" in page and "张伟 发热" not in page
    page = client.get(f"/ledger/testcase/?unit={org.ent_a.pk}&overdue=1").content.decode()
    assert f"/ledger/item/{late.pk}/" in page
    assert client.get("/ledger/nonesuch/").status_code == 404
    assert client.get("/ledger/").status_code == 200


def test_list_page_is_scoped(client, org, login_as):
    card(org, org.person_b)
    login_as(Role.TRACKER, org.ent_a)
    assert "李娜" not in client.get("/ledger/testcase/").content.decode()
    assert client.get(f"/ledger/testcase/?unit={org.ent_b.code}").status_code == 404
    login_as(Role.GUARD, org.ent_a)
    assert client.get("/ledger/testcase/").status_code == 403


def test_export_masks_numbers_and_is_audited(client, org, login_as):
    card(org)
    login_as(Role.VIEWER, org.ent_a)  # may export, no health data
    assert client.get("/ledger/testcase/export/").status_code == 403
    login_as(Role.REPORTER, org.ent_a)  # health data and export, no full numbers
    response = client.get("/ledger/testcase/export/?format=xlsx")
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == 2
    assert rows[1][2] == "张伟"
    assert "*" in rows[1][3] and rows[1][3] != org.person_a.id_number
    assert rows[1][4] == "138****8001"
    assert AuditLog.objects.filter(action="export", object_type="ledger.item").count() == 1
    csv = client.get("/ledger/testcase/export/?format=csv").content.decode("utf-8-sig")
    assert "张伟" in csv and org.person_a.id_number not in csv


def test_item_page_follow_up_close_out_and_approval(client, org, login_as):
    item = card(org)
    tracker = login_as(Role.TRACKER, org.ent_a)
    page = client.get(f"/ledger/item/{item.pk}/").content.decode()
    assert "Record follow-up" in page or "记录" in page
    assert org.person_a.phone in page  # trackers call people: full number, audited
    assert AuditLog.objects.filter(action="view_sensitive").exists()
    response = client.post(
        f"/ledger/item/{item.pk}/follow_up/", {"text": "电话随访，体温正常", "value": "36.5"}
    )
    assert response.status_code == 302
    assert item.entries.filter(kind="measurement").count() == 1
    client.post(f"/ledger/item/{item.pk}/take/")
    assert list(item.owners.all()) == [tracker]
    client.post(f"/ledger/item/{item.pk}/approve/")
    item.refresh_from_db()
    assert item.state == "open"  # nothing to approve: refused with a message
    client.post(f"/ledger/item/{item.pk}/request_close/", {"reason": "连续3天正常"})
    item.refresh_from_db()
    assert item.state == "closing"
    login_as(Role.UNIT_ADMIN, org.ent_a)
    page = client.get(f"/ledger/item/{item.pk}/").content.decode()
    assert f"/ledger/item/{item.pk}/approve/" in page
    client.post(f"/ledger/item/{item.pk}/approve/", {"note": "同意"})
    item.refresh_from_db()
    assert (item.state, item.is_open) == ("closed", False)
    client.post(f"/ledger/item/{item.pk}/reopen/", {"reason": "复发"})
    item.refresh_from_db()
    assert item.is_open


def test_item_page_hides_other_scopes(client, org, login_as):
    item = card(org, org.person_b)
    login_as(Role.TRACKER, org.ent_a)
    assert client.get(f"/ledger/item/{item.pk}/").status_code == 404
    assert client.post(f"/ledger/item/{item.pk}/follow_up/", {"text": "x"}).status_code == 404


def test_today_worklist(client, org, login_as):
    tracker = login_as(Role.TRACKER, org.ent_a)
    # Opened 30 hours ago, its daily follow-up is overdue: on today's list at any hour.
    item = card(org, opened_at=timezone.now() - dt.timedelta(hours=30), owners=[tracker])
    page = client.get("/ledger/today/").content.decode()
    assert f'id="item-{item.pk}"' in page
    response = client.post(
        f"/ledger/item/{item.pk}/follow_up/", {"text": "正常", "next": "/ledger/today/"}
    )
    assert response["Location"] == "/ledger/today/"
    assert f'id="item-{item.pk}"' not in client.get("/ledger/today/").content.decode()
    login_as(Role.VIEWER, org.ent_a)
    assert client.get("/ledger/today/").status_code == 403


def test_calendar_page(client, org, login_as):
    login_as(Role.UNIT_ADMIN, org.ent_a)
    assert client.get("/ledger/calendar/").status_code == 403
    login_as(Role.GROUP_ADMIN, org.group)
    page = client.get("/ledger/calendar/?year=2025").content.decode()
    assert "2025-10-11" in page
    client.post(
        "/ledger/calendar/?year=2099",
        {
            "action": "save",
            "year": "2099",
            "day": "2099-10-01",
            "is_working": "0",
            "name": "国庆节",
        },
    )
    row = CalendarDay.objects.get(day=dt.date(2099, 10, 1))
    assert not row.is_working
    client.post("/ledger/calendar/", {"action": "notice", "year": "2099", "note": "国办发明电"})
    assert CalendarNotice.objects.filter(year=2099).exists()
    client.post("/ledger/calendar/", {"action": "delete", "year": "2099", "override": row.pk})
    assert not CalendarDay.objects.exists()
    assert AuditLog.objects.filter(object_type="core.calendarday").count() == 2


# ------------------------------------------------------------------ API


def test_api_list_detail_follow_up_and_close(client, org, login_as):
    item = card(org)
    login_as(Role.TRACKER, org.ent_a)
    listed = client.get("/api/v1/ledger/items?kind=testcase").json()
    assert [row["id"] for row in listed["items"]] == [item.pk]
    detail = client.get(f"/api/v1/ledger/items/{item.pk}").json()
    assert {c["key"] for c in detail["clocks"]} == {"first_follow_up", "resolution", "follow_up"}
    created = client.post(
        f"/api/v1/ledger/items/{item.pk}/follow-ups",
        {"text": "正常", "value": "36.4", "unit": "℃"},
        content_type="application/json",
    )
    assert created.status_code == 201 and created.json()["kind"] == "measurement"
    moved = client.post(
        f"/api/v1/ledger/items/{item.pk}/transition",
        {"target": "following"},
        content_type="application/json",
    )
    assert moved.json()["state"] == "following"
    refused = client.post(
        f"/api/v1/ledger/items/{item.pk}/close", {"reason": ""}, content_type="application/json"
    )
    assert refused.status_code == 422 and refused.json()["code"] == "invalid"
    closing = client.post(
        f"/api/v1/ledger/items/{item.pk}/close",
        {"reason": "正常"},
        content_type="application/json",
    )
    assert closing.json()["state"] == "closing"
    denied = client.post(
        f"/api/v1/ledger/items/{item.pk}/approve", {}, content_type="application/json"
    )
    assert denied.status_code == 403 and denied.json()["code"] == "forbidden"
    history = client.get(f"/api/v1/ledger/items/{item.pk}/history").json()
    assert [e["kind"] for e in history][-1] == "close_request"
    counts = client.get(f"/api/v1/ledger/counts?kind=testcase&unit_id={org.ent_a.pk}").json()
    assert {"unit_id": org.plant_a.pk, "open": 1, "overdue": 0, "closing": 1} in counts
    assert Item.objects.get(pk=item.pk).state == "closing"


def test_the_worklist_costs_the_same_queries_for_one_item_or_many(client, org, login_as):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from fangkong.orgs.services import person_create
    from fangkong.testing import valid_resident_id

    tracker = login_as(Role.TRACKER, org.ent_a)
    opened = timezone.now() - dt.timedelta(hours=30)  # overdue: due today at any hour
    card(org, opened_at=opened, owners=[tracker])
    with CaptureQueriesContext(connection) as one:
        client.get("/ledger/today/")
    for n in range(4):
        person = person_create(
            actor=None, unit=org.shop_a, name=f"工人{n}", id_number=valid_resident_id(700 + n)
        )
        card(org, person, opened_at=opened, owners=[tracker])
    with CaptureQueriesContext(connection) as five:
        page = client.get("/ledger/today/").content.decode()
    assert page.count('id="item-') == 5
    assert len(five) == len(one)
