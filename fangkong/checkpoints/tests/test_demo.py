"""The demo: the guard sees today's post, lets the pre-registered visitor in, a visitor at
the plant with outsiders banned is refused with the reason shown, and three passes wait to
be shown to the scanner."""

import datetime as dt

import pytest
import time_machine
import zxingcpp
from django.utils import timezone
from PIL import Image

from fangkong.accounts.models import User
from fangkong.orgs.demo import seed

from .. import services
from ..demo import seed_checkpoints, seed_gate_passes
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
            with Image.open(path) as image:
                text = zxingcpp.read_barcode(image).text
            verdicts.append(server_verdict(text, services.gate_policy(gate)).reason)
        assert [path.name for path in files] == [
            "pass-1-admits.png",
            "pass-2-admits.png",
            "pass-3-revoked.png",
        ]
        assert verdicts == ["ok", "ok", "revoked"]
