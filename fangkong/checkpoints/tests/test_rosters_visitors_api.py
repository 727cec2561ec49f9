"""Visitors, duty rosters with the unstaffed alert, the guard's home, and the API."""

import datetime as dt
import io
import re
import uuid

import openpyxl
import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from fangkong.accounts.roles import Role
from fangkong.checkpoints.tasks import unstaffed_sweep
from fangkong.core.models import AuditLog
from fangkong.notify.models import Event, InboxItem
from fangkong.passes import daily
from fangkong.testing import valid_resident_id

from .. import services
from ..models import GateEvent, UnstaffedAlert, Visitor
from .factories import make_gate

pytestmark = pytest.mark.django_db


@pytest.fixture
def gate(org):
    return make_gate(org.plant_a)


@pytest.fixture
def guard(org):
    return org.user(Role.GUARD, org.plant_a)


def local(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), timezone.get_current_timezone())


# ------------------------------------------------------------------ visitors


def test_a_host_pre_registers_a_visitor_and_the_list_masks_the_phone(client, org, gate):
    host = org.user(Role.REPORTER, org.shop_a)  # a role at the site's subtree
    client.force_login(org.user(Role.REPORTER, org.plant_a))
    day = timezone.localdate()
    with time_machine.travel(local(day, 12), tick=False):  # before the visit is over
        response = client.post(
            "/checkpoints/visitors/",
            {
                "site": org.plant_a.pk,
                "name": "王芳",
                "id_number": valid_resident_id(77),
                "phone": "13705330088",
                "plate": "鲁C·8M123",
                "purpose": "设备检修",
                "day": day.isoformat(),
                "start": "08:00",
                "end": "18:00",
            },
            follow=True,
        )
    visitor = Visitor.objects.get()
    assert (visitor.plate, visitor.source) == ("鲁C8M123", "pre_registered")
    assert visitor.valid_until - visitor.valid_from == dt.timedelta(hours=10)
    page = response.content.decode()
    assert "王芳" in page and "137****0088" in page and "13705330088" not in page
    assert host  # a host below the site may register too
    services.visitor_register(
        actor=host,
        site=org.plant_a,
        name="李强",
        id_number=valid_resident_id(78),
        purpose="送货",
        day=day,
    )


def test_a_visitor_with_a_wrong_id_number_is_refused_with_the_reason(client, org, gate, guard):
    # The form comes back open, as typed, with the reason at the ID number (it used to come
    # back folded and empty, the reason at the top of the page).
    client.force_login(org.user(Role.REPORTER, org.plant_a))
    bad = valid_resident_id(77)[:-1] + ("0" if valid_resident_id(77)[-1] != "0" else "1")
    typed = {
        "site": org.plant_a.pk,
        "name": "王芳",
        "id_number": bad,
        "phone": "13705330088",
        "purpose": "设备检修",
    }
    response = client.post("/checkpoints/visitors/", typed)
    assert response.status_code == 422
    assert not Visitor.objects.exists()
    page = response.content.decode()
    assert '<details class="card" id="pre-register-card" open>' in page
    error = re.search(r'<p class="errors" role="alert" id="h-id_number-error">([^<]+)</p>', page)
    assert error is not None and "校验码" in error.group(1)
    for value in ("王芳", bad, "13705330088", "设备检修"):
        assert f'value="{value}"' in page
    assert f'<option value="{org.plant_a.pk}" selected>' in page
    # Every problem at once, each at its field: a bad phone beside the bad ID number.
    both = client.post("/checkpoints/visitors/", {**typed, "phone": "12345"}).content.decode()
    assert 'id="h-id_number-error"' in both and 'id="h-phone-error"' in both
    assert '<label for="h-name">姓名</label>' in both
    # A walk-in refused the same way opens the walk-in form, not the host's.
    client.force_login(guard)
    walk_in = client.post("/checkpoints/visitors/", {**typed, "walk_in": "1", "purpose": ""})
    assert walk_in.status_code == 422
    page = walk_in.content.decode()
    assert '<details class="card" id="walk-in-card" open>' in page
    assert 'id="pre-register-card" open' not in page


def test_a_pre_registered_visitor_is_admitted_by_id_number_inside_the_window(
    client, org, gate, guard
):
    day = timezone.localdate()
    client.force_login(guard)
    post = {"checkpoint": gate.pk, "direction": "in", "id_number": valid_resident_id(77)}
    with time_machine.travel(local(day, 9), tick=False):
        services.visitor_register(
            actor=guard,
            site=org.plant_a,
            name="王芳",
            id_number=valid_resident_id(77),
            purpose="检修",
            day=day,
            start=dt.time(8),
            end=dt.time(18),
        )
        client.post("/checkpoints/entry/", post)
    with time_machine.travel(local(day, 19), tick=False):
        client.post("/checkpoints/entry/", {**post, "client_uuid": str(uuid.uuid4())})
    first, late = GateEvent.objects.order_by("id")
    assert first.admitted and first.visitor is not None
    assert (late.admitted, late.verdict) == (False, "expired")


