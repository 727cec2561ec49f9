"""The unit admin's pass pages: vehicle and visitor passes, the printed card, the list with
search, filters, export and revoke."""

import datetime as dt
import io
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone
from openpyxl import load_workbook

from fangkong.core.errors import NotFound
from fangkong.core.models import AuditLog

from ..models import Pass
from ..selectors import pass_link_token
from ..services import pass_link_create, pass_revoke
from ..verify import OK, STALE_PROOF, Policy
from .factories import issue, scan

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
PLANT_GATE = Policy(zones=frozenset({"A1"}))


def test_a_unit_admin_issues_a_new_energy_vehicle_pass_with_driver_and_route(client, login_as):
    login_as("unit_admin")
    today = timezone.localdate()
    response = client.post(
        "/passes/new/vehicle/",
        {
            "unit_code": "A1",
            "plate": "鲁c·d12345",
            "driver": "王师傅",
            "route": "东门—原料库—西门",
            "zones": "",
            "valid_from": today.isoformat(),
            "valid_until": (today + dt.timedelta(days=6)).isoformat(),
        },
    )
    row = Pass.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/passes/{row.pk}/"
    assert (row.kind, row.plate, row.holder_display) == ("vehicle", "鲁CD12345", "鲁C·****45")
    assert (row.holder_name, row.route, row.zones) == ("王师傅", "东门—原料库—西门", ["A", "A1"])
    page = client.get(response["Location"]).content.decode()
    assert "鲁CD12345" in page and "王师傅" in page and 'id="pass-qr"' in page


def test_a_bad_plate_is_shown_on_the_form_not_a_500(client, login_as):
    login_as("unit_admin")
    today = timezone.localdate().isoformat()
    response = client.post(
        "/passes/new/vehicle/",
        {
            "unit_code": "A1",
            "plate": "ABC123",
            "driver": "王师傅",
            "route": "东门",
            "valid_from": today,
            "valid_until": today,
        },
    )
    assert response.status_code == 422
    assert "鲁CD12345" in response.content.decode()  # the plate rule's example
    assert not Pass.objects.exists()


def test_a_visitor_pass_admits_only_in_its_window_on_its_day(client, login_as):
    login_as("unit_admin")
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    response = client.post(
        "/passes/new/visitor/",
        {
            "unit_code": "A1",
            "visitor": "赵建国",
            "day": tomorrow.isoformat(),
            "window_from": "09:00",
            "window_until": "11:30",
            "zones": "A1",
        },
    )
    assert response.status_code == 302
    row = Pass.objects.get()
    assert row.kind == "visitor" and row.holder_display == "赵*国"
    start = timezone.localtime(row.valid_from)
    end = timezone.localtime(row.valid_until)
    assert (start.date(), start.time(), end.time()) == (tomorrow, dt.time(9), dt.time(11, 30))


def test_a_visit_that_ends_before_it_starts_is_refused(client, login_as):
    login_as("unit_admin")
    response = client.post(
        "/passes/new/visitor/",
        {
            "unit_code": "A1",
            "visitor": "赵建国",
            "day": timezone.localdate().isoformat(),
            "window_from": "11:00",
            "window_until": "09:00",
        },
    )
    assert response.status_code == 422 and not Pass.objects.exists()


@time_machine.travel(dt.datetime.combine(dt.date.today(), dt.time(12), SHANGHAI), tick=False)
def test_an_admin_cannot_issue_outside_the_scope(client, login_as):
    # At noon the all-day window is open, so the refusal can only be the unit's scope.
    login_as("unit_admin")
    today = timezone.localdate().isoformat()
    response = client.post(
        "/passes/new/visitor/",
        {
            "unit_code": "B1",
            "visitor": "赵建国",
            "day": today,
            "window_from": "00:00",
            "window_until": "23:59",
        },
    )
    assert response.status_code == 422 and not Pass.objects.exists()
    assert "您的管辖范围内没有该编码的单位" in response.content.decode()


def test_the_printed_card_is_a_pdf_with_the_masked_name_and_is_flagged_printed(
    client, login_as, org
):
    login_as("unit_admin")
    until = timezone.localdate() + dt.timedelta(days=90)
    response = client.post(
        "/passes/new/printed/", {"person": org.person_a.pk, "valid_until": until.isoformat()}
    )
    row = Pass.objects.get()
    assert response.status_code == 302 and row.printed and not row.device_key
    card = client.get(f"/passes/{row.pk}/card.pdf")
    assert card.status_code == 200 and card["Content-Type"] == "application/pdf"
    from pypdf import PdfReader

    text = PdfReader(io.BytesIO(card.content)).pages[0].extract_text()
    assert "张*" in text and "张伟" not in text and "一车间" in text
    from ..card import card_html

    assert "进出" in card_html(row) or "Show this card at the gate" in card_html(row)


