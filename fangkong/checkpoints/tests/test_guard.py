"""The guard's scanner on the server's side: its page, manifest and service worker, what
an offline scanner fetches, and one record per scan however it reaches the server (the
browser tests drive the app itself: test_guard_browser.py)."""

import json
import re
import uuid

import pytest
from django.contrib.staticfiles import finders
from django.utils import translation
from django.utils.translation import gettext
from PIL import Image

from fangkong.accounts.roles import Role
from fangkong.passes import format as fmt
from fangkong.passes.holders import plate_masked
from fangkong.passes.tests.factories import issue
from fangkong.testing import build_org

from .. import services
from ..guard import ASSETS, asset_urls
from ..models import GateEvent, Verdict
from .factories import make_gate

pytestmark = pytest.mark.django_db


@pytest.fixture
def gate(org):
    return make_gate(org.plant_a)


@pytest.fixture
def guard(org):
    return org.user(Role.GUARD, org.plant_a)


def zh(msgid: str) -> str:
    with translation.override("zh-hans"):
        return gettext(msgid)


def page_config(html: str) -> dict:
    found = re.search(r'<script id="guard-config" type="application/json">(.*?)</script>', html)
    assert found, html[:500]
    return json.loads(found.group(1))


# ------------------------------------------------------------------ the app