# ------------------------------------------------------------------ rosters


@pytest.fixture
def post(org, gate):
    monday = timezone.localdate() - dt.timedelta(days=timezone.localdate().weekday())
    return services.post_create(actor=None, checkpoint=gate, name="白班", anchor=monday)


def test_posts_start_at_0730_and_only_guards_of_the_site_are_rostered(org, post, guard):
    assert post.starts_at == dt.time(7, 30)
    outsider = org.user(Role.GUARD, org.plant_b)
    services.roster_set(actor=None, post=post, assignments={0: guard})
    with pytest.raises(Exception, match=f"{outsider.username} 不是本单位的值守人员"):
        services.roster_set(actor=None, post=post, assignments={1: outsider})


def test_an_unstaffed_post_alerts_the_sites_admins_once_at_the_start_of_its_shift(org, post):
    admin = org.user(Role.UNIT_ADMIN, org.ent_a)
    day = timezone.localdate() + dt.timedelta(days=1)
    with time_machine.travel(local(day, 7, 0), tick=False):
        assert unstaffed_sweep() == 0  # before the shift
    with time_machine.travel(local(day, 7, 31), tick=False):
        assert unstaffed_sweep() == 1
        assert unstaffed_sweep() == 0  # once a day
    item = InboxItem.objects.get(user=admin)
    assert item.notification.event == Event.POST_UNSTAFFED
    assert "白班" in item.notification.subject
    assert UnstaffedAlert.objects.filter(post=post, day=day).exists()


def test_a_staffed_post_raises_no_alert(org, post, guard):
    services.roster_set(actor=None, post=post, assignments=dict.fromkeys(range(7), guard))
    day = timezone.localdate() + dt.timedelta(days=1)
    with time_machine.travel(local(day, 7, 35), tick=False):
        assert unstaffed_sweep() == 0


def test_the_guards_home_shows_todays_post_and_the_next_shifts(client, org, post, guard):
    services.roster_set(actor=None, post=post, assignments=dict.fromkeys(range(7), guard))
    day = timezone.localdate() + dt.timedelta(days=1)
    client.force_login(guard)
    with time_machine.travel(local(day, 9), tick=False):
        page = client.get("/").content.decode()
    assert 'id="todays-post"' in page and "1号门" in page and "白班" in page
    assert "07:30" in page


def test_todays_post_stays_on_the_guards_home_after_the_shift_ends(client, org, post, guard):
    services.roster_set(actor=None, post=post, assignments=dict.fromkeys(range(7), guard))
    day = timezone.localdate() + dt.timedelta(days=1)
    client.force_login(guard)
    with time_machine.travel(local(day, 21), tick=False):  # the 07:30 shift ended at 19:30
        page = client.get("/").content.decode()
    assert 'id="todays-post"' in page and "1号门" in page and "本班已结束" in page
    tomorrow = (day + dt.timedelta(days=1)).strftime("%m-%d")
    assert f"{tomorrow} 07:30" in page  # the next shift, not the one that is over


def test_a_roster_change_is_audited(client, org, post, guard):
    client.force_login(org.user(Role.UNIT_ADMIN, org.ent_a))
    client.post("/checkpoints/rosters/", {"post": post.pk, "day_index": 2, "guard": guard.pk})
    assert post.slots.get(day_index=2).guard == guard
    assert AuditLog.objects.filter(object_type="checkpoints.post", action="update").exists()


# ------------------------------------------------------------------ API


def scan_body(gate, person, key=None, **extra):
    return {
        "client_uuid": str(key or uuid.uuid4()),
        "checkpoint_id": gate.pk,
        "direction": "in",
        "verdict": "ok",
        "person_id": person.pk,
        **extra,
    }


def test_a_retried_batch_stores_nothing_twice(client, org, gate, guard):
    client.force_login(guard)
    in_and_out = [scan_body(gate, org.person_a), scan_body(gate, org.person_a, direction="out")]
    batch = {"scans": in_and_out}
    first = client.post("/api/v1/checkpoints/scans", batch, content_type="application/json")
    again = client.post("/api/v1/checkpoints/scans", batch, content_type="application/json")
    assert [r["status"] for r in first.json()["results"]] == ["created", "created"]
    assert [r["status"] for r in again.json()["results"]] == ["duplicate", "duplicate"]
    assert GateEvent.objects.count() == 2


