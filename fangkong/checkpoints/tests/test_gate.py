"""The gate's log: verdicts from any source, the site's rules, overrides, occupancy, figures."""

import datetime as dt
import io
import re
import uuid
from html import unescape

import openpyxl
import pytest
from django.utils import timezone

from fangkong.accounts.roles import Role
from fangkong.core.errors import KeyReused, NotFound, PermissionDenied
from fangkong.core.models import AuditLog
from fangkong.health import services as health
from fangkong.health.tests.factories import raw_declaration
from fangkong.ledger.models import Item
from fangkong.notify.models import Notification
from fangkong.testing import valid_resident_id

from .. import selectors, services
from ..models import GateEvent, Verdict
from .factories import make_gate, scan

pytestmark = pytest.mark.django_db


@pytest.fixture
def gate(org):
    return make_gate(org.plant_a)


@pytest.fixture
def guard(org):
    return org.user(Role.GUARD, org.plant_a)


def test_a_retried_scan_is_stored_once_and_a_reused_uuid_is_refused(org, gate, guard):
    key = uuid.uuid4()
    first = scan(guard, gate, person=org.person_a, client_uuid=key)
    again, created = services.scan_record(
        guard,
        checkpoint=gate,
        direction="in",
        verdict_code="ok",
        reason_message="",
        person=org.person_a,
        client_uuid=key,
    )
    assert (again.pk, created) == (first.pk, False)
    assert GateEvent.objects.count() == 1
    with pytest.raises(KeyReused):
        scan(guard, gate, person=org.person_a, client_uuid=key, direction="out")


def test_a_verdict_from_the_pass_verifier_is_kept_with_its_reason(org, gate, guard):
    event = scan(guard, gate, person=org.person_a, verdict_code="revoked", reason_message="已吊销")
    assert (event.admitted, event.verdict, event.reason) == (False, "revoked", "已吊销")


def test_a_fever_at_the_gate_refuses_entry_and_opens_a_card_whose_owner_is_told(
    org, gate, guard, django_capture_on_commit_callbacks
):
    tracker = org.user(Role.TRACKER, org.ent_a)
    with django_capture_on_commit_callbacks(execute=True):
        event = scan(guard, gate, person=org.person_a, temperature="37.5")
    assert (event.admitted, event.verdict) == (False, Verdict.FEVER)
    assert "37.5" in event.reason
    card = Item.objects.get(kind="abnormal", is_open=True)
    assert card.person_id == org.person_a.pk
    assert "1号门" in card.title
    assert Notification.objects.filter(event="item_opened", inbox_items__user=tracker).exists()


def test_a_normal_temperature_admits(org, gate, guard):
    assert scan(guard, gate, person=org.person_a, temperature="36.6").admitted
    assert not Item.objects.exists()


def test_a_guard_records_only_at_the_checkpoints_of_their_units(org, guard):
    other = make_gate(org.plant_b)
    with pytest.raises(NotFound):
        scan(guard, other, person=org.person_b)


def test_the_watch_list_refuses_and_only_supervisors_read_why(client, org, gate, guard):
    services.watch_add(
        actor=None, unit=org.ent_a, id_number=org.person_a.id_number, name="", reason="闯卡记录"
    )
    event = scan(guard, gate, person=org.person_a)
    assert (event.admitted, event.verdict) == (False, Verdict.WATCH_LIST)
    client.force_login(guard)
    page = client.get("/checkpoints/refusals/").content.decode()
    assert "禁止通行，请联系值班领导" in page or "Entry refused: contact the duty leader." in page
    assert "闯卡记录" not in page
    client.force_login(org.user(Role.SUPERVISOR, org.ent_a))
    assert "闯卡记录" in client.get("/checkpoints/refusals/").content.decode()


def test_the_watch_list_keeps_no_id_number(org):
    entry = services.watch_add(
        actor=None, unit=org.ent_a, id_number=org.person_a.id_number, name="", reason="x"
    )
    stored = [str(v) for v in GateEvent._meta.model.objects.none()] + [
        entry.id_hash,
        entry.id_masked,
    ]
    assert org.person_a.id_number not in stored


def test_a_visitor_is_refused_with_a_visible_reason_where_outsiders_are_banned(
    client, org, gate, guard
):
    services.policy_update(
        actor=None, site=org.plant_a, admit_colours=["green"], outsiders_banned=True
    )
    visitor = services.visitor_register(
        actor=guard,
        site=org.plant_a,
        name="王芳",
        id_number=valid_resident_id(77),
        purpose="送货",
        day=timezone.localdate(),
        walk_in=True,
    )
    event = scan(guard, gate, visitor=visitor)
    assert (event.admitted, event.verdict) == (False, Verdict.OUTSIDERS_BANNED)
    client.force_login(guard)
    assert "王芳" in client.get("/checkpoints/refusals/").content.decode()
    assert selectors.reason_for(guard, event) == event.reason != ""


