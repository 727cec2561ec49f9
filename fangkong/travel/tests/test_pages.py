"""The travel pages: the phone card, proxy filing, the three lists, risk areas and rules."""

import csv
import io

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from fangkong.core.models import AuditLog
from fangkong.health import services as health_services
from fangkong.health.selectors import link_token
from fangkong.travel import services
from fangkong.travel.models import Itinerary, Outcome, ReturneeCard, ReturnRule, RiskArea

from .factories import JIANGAN, WUHAN, ZHANGDIAN, days_ago, set_level, trip
from .test_decisions import card_raw
from .test_import import workbook

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_throttle():
    cache.clear()
    yield
    cache.clear()


def posted_card(**overrides):
    data = {
        "planned_return": days_ago(-1).isoformat(),
        "fever": "no",
        "symptoms": "no",
        "contact": "none",
        "rows": "5",
        "it0-region": "江岸区",
        "it0-from_day": days_ago(9).isoformat(),
        "it0-to_day": days_ago(2).isoformat(),
        "it0-transport": "train",
        "it0-transport_number": "G1234",
    }
    data.update(overrides)
    return data


def card_link(org, person=None):
    link = health_services.link_issue(
        actor=org.user("grid_worker", org.group), person=person or org.person_a
    )
    return reverse("travel:link", args=[link_token(link)])


def test_the_person_files_the_card_on_the_phone_and_sees_the_decision_naming_rule_and_area(
    client, org
):
    set_level(WUHAN, "high", since=20)
    url = card_link(org)
    page = client.get(url)
    assert page.status_code == 200 and "张伟" in page.content.decode()
    assert page["Cache-Control"] == "private, no-store"
    response = client.post(url, posted_card())
    assert response.status_code == 302
    card = ReturneeCard.objects.get(person=org.person_a)
    assert card.outcome == Outcome.MUST_QUARANTINE and card.filed_by == "self"
    html = client.get(response["Location"]).content.decode()
    assert "湖北省 武汉市" in html and "outbreak profile" in html


def test_an_ambiguous_or_unknown_region_is_shown_on_its_row(client, org):
    url = card_link(org)
    response = client.post(url, posted_card(**{"it0-region": "不存在的地方"}))
    assert response.status_code == 422
    assert "不存在的地方" in response.content.decode()
    assert not ReturneeCard.objects.exists()


def test_a_forged_link_finds_nothing(client, org):
    assert client.get(reverse("travel:link", args=["forged:token"])).status_code == 404


def test_a_grid_worker_files_for_someone_in_scope(client, org, login_as):
    set_level(ZHANGDIAN, "low", since=3)
    login_as("grid_worker", org.ent_a)
    search = client.get(reverse("travel:file_search"), {"q": "张"})
    assert "张伟" in search.content.decode()
    response = client.post(
        reverse("travel:card_form", args=[org.person_a.pk]),
        posted_card(**{"it0-region": "370303"}),
    )
    card = ReturneeCard.objects.get()
    assert response["Location"] == reverse("travel:card", args=[card.pk])
    assert card.filed_by == "proxy" and card.outcome == Outcome.MAY_RETURN
    assert client.get(reverse("travel:card_form", args=[org.person_b.pk])).status_code == 404


def test_lists_by_outcome_with_counts_search_and_scope(client, org, login_as):
    set_level(WUHAN, "high", since=20)
    actor = org.user("grid_worker", org.group)
    services.card_file(actor=actor, person=org.person_a, raw=card_raw())
    services.card_file(
        actor=actor, person=org.person_b, raw=card_raw(itineraries=[], no_travel="1")
    )
    login_as("tracker", org.group)
    url = reverse("travel:returnees")
    response = client.get(url, {"outcome": "must_quarantine"})
    html = response.content.decode()
    assert "张伟" in html and "李娜" not in html
    counts = {value: n for value, _label, n in response.context["tabs"]}
    assert counts == {"": 2, "may_return": 1, "must_quarantine": 1, "waiting": 0}
    assert "张伟" in client.get(url, {"level": "high"}).content.decode()
    assert "李娜" in client.get(url, {"outcome": "may_return"}).content.decode()
    assert "张伟" not in client.get(url, {"q": "李"}).content.decode()
    login_as("tracker", org.ent_b)
    assert "张伟" not in client.get(url).content.decode()


