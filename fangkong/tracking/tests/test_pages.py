"""The tracking pages: overview, opening by hand, the close-out check, contacts and trees."""

import datetime as dt

import pytest
from django.utils import timezone

from fangkong.core.models import AuditLog
from fangkong.orgs.services import person_create
from fangkong.testing import valid_resident_id
from fangkong.tracking import services
from fangkong.tracking.models import CloseContact

from .helpers import card_of, declare

pytestmark = pytest.mark.django_db


def test_the_overview_counts_open_cards(client, org, login_as):
    declare(org, org.person_a, temperature="38.2")
    login_as("tracker", org.ent_a)
    response = client.get("/tracking/")
    assert response.status_code == 200
    assert response.context["counts"]["abnormal"]["open"] == 1


@pytest.mark.parametrize("role", ["guard", "window_staff"])
def test_roles_without_health_data_see_no_tracking(client, org, login_as, role):
    login_as(role, org.ent_a)
    for url in ("/tracking/", "/tracking/contacts/", "/tracking/cases/", "/tracking/open/"):
        assert client.get(url).status_code == 403


def test_a_tracker_finds_a_person_and_opens_a_card(client, org, login_as):
    login_as("tracker", org.ent_a)
    page = client.get("/tracking/open/", {"q": "张伟"})
    assert [p.pk for p in page.context["people"]] == [org.person_a.pk]
    response = client.post("/tracking/open/", {"person": org.person_a.pk, "reason": "咽痛"})
    card = card_of(org.person_a)
    assert response.status_code == 302 and response["Location"] == f"/ledger/item/{card.pk}/"
    assert (
        client.post("/tracking/open/", {"person": org.person_b.pk, "reason": "x"}).status_code
        == 404
    )


def test_the_close_page_refuses_until_the_normal_days_are_in_and_offers_escalation(
    client, org, login_as
):
    declare(org, org.person_a, temperature="38.2")
    card = card_of(org.person_a)
    login_as("tracker", org.ent_a)
    page = client.get(f"/tracking/card/{card.pk}/close/")
    assert page.status_code == 200 and not page.context["readiness"].ready
    assert b'id="escalate-form"' in page.content and b'id="close-form"' not in page.content
    refused = client.post(f"/tracking/card/{card.pk}/close/", {"action": "close", "reason": "好了"})
    assert refused.status_code == 422
    escalated = client.post(
        f"/tracking/card/{card.pk}/close/", {"action": "escalate", "reason": "持续发热"}
    )
    assert escalated.status_code == 302
    card.refresh_from_db()
    assert card.state == "escalated"


def test_recording_a_contact_on_the_page_and_viewing_the_tree(client, org, login_as):
    case = person_create(
        actor=None, unit=org.plant_a, name="王强", id_number=valid_resident_id(811)
    )
    login_as("tracker", org.ent_a)
    response = client.post(
        "/tracking/contacts/",
        {
            "person_document": org.person_a.id_number,
            "case_document": case.id_number,
            "relation": "colleague",
            "last_contact_day": (timezone.localdate() - dt.timedelta(days=2)).isoformat(),
        },
    )
    assert response.status_code == 302
    assert CloseContact.objects.get().case == case
    listing = client.get("/tracking/contacts/")
    assert "王强" in listing.content.decode()
    tree = client.get(f"/tracking/cases/{case.pk}/")
    assert tree.status_code == 200 and "张伟" in tree.content.decode()
    assert client.get("/tracking/cases/").context["page_obj"][0] == case


def test_the_contacts_export_masks_numbers_and_is_audited(client, org, login_as):
    case = person_create(
        actor=None, unit=org.plant_a, name="王强", id_number=valid_resident_id(812)
    )
    services.contact_record(
        actor=org.user("tracker", org.ent_a),
        person=org.person_a,
        case=case,
        last_contact_day=timezone.localdate(),
    )
    login_as("unit_admin", org.ent_a)
    response = client.get("/tracking/contacts/export/", {"format": "csv"})
    body = response.content.decode("utf-8-sig")
    assert "张伟" in body and org.person_a.id_number not in body and "****" in body
    assert AuditLog.objects.filter(action="export", object_type="tracking.closecontact").exists()