def test_a_supervisor_overrides_a_refusal_with_a_reason_and_it_is_audited(client, org, gate, guard):
    event = scan(guard, gate, person=org.person_a, verdict_code="expired", reason_message="过期")
    client.force_login(guard)
    client.post(f"/checkpoints/log/{event.pk}/override/", {"reason": "x"})
    event.refresh_from_db()
    assert not event.admitted
    supervisor = org.user(Role.SUPERVISOR, org.ent_a)
    client.force_login(supervisor)
    response = client.post(f"/checkpoints/log/{event.pk}/override/", {"reason": ""}, follow=True)
    assert not GateEvent.objects.get(pk=event.pk).admitted
    response = client.post(
        f"/checkpoints/log/{event.pk}/override/", {"reason": "厂长电话确认"}, follow=True
    )
    event.refresh_from_db()
    assert event.admitted and event.overridden_by == supervisor
    assert "张伟" not in response.content.decode()  # no longer among the refusals
    assert "厂长电话确认" in client.get("/checkpoints/").content.decode()
    row = AuditLog.objects.get(object_type="checkpoints.gateevent", actor=supervisor)
    assert row.after["override_reason"] == "厂长电话确认"


def test_a_guard_may_not_override(org, gate, guard):
    event = scan(guard, gate, person=org.person_a, verdict_code="expired", reason_message="")
    with pytest.raises(PermissionDenied):
        services.refusal_override(actor=guard, event=event, reason="x")


def test_occupancy_follows_the_in_and_out_pairs(org, gate, guard):
    east = make_gate(org.plant_a, code="G2", name="2号门")
    scan(guard, gate, person=org.person_a)
    scan(guard, east, plate="鲁C12345", driver="刘师傅", disinfected=True, cargo="氧化铝")
    visitor = services.visitor_register(
        actor=guard,
        site=org.plant_a,
        name="王芳",
        id_number=valid_resident_id(77),
        purpose="送货",
        day=timezone.localdate(),
        walk_in=True,
    )
    scan(guard, gate, visitor=visitor)
    scan(guard, east, visitor=visitor, direction="out")
    scan(guard, gate, person=org.person_b, verdict_code="revoked", reason_message="")
    inside = {row.checkpoint.code: row.events for row in selectors.inside_now(guard, org.plant_a)}
    assert [e.person for e in inside["G1"]] == [org.person_a]
    assert [e.plate for e in inside["G2"]] == ["鲁C12345"]


def test_each_figure_opens_the_list_it_counts(client, org, gate, guard):
    scan(guard, gate, person=org.person_a)
    scan(guard, gate, person=org.person_b, verdict_code="revoked", reason_message="")
    overridden = scan(guard, gate, person=org.person_b, verdict_code="expired", reason_message="")
    services.refusal_override(actor=None, event=overridden, reason="确认")
    client.force_login(org.user(Role.UNIT_ADMIN, org.ent_a))
    page = client.get(f"/checkpoints/sites/{org.plant_a.pk}/").content.decode()
    figures = selectors.gate_figures(org.plant_a.path, timezone.localdate())
    assert (figures["entries"], figures["refusals"]) == (2, 1)
    links = re.findall(r'href="([^"]+)">[^<]+<strong>(\d+)</strong>', page)
    assert [count for _link, count in links] == ["2", "0", "1"]
    for link, count in links:
        listed = client.get(unescape(link)).content.decode()
        assert f"{count} " in re.search(r'<p class="muted">([^<]+)</p>', listed).group(1)


def test_gate_figures_count_entries_exits_and_refusals_by_reason(org, gate, guard):
    scan(guard, gate, person=org.person_a)
    scan(guard, gate, person=org.person_a, direction="out")
    scan(guard, gate, person=org.person_b, verdict_code="revoked", reason_message="")
    scan(guard, gate, person=org.person_b, temperature="38.2")
    figures = selectors.gate_figures(org.ent_a.path, timezone.localdate())
    assert (figures["entries"], figures["exits"], figures["refusals"]) == (1, 1, 2)
    assert {code: n for code, _label, n in figures["by_reason"]} == {"revoked": 1, "fever": 1}
    assert selectors.gate_figures(org.ent_b.path, timezone.localdate())["entries"] == 0
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    assert selectors.gate_figures(org.ent_a.path, yesterday)["refusals"] == 0