def test_export_masks_numbers_for_roles_without_sensitive_access_and_is_audited(
    client, org, login_as
):
    set_level(WUHAN, "high", since=20)
    services.card_file(actor=None, person=org.person_a, raw=card_raw())
    login_as("reporter", org.ent_a)
    response = client.get(reverse("travel:returnees_export"), {"format": "csv"})
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[1][0] == "张伟"
    assert "*" in rows[1][1] and rows[1][1] != org.person_a.id_number
    assert rows[1][2] == "138****8001"
    assert AuditLog.objects.filter(action="export", object_type="travel.returneecard").exists()


def test_group_admin_raises_a_region_on_the_page_and_the_version_is_listed(client, org, login_as):
    trip(org.person_a, JIANGAN, 5, 3)
    login_as("group_admin", org.group)
    response = client.post(
        reverse("travel:risk_area_set"),
        {"region": "武汉市", "level": "high", "effective_from": days_ago(10).isoformat()},
    )
    assert response.status_code == 302
    html = client.get(reverse("travel:risk_areas")).content.decode()
    assert "湖北省 武汉市" in html and "v1" in html
    assert RiskArea.objects.get(division_id=WUHAN).level == "high"


def test_unit_admins_may_not_change_the_list(client, org, login_as):
    login_as("unit_admin", org.ent_a)
    response = client.post(reverse("travel:risk_area_set"), {"region": "420100", "level": "high"})
    assert response.status_code == 403
    assert client.get(reverse("travel:risk_area_import")).status_code == 403


def test_the_import_page_lists_row_errors(client, org, login_as):
    login_as("group_admin", org.group)
    upload = workbook([["420100", "", "高", days_ago(1).isoformat()], ["9", "", "x", ""]])
    response = client.post(reverse("travel:risk_area_import"), {"file": upload})
    assert response.status_code == 422
    html = response.content.decode()
    assert 'id="row-errors"' in html and "<td>3</td>" in html
    assert not RiskArea.objects.exists()
    template = client.get(reverse("travel:risk_area_template"))
    assert template["Content-Disposition"].endswith('.xlsx"')
    good = SimpleUploadedFile("t.xlsx", template.content)
    assert client.post(reverse("travel:risk_area_import"), {"file": good}).status_code == 302


def test_rules_pages_save_group_rules_and_overrides(client, org, login_as):
    login_as("group_admin", org.group)
    client.post(reverse("travel:rules"), {"level": "high", "quarantine_days": "14", "tests": "2"})
    assert ReturnRule.objects.get(unit=None).tests == 2
    login_as("unit_admin", org.ent_a)
    url = reverse("travel:unit_rules", args=[org.ent_a.pk])
    client.post(url, {"level": "medium", "quarantine_days": "", "mode": "home"})
    assert ReturnRule.objects.get(unit=org.ent_a).mode == "home"
    assert "山东铝业有限公司" in client.get(reverse("travel:rules")).content.decode()
    client.post(url, {"level": "medium", "delete": "1"})
    assert not ReturnRule.objects.filter(unit=org.ent_a).exists()
    assert client.post(reverse("travel:rules"), {"level": "high"}).status_code == 403
    assert client.get(reverse("travel:unit_rules", args=[org.ent_b.pk])).status_code == 404


def test_itineraries_by_hand_and_the_card_page(client, org, login_as):
    login_as("grid_worker", org.ent_a)
    url = reverse("travel:itineraries", args=[org.person_a.pk])
    client.post(url, {"region": "江岸区", "from_day": days_ago(3).isoformat(), "transport": "car"})
    row = Itinerary.objects.get()
    assert row.source == "hand" and row.to_day == row.from_day
    services.card_file(actor=None, person=org.person_a, raw=card_raw(itineraries=[]))
    card = ReturneeCard.objects.get()
    page = client.get(reverse("travel:card", args=[card.pk])).content.decode()
    assert "湖北省 武汉市 江岸区" in page and "Close the card" in page
    client.post(reverse("travel:itinerary_delete", args=[row.pk]))
    assert not Itinerary.objects.exists()
    client.post(reverse("travel:card_close", args=[card.pk]), {"reason": "已返岗"})
    card.refresh_from_db()
    assert not card.is_open
