"""The quarantine pages: lists with filters and export, occupancy, forms, trips."""

import datetime as dt
import io

import openpyxl
import pytest
from django.utils import timezone

from fangkong.core.models import AuditLog

from .. import services
from ..models import Mode, Placement, Room, Trip
from .factories import make_site

pytestmark = pytest.mark.django_db


@pytest.fixture
def site(org):
    return make_site(org.ent_a)


def test_place_a_person_through_the_form(client, org, site, login_as):
    _site, rooms = site
    login_as("unit_admin")
    found = client.get("/quarantine/new/", {"q": "张"})
    assert "张伟" in found.content.decode()
    form = client.get("/quarantine/new/", {"person": org.person_a.pk})
    assert "101" in form.content.decode()
    response = client.post(
        "/quarantine/new/",
        {
            "person": org.person_a.pk,
            "mode": "centralised",
            "room": rooms["101"].pk,
            "level": "high",
            "start": "2020-02-01",
        },
    )
    placement = Placement.objects.get()
    assert response.status_code == 302 and response.url == f"/quarantine/{placement.pk}/"
    page = client.get(response.url).content.decode()
    assert "2020-02-15" in page and "101" in page


def test_a_full_room_is_reported_on_the_form(client, org, site, login_as):
    _site, rooms = site
    services.placement_start(
        actor=None, person=org.person_b, mode=Mode.HOME, level="high", address="x"
    )  # someone elsewhere: does not fill the room
    login_as("unit_admin")
    Room.objects.filter(pk=rooms["101"].pk).update(capacity=1)
    data = {"person": org.person_a.pk, "mode": "centralised", "room": rooms["101"].pk}
    client.post("/quarantine/new/", {**data, "level": "high"})
    assert Placement.objects.filter(person=org.person_a).count() == 1


def test_list_filters_and_export_masks_numbers(client, org, site, login_as):
    _site, rooms = site
    today = timezone.localdate()
    services.placement_start(
        actor=None,
        person=org.person_a,
        mode=Mode.CENTRALISED,
        level="high",
        start=today - dt.timedelta(days=14),
        site=rooms["101"].site,
        room=rooms["101"],
    )
    login_as("reporter")
    page = client.get("/quarantine/", {"ending": "today", "state": "open"}).content.decode()
    assert "张伟" in page
    assert "张伟" not in client.get("/quarantine/", {"ending": "tomorrow"}).content.decode()
    assert "张伟" in client.get("/quarantine/", {"q": "zw"}).content.decode()
    export = client.get("/quarantine/export/", {"format": "xlsx"})
    sheet = openpyxl.load_workbook(io.BytesIO(export.content)).active
    rows = list(sheet.values)
    assert rows[1][0] == "张伟" and "*" in rows[1][1]
    assert AuditLog.objects.filter(action=AuditLog.Action.EXPORT).exists()


def test_lists_stay_in_scope(client, org, site, login_as):
    services.placement_start(
        actor=None, person=org.person_b, mode=Mode.HOME, level="high", address="x"
    )
    login_as("unit_admin")
    assert "李娜" not in client.get("/quarantine/", {"state": ""}).content.decode()
    login_as("guard")  # no health data, no roll-up
    assert client.get("/quarantine/").status_code == 403
    assert client.get("/quarantine/sites/").status_code == 403


def test_occupancy_page_and_room_management(client, org, site, login_as):
    the_site, rooms = site
    login_as("unit_admin")
    page = client.get("/quarantine/sites/").content.decode()
    assert the_site.name in page
    client.post(f"/quarantine/sites/{the_site.pk}/add-room/", {"number": "103", "capacity": "4"})
    assert Room.objects.get(number="103").capacity == 4
    client.post(
        f"/quarantine/sites/{the_site.pk}/edit-room/", {"room": rooms["101"].pk, "capacity": "2"}
    )
    assert Room.objects.get(pk=rooms["101"].pk).capacity == 2
    client.post(f"/quarantine/sites/{the_site.pk}/delete-room/", {"room": rooms["101"].pk})
    assert not Room.objects.filter(pk=rooms["101"].pk).exists()
    detail = client.get(f"/quarantine/sites/{the_site.pk}/").content.decode()
    assert 'id="free-beds">6<' in detail
    assert AuditLog.objects.filter(
        action=AuditLog.Action.DELETE, object_type="quarantine.room"
    ).exists()
    login_as("viewer")  # figures, no names
    assert client.get(f"/quarantine/sites/{the_site.pk}/").status_code == 200