def test_manual_entry_by_id_number_decides_on_todays_status(client, org, gate, guard):
    client.force_login(guard)
    post = {"checkpoint": gate.pk, "direction": "in", "id_number": org.person_a.id_number}
    page = client.post("/checkpoints/entry/", post, follow=True).content.decode()
    assert "张伟" in page
    assert GateEvent.objects.get().verdict == Verdict.STATUS  # no declaration today
    reporter = org.user(Role.REPORTER, org.ent_a)
    health.declarations_submit(actor=reporter, items=[raw_declaration(org.person_a)])
    client.post("/checkpoints/entry/", post)
    assert GateEvent.objects.latest("id").admitted


def test_manual_entry_answers_bad_input_in_the_users_language(client, org, gate, guard):
    # The guard sees the problem at its field, with everything typed still there (the
    # page used to come back empty, with the message at the top).
    client.force_login(guard)
    response = client.post(
        "/checkpoints/entry/",
        {"checkpoint": gate.pk, "direction": "in", "id_number": "123", "temperature": "36.8"},
    )
    assert response.status_code == 422
    page = response.content.decode()
    error = re.search(r'<p class="errors" role="alert" id="e-id_number-error">([^<]+)</p>', page)
    assert error is not None and "18" in error.group(1)  # "a resident ID has 18 characters"
    assert 'value="123"' in page and 'value="36.8"' in page
    assert re.search(r'<input id="e-id_number"[^>]* aria-invalid="true"', page)
    # The log below is the gate's, and its search goes to the log, not to this address.
    assert f'<option value="{gate.pk}" selected>' in page
    assert 'action="/checkpoints/"' in page
    # The page answers a POST to an address that takes POSTs only: its links are the log's.
    assert 'href="?' not in page
    response = client.post(
        "/checkpoints/entry/",
        {"checkpoint": gate.pk, "direction": "in", "plate": "ABC", "temperature": "99"},
    )
    assert response.status_code == 422
    page = response.content.decode()
    assert 'value="ABC"' in page and 'value="99"' in page and 'aria-invalid="true"' in page
    assert not GateEvent.objects.exists()


def test_the_log_export_masks_numbers_for_a_supervisor(client, org, gate, guard):
    scan(guard, gate, person=org.person_a)
    client.force_login(org.user(Role.SUPERVISOR, org.ent_a))
    response = client.get("/checkpoints/export/", {"format": "xlsx"})
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    values = [str(c.value) for row in sheet.iter_rows() for c in row]
    assert "张伟" in values
    assert org.person_a.id_number not in values
    assert any(v.startswith(org.person_a.id_number[:4]) and "*" in v for v in values)


def test_the_rollup_shows_the_units_gate_figures_linked_for_those_who_read_the_log(
    client, org, gate, guard
):
    scan(guard, gate, person=org.person_a)
    scan(guard, gate, person=org.person_b, verdict_code="revoked", reason_message="")
    client.force_login(org.user(Role.UNIT_ADMIN, org.ent_a))
    page = client.get("/reports/rollup/", {"unit": org.ent_a.pk}).content.decode()
    block = page[page.index('id="gate-figures"') :]
    assert "<strong>1</strong>" in block and "/checkpoints/refusals/" in block
    client.force_login(org.user(Role.VIEWER, org.ent_a))
    page = client.get("/reports/rollup/", {"unit": org.ent_a.pk}).content.decode()
    block = page[page.index('id="gate-figures"') :]
    assert "<strong>1</strong>" in block and "/checkpoints/" not in block
    client.force_login(org.user(Role.UNIT_ADMIN, org.ent_b))
    assert 'id="gate-figures"' not in client.get("/reports/rollup/").content.decode()


def test_a_refused_entry_on_a_busy_log_leaves_its_links_on_the_log(client, org, gate, guard):
    # The refused entry is answered at the entry's address (POST only): the rows' and the
    # pager's links must lead to the log, not to a blank "method not allowed".
    for _ in range(51):  # two pages
        scan(guard, gate, person=org.person_a)
    client.force_login(guard)
    page = client.post(
        "/checkpoints/entry/", {"checkpoint": gate.pk, "direction": "in", "id_number": "123"}
    ).content.decode()
    links = re.findall(r'href="([^"]*checkpoint=[^"]*)"', page)
    assert links and all(link.startswith("/checkpoints/") for link in links), links
    assert f"/checkpoints/?checkpoint={gate.pk}&page=2" in page
    for link in set(links):
        assert client.get(link.replace("&amp;", "&")).status_code == 200, link
