"""The demo: the guard sees today's post, verifies a worker's phone pass, lets the
pre-registered visitor in (by ID number, and by the pass on her visitor link), registers a
walk-in, and a visitor at the plant with outsiders banned is refused with the reason shown.
After the worker declares a fever, the same pass is refused online for its status. Three
passes wait to be shown to the scanner."""

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from fangkong.accounts.models import User
from fangkong.health import services as health
from fangkong.health.selectors import link_token
from fangkong.health.tests.factories import raw_declaration
from fangkong.orgs.demo import seed
from fangkong.orgs.models import Person
from fangkong.testing import read_qr_codes

from .. import services
from ..demo import demo_visitor_link, seed_checkpoints, seed_gate_passes
from ..models import Checkpoint, GateEvent, Visitor
from .guard_passes import server_verdict

pytestmark = pytest.mark.django_db


def test_the_guard_works_the_demos_gate(client):
    today = timezone.localdate()
    nine = dt.datetime.combine(today, dt.time(9), timezone.get_current_timezone())
    with time_machine.travel(nine, tick=False):
        seed("small")
        assert seed_checkpoints() == {"checkpoints": 6}
        client.force_login(User.objects.get(username="guard"))
        home = client.get("/").content.decode()
        assert 'id="todays-post"' in home and "1号门" in home and "07:30" in home
        visitor = Visitor.objects.get()
        gate = Checkpoint.objects.get(site__code="SDLY-P1", code="G1")
        client.post(
            "/checkpoints/entry/",
            {"checkpoint": gate.pk, "direction": "in", "id_number": visitor.id_number},
        )
        assert GateEvent.objects.get(visitor=visitor).admitted
        # Her visitor link (printed by `make demo`) shows her pass; the guard scans it.
        found = demo_visitor_link()
        assert found is not None and found[0] == visitor
        page = client.get(found[1]).content.decode()
        code = page.split('data-code="')[1].split('"')[0]
        client.post(
            "/checkpoints/entry/", {"checkpoint": gate.pk, "direction": "out", "code": code}
        )
        scanned = GateEvent.objects.get(visitor=visitor, source="scan")
        assert scanned.admitted and scanned.pass_id_hash == visitor.pass_id_hash
        banned = Checkpoint.objects.get(site__code="SDLY-P2")
        page = client.post(
            "/checkpoints/visitors/",
            {
                "walk_in": "1",
                "site": banned.site_id,
                "name": "孙立",
                "id_number": "370303199001010017",
                "purpose": "送货",
            },
            follow=True,
        )
        assert page.status_code == 200
        walk_in = Visitor.objects.get(name="孙立")
        page = client.post(
            "/checkpoints/entry/",
            {"checkpoint": banned.pk, "direction": "in", "id_number": walk_in.id_number},
            follow=True,
        ).content.decode()
        assert "outsiders" in page.lower() or "外来人员" in page
        assert not GateEvent.objects.get(visitor=walk_in).admitted
        # Three passes to show the scanner: two admit at the main gate, one is revoked.
        files = seed_gate_passes()
        verdicts = []
        for path in files:
            [text] = read_qr_codes(path)
            verdicts.append(server_verdict(text, services.gate_policy(gate)).reason)
        assert [path.name for path in files] == [
            "pass-1-admits.png",
            "pass-2-admits.png",
            "pass-3-revoked.png",
        ]
        assert verdicts == ["ok", "ok", "revoked"]


def test_the_demos_guard_refuses_a_workers_pass_for_status_after_a_fever(client):
    today = timezone.localdate()
    nine = dt.datetime.combine(today, dt.time(9), timezone.get_current_timezone())
    with time_machine.travel(nine, tick=False):
        seed("small")
        seed_checkpoints()
        gate = Checkpoint.objects.get(site__code="SDLY-P1", code="G1")
        worker = Person.objects.filter(unit_path__startswith=gate.site.path).first()
        assert worker is not None
        link = health.link_issue(actor=None, person=worker)
        state = client.get(f"/passes/p/{link_token(link)}/").context["state"]
        assert state["active"], state["reason"]
        client.force_login(User.objects.get(username="guard"))

        def scanned() -> GateEvent:
            client.post(
                "/checkpoints/entry/",
                {"checkpoint": gate.pk, "direction": "in", "code": state["text"]},
            )
            return GateEvent.objects.filter(person=worker).latest("id")

        assert scanned().admitted
        health.declarations_submit(  # through the worker's own link, as the phone does
            actor=None, items=[raw_declaration(worker, temperature="38.6")], via_link=link
        )
        refused = scanned()
        assert not refused.admitted and refused.verdict == "status"