def test_add_a_site(client, org, login_as):
    login_as("unit_admin")
    client.post("/quarantine/sites/", {"name": "培训中心", "unit_code": "A1"})
    assert "培训中心" in client.get("/quarantine/sites/").content.decode()
    client.post("/quarantine/sites/", {"name": "别处", "unit_code": "B1"})
    assert "别处" not in client.get("/quarantine/sites/").content.decode()


def test_record_a_trip_and_its_arrival(client, org, site, login_as):
    the_site, _rooms = site
    login_as("unit_admin")
    response = client.post(
        "/quarantine/trips/new/",
        {
            "unit_code": "A",
            "site": the_site.pk,
            "vehicle_plate": "鲁C 12345",
            "driver_name": "刘师傅",
            "driver_phone": "13700000001",
            "origin": "淄博北站",
            "destination": the_site.name,
            "departed_at": "2020-02-01T10:00",
            "people": org.person_a.id_number,
        },
    )
    trip = Trip.objects.get()
    assert response.url == f"/quarantine/trips/{trip.pk}/"
    assert trip.vehicle_plate == "鲁C12345" and list(trip.people.all()) == [org.person_a]
    client.post(f"/quarantine/trips/{trip.pk}/")
    trip.refresh_from_db()
    assert trip.arrived_at is not None
    assert "鲁C12345" in client.get("/quarantine/trips/", {"q": "张伟"}).content.decode()
    export = client.get("/quarantine/trips/export/", {"format": "csv"})
    assert "张伟" in export.content.decode("utf-8-sig")


def test_a_trip_cannot_carry_people_outside_the_scope(client, org, login_as):
    login_as("unit_admin")
    client.post(
        "/quarantine/trips/new/",
        {
            "unit_code": "A",
            "vehicle_plate": "鲁C12345",
            "driver_name": "刘师傅",
            "origin": "a",
            "destination": "b",
            "departed_at": "2020-02-01T10:00",
            "people": org.person_b.id_number,
        },
    )
    assert not Trip.objects.exists()


def test_checks_tests_and_release_on_the_placement_page(client, org, site, login_as):
    _site, rooms = site
    placement = services.placement_start(
        actor=None,
        person=org.person_a,
        mode=Mode.CENTRALISED,
        level="high",
        site=rooms["101"].site,
        room=rooms["101"],
    )
    url = f"/quarantine/{placement.pk}/"
    login_as("tracker")
    client.post(url + "check/", {"temperature": "36.7", "note": "无不适"})
    client.post(url + "test/", {"result": "negative"})
    page = client.get(url).content.decode()
    assert "36.7 °C" in page and ("negative" in page or "阴性" in page)
    client.post(url + "release/", {"reason": "期满"})
    client.post(url + "approve/", {})  # a tracker may not approve
    placement.refresh_from_db()
    assert placement.state == Placement.State.RELEASING
    login_as("unit_admin")
    client.post(url + "approve/", {"note": "同意"})
    placement.refresh_from_db()
    assert placement.state == Placement.State.RELEASED


def test_api_place_check_and_release(client, org, site, login_as):
    _site, rooms = site
    login_as("unit_admin")
    created = client.post(
        "/api/v1/quarantine/placements",
        {
            "person_id": org.person_a.pk,
            "mode": "centralised",
            "level": "high",
            "room_id": rooms["101"].pk,
        },
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["item_id"] and body["days"] == 14
    again = client.post(
        "/api/v1/quarantine/placements",
        {"person_id": org.person_a.pk, "mode": "home", "level": "high", "address": "家"},
        content_type="application/json",
    )
    assert again.status_code == 409 and set(again.json()) == {"code", "message", "detail"}
    pid = body["id"]
    check = client.post(
        f"/api/v1/quarantine/placements/{pid}/checks",
        {"temperature": "36.5"},
        content_type="application/json",
    )
    assert check.status_code == 201 and check.json()["value"] == "36.5"
    client.post(
        f"/api/v1/quarantine/placements/{pid}/release",
        {"reason": "期满"},
        content_type="application/json",
    )
    done = client.post(
        f"/api/v1/quarantine/placements/{pid}/release/approve", {}, content_type="application/json"
    )
    assert done.json()["state"] == "released"
    site_row = client.get(f"/api/v1/quarantine/sites/{rooms['101'].site_id}").json()
    assert site_row["occupied"] == 0 and site_row["free"] == 3