def test_a_scan_outside_the_guards_units_is_rejected_alone(client, org, gate, guard):
    other = make_gate(org.plant_b)
    client.force_login(guard)
    batch = {"scans": [scan_body(other, org.person_b), scan_body(gate, org.person_a)]}
    answer = client.post("/api/v1/checkpoints/scans", batch, content_type="application/json")
    assert [r["status"] for r in answer.json()["results"]] == ["rejected", "created"]
    assert answer.json()["results"][0]["error"]["code"] == "not_found"
    assert GateEvent.objects.get().checkpoint == gate


def test_a_person_outside_the_guards_units_cannot_be_named_by_id(client, org, gate, guard):
    """Person ids are sequential: naming one from another enterprise must not reveal them."""
    client.force_login(guard)
    batch = {"scans": [scan_body(gate, org.person_b)]}
    answer = client.post("/api/v1/checkpoints/scans", batch, content_type="application/json")
    result = answer.json()["results"][0]
    assert result["status"] == "rejected" and result["error"]["code"] == "not_found"
    assert "李娜" not in answer.content.decode()
    assert not GateEvent.objects.exists()


def test_an_offline_scan_names_the_passes_holder_from_the_servers_record(client, org, gate, guard):
    """An offline scanner knows only the pass: the server finds whose it is, even from another
    enterprise, so the occupancy and a fever's card name the right person."""
    row, _why = daily.daily_pass(org.person_b)
    assert row is not None
    client.force_login(guard)
    scan = scan_body(gate, org.person_b, pass_id_hash=row.pass_hash, temperature="36.5")
    del scan["person_id"]
    answer = client.post(
        "/api/v1/checkpoints/scans", {"scans": [scan]}, content_type="application/json"
    )
    assert answer.json()["results"][0]["status"] == "created"
    assert GateEvent.objects.get().person == org.person_b


def test_a_viewer_may_not_post_scans(client, org, gate):
    client.force_login(org.user(Role.VIEWER, org.ent_a))
    batch = {"scans": [scan_body(gate, org.person_a)]}
    answer = client.post("/api/v1/checkpoints/scans", batch, content_type="application/json")
    assert answer.status_code == 403


def test_the_api_lists_visitors_rosters_and_the_guards_shifts(client, org, post, guard):
    services.roster_set(actor=None, post=post, assignments=dict.fromkeys(range(7), guard))
    client.force_login(guard)
    created = client.post(
        "/api/v1/checkpoints/visitors",
        {
            "site_id": org.plant_a.pk,
            "name": "王芳",
            "id_number": valid_resident_id(77),
            "purpose": "送货",
            "day": timezone.localdate().isoformat(),
            "walk_in": True,
        },
        content_type="application/json",
    )
    assert created.status_code == 201
    assert "*" in created.json()["id_number"]
    assert client.get("/api/v1/checkpoints/visitors").json()["count"] == 1
    assert client.get("/api/v1/checkpoints/rosters").json()[0]["slots"][0]["guard_id"] == guard.pk
    assert client.get("/api/v1/checkpoints/my-shifts").json()


# ------------------------------------------------------------------ roster import


def roster_file(rows) -> SimpleUploadedFile:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["单位编码", "卡口编码", "岗位", "轮班日", "值守人员账号"])
    for row in rows:
        sheet.append(row)
    data = io.BytesIO()
    book.save(data)
    return SimpleUploadedFile("排班.xlsx", data.getvalue())


def test_a_roster_is_previewed_then_committed_all_at_once(client, org, post, guard):
    client.force_login(org.user(Role.UNIT_ADMIN, org.ent_a))
    upload = roster_file([["A1", "G1", "白班", day, guard.username] for day in range(1, 8)])
    preview = client.post("/checkpoints/rosters/import/", {"file": upload})
    page = preview.content.decode()
    assert 'id="preview"' in page and page.count(guard.username) >= 7
    assert not post.slots.exists()  # nothing saved before the commit
    token = preview.context["token"]
    client.post("/checkpoints/rosters/import/", {"token": token})
    assert sorted(post.slots.values_list("day_index", flat=True)) == list(range(7))


def test_a_roster_with_a_bad_row_imports_nothing_and_names_the_row(client, org, post, guard):
    client.force_login(org.user(Role.UNIT_ADMIN, org.ent_a))
    outsider = org.user(Role.GUARD, org.plant_b)
    upload = roster_file(
        [["A1", "G1", "白班", 1, guard.username], ["A1", "G1", "白班", 2, outsider.username]]
    )
    page = client.post("/checkpoints/rosters/import/", {"file": upload}).content.decode()
    assert 'id="errors"' in page and outsider.username in page
    assert not post.slots.exists()
    forged = client.post("/checkpoints/rosters/import/", {"token": "forged"}, follow=True)
    assert forged.status_code == 200 and not post.slots.exists()