def test_the_scanner_asks_for_a_log_in_and_is_for_those_who_record_at_gates(client, org, guard):
    anonymous = client.get("/guard/")
    assert anonymous.status_code == 302
    assert anonymous["Location"] == "/accounts/login/?next=/guard/"
    client.force_login(org.user(Role.VIEWER, org.ent_a))
    assert client.get("/guard/").status_code == 403
    client.force_login(guard)
    page = client.get("/guard/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'rel="manifest" href="/guard/manifest.webmanifest"' in html
    config = page_config(html)
    # The root key the scanner pins is the one the API publishes.
    assert config["root_key"] == client.get("/api/v1/passes/root-key").json()
    assert config["user"] == guard.username
    assert "no-cache" in page["Cache-Control"]


@pytest.mark.django_db(transaction=True)
def test_the_scanner_opens_on_a_database_without_keys_yet(client, reference_data):
    """Outside a test's transaction, as in production: the page makes the root key it pins
    (a row lock, which PostgreSQL allows only in a transaction)."""
    org = build_org()
    client.force_login(org.user(Role.GUARD, org.plant_a))
    page = client.get("/guard/")
    assert page.status_code == 200
    assert page_config(page.content.decode())["root_key"]["kid"]


def test_the_guards_home_page_opens_the_scanner(client, guard):
    client.force_login(guard)
    home = client.get("/").content.decode()
    assert 'id="open-scanner" href="/guard/"' in home


def test_the_manifest_installs_the_scanner_at_guard_full_screen(client):
    manifest = client.get("/guard/manifest.webmanifest", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert manifest["Content-Type"].startswith("application/manifest+json")
    body = manifest.json()
    assert body["name"] == zh("Gate scanner")
    assert (body["start_url"], body["scope"], body["display"]) == (
        "/guard/",
        "/guard/",
        "standalone",
    )
    sizes = {icon["sizes"]: icon["src"] for icon in body["icons"]}
    assert set(sizes) == {"192x192", "512x512"}
    for size, src in sizes.items():
        found = finders.find(src.removeprefix("/static/"))
        with Image.open(found) as image:
            assert (image.format, f"{image.width}x{image.height}") == ("PNG", size)


def test_the_service_worker_keeps_every_file_the_app_needs(client):
    worker = client.get("/guard/sw.js")
    assert worker.status_code == 200
    assert worker["Content-Type"].startswith("text/javascript")
    assert worker["Cache-Control"] == "no-cache"
    text = worker.content.decode()
    assert re.search(r'var CACHE = "fangkong-guard-[0-9a-f]{16}";', text)
    for path, url in zip(ASSETS, asset_urls(), strict=True):
        assert json.dumps(url) in text
        assert finders.find(path), f"{path} is missing (is the QR decoder installed: npm ci?)"


# ------------------------------------------------------------------ what the scanner fetches


def test_each_checkpoint_says_what_a_pass_must_show_there(client, org, gate, guard):
    services.policy_update(
        actor=None, site=org.plant_a, admit_colours=["green", "yellow"], refuse_printed=True
    )
    client.force_login(guard)
    (listed,) = client.get("/api/v1/checkpoints").json()
    policy = listed["policy"]
    assert set(policy["zones"]) == {gate.code, org.plant_a.code, *gate.zones}
    assert policy["admit_statuses"] == ["green", "yellow"]
    assert policy["refuse_printed"] and not policy["refuse_without_device_key"]
    assert policy["fever_threshold"] == "37.3"


# ------------------------------------------------------------------ one record per scan


def post(client, url: str, body: dict):
    return client.post(url, body, content_type="application/json")


def test_a_scan_checked_online_and_sent_again_offline_is_stored_once(client, org, gate, guard):
    """The scanner checks a pass live and keeps it queued until answered: if the answer is
    lost, the batch sends the same UUID with what the phone knows, and is told duplicate."""
    _row, text = issue(org, zones=["A1"])
    client.force_login(guard)
    key = str(uuid.uuid4())
    live = post(
        client,
        "/api/v1/checkpoints/pass-scans",
        {
            "client_uuid": key,
            "checkpoint_id": gate.pk,
            "direction": "in",
            "code": text,
            "temperature": "36.6",
        },
    )
    assert live.status_code == 201
    assert live.json()["holder_masked"] == "张*" and live.json()["admitted"]
    offline = {
        "client_uuid": key,
        "checkpoint_id": gate.pk,
        "direction": "in",
        "verdict": "ok",
        "pass_id_hash": fmt.pass_hash(fmt.decode(text).claims.pass_id).hex(),
        "temperature": "36.6",
    }
    answer = post(client, "/api/v1/checkpoints/scans", {"scans": [offline]})
    assert answer.json()["results"][0]["status"] == "duplicate"
    assert GateEvent.objects.count() == 1


def test_a_vehicle_pass_is_recorded_with_its_plate_however_it_arrives(client, org, gate, guard):
    plate = "鲁C12345"
    _row, text = issue(
        org,
        kind="vehicle",
        person=None,
        unit=org.plant_a,
        plate=plate,
        holder_display=plate_masked(plate),
        zones=["A1"],
    )
    client.force_login(guard)
    hashed = fmt.pass_hash(fmt.decode(text).claims.pass_id).hex()
    live = post(
        client,
        "/api/v1/checkpoints/pass-scans",
        {
            "client_uuid": str(uuid.uuid4()),
            "checkpoint_id": gate.pk,
            "direction": "in",
            "code": text,
            "disinfected": True,
            "cargo": "氧化铝",
        },
    )
    assert live.status_code == 201
    event = GateEvent.objects.get(pk=live.json()["id"])
    assert (event.plate, event.disinfected, event.cargo) == (plate, True, "氧化铝")
    offline = {
        "client_uuid": str(uuid.uuid4()),
        "checkpoint_id": gate.pk,
        "direction": "out",
        "verdict": "ok",
        "pass_id_hash": hashed,
    }
    answer = post(client, "/api/v1/checkpoints/scans", {"scans": [offline]})
    assert answer.json()["results"][0]["status"] == "created"
    assert GateEvent.objects.get(direction="out").plate == plate


# ------------------------------------------------------------------ manual entry


def test_a_manual_entry_by_id_number_is_checked_and_recorded_once(client, org, gate, guard):
    client.force_login(guard)
    body = {
        "client_uuid": str(uuid.uuid4()),
        "checkpoint_id": gate.pk,
        "direction": "in",
        "id_number": org.person_a.id_number,
        "temperature": "36.5",
    }
    first = post(client, "/api/v1/checkpoints/manual-entries", body)
    again = post(client, "/api/v1/checkpoints/manual-entries", body)
    assert (first.status_code, again.status_code) == (201, 200)
    entry = first.json()
    assert (entry["admitted"], entry["verdict"], entry["source"]) == (False, "status", "manual")
    assert entry["reason"] == zh("No health declaration today.")
    assert entry["holder_masked"] == "张*"
    assert GateEvent.objects.count() == 1


def test_a_manual_entry_with_a_bad_id_number_or_nothing_says_why(client, org, gate, guard):
    client.force_login(guard)
    url = "/api/v1/checkpoints/manual-entries"
    base = {"checkpoint_id": gate.pk, "direction": "in"}
    wrong = post(client, url, {**base, "id_number": "370303198503120000"})
    nothing = post(client, url, base)
    plate = post(client, url, {**base, "plate": "not a plate"})
    assert (wrong.status_code, nothing.status_code, plate.status_code) == (422, 422, 422)
    assert nothing.json()["message"] == zh("Enter an ID number or a plate.")
    assert "id_number" in wrong.json()["detail"] and "plate" in plate.json()["detail"]
    car = post(client, url, {**base, "plate": "鲁C 12345", "disinfected": True})
    assert car.status_code == 201 and car.json()["plate"] == "鲁C12345"
    assert car.json()["verdict"] == Verdict.OK
    assert not GateEvent.objects.exclude(plate="鲁C12345").exists()