def test_a_printed_card_is_refused_where_printed_passes_are(org):
    _row, text = issue(org, printed=True)
    assert scan(text, policy=PLANT_GATE).reason == OK
    refusing = Policy(zones=frozenset({"A1"}), refuse_printed=True)
    verdict = scan(text, policy=refusing)
    assert (verdict.reason, verdict.detail) == (STALE_PROOF, "printed_refused")


def test_the_list_searches_filters_and_pages(client, login_as, org):
    issue(org, zones=["A1"])
    revoked, _text = issue(org, org.person_b, holder_display="李*", zones=["B1"])
    revoked.revoked_at = timezone.now()
    revoked.save()
    login_as("group_admin", org.group)
    page = client.get("/passes/?q=张伟").content.decode()
    assert "张*" in page and "李*" not in page
    page = client.get("/passes/?state=revoked").content.decode()
    assert "李*" in page and "张*" not in page
    login_as("unit_admin")
    page = client.get("/passes/").content.decode()
    assert "张*" in page and "李*" not in page  # enterprise B is outside the scope


def test_the_export_has_the_rows_in_scope_and_an_audit_row(client, login_as, org):
    issue(org)
    issue(org, org.person_b, holder_display="李*", zones=["B1"])
    login_as("unit_admin")
    response = client.get("/passes/export/?format=xlsx")
    assert response.status_code == 200
    rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    assert len(rows) == 2 and rows[1][1] == "张*"
    assert AuditLog.objects.filter(
        action=AuditLog.Action.EXPORT, object_type="passes.pass"
    ).exists()


def test_revoking_asks_for_confirmation_then_revokes_with_an_audit_row(client, login_as, org):
    row, _text = issue(org)
    login_as("unit_admin")
    confirm = client.get(f"/passes/{row.pk}/revoke/")
    assert confirm.status_code == 200 and 'id="revoke-confirm"' in confirm.content.decode()
    row.refresh_from_db()
    assert row.revoked_at is None  # a GET changes nothing
    response = client.post(f"/passes/{row.pk}/revoke/", {"reason": "调离本单位"})
    assert response.status_code == 302
    row.refresh_from_db()
    assert row.revoked_at is not None and row.revoke_reason == "调离本单位"
    assert AuditLog.objects.filter(object_type="passes.pass", action=AuditLog.Action.CLOSE).exists()
    page = client.get(f"/passes/{row.pk}/").content.decode()
    assert "调离本单位" in page and 'id="pass-qr"' not in page


def test_revoking_without_a_reason_is_shown_on_the_page(client, login_as, org):
    row, _text = issue(org)
    login_as("unit_admin")
    response = client.post(f"/passes/{row.pk}/revoke/", {"reason": ""})
    assert response.status_code == 200
    row.refresh_from_db()
    assert row.revoked_at is None


def test_a_viewer_outside_the_scope_gets_404(client, login_as, org):
    row, _text = issue(org)
    login_as("unit_admin", org.ent_b)
    assert client.get(f"/passes/{row.pk}/").status_code == 404
    assert client.post(f"/passes/{row.pk}/revoke/", {"reason": "x"}).status_code == 404


def test_the_person_page_lists_the_passes_and_offers_the_printed_card(client, login_as, org):
    issue(org)
    login_as("unit_admin")
    page = client.get(f"/people/{org.person_a.pk}/").content.decode()
    assert f"/passes/new/printed/?person={org.person_a.pk}" in page


def test_any_pass_may_have_a_link_that_opens_it_without_logging_in(client, org):
    now = timezone.now()
    row, _text = issue(
        org,
        kind="vehicle",
        person=None,
        unit=org.plant_a,
        holder_display="鲁C·***45",
        plate="鲁C12345",
        valid_from=now - dt.timedelta(minutes=1),
        valid_until=now + dt.timedelta(days=3),
    )
    link = pass_link_create(org.user("unit_admin", org.group), row)
    audit = AuditLog.objects.get(object_type="passes.passlink")
    assert link.key not in str(audit.after) and link.key not in audit.object_repr
    response = client.get(f"/passes/v/{pass_link_token(link)}/")
    page = response.content.decode()
    assert response.status_code == 200 and 'data-state="valid"' in page
    assert "鲁C·***45" in page and "鲁C12345" not in page  # the pass's masked plate only
    code = page.split('data-code="')[1].split('"')[0]
    assert scan(code, policy=PLANT_GATE).reason == OK
    # Revoked by an administrator: the same link says so, with the reason, and no code.
    pass_revoke(org.user("unit_admin", org.group), row, "车辆已报废")
    page = client.get(f"/passes/v/{pass_link_token(link)}/").content.decode()
    assert 'data-state="revoked"' in page and "车辆已报废" in page and "data-code" not in page


def test_only_who_may_issue_a_pass_hands_out_its_link(org):
    row, _text = issue(org)
    with pytest.raises(NotFound):  # a guard of plant B neither sees nor links A's passes
        pass_link_create(org.user("guard", org.plant_b), row)
