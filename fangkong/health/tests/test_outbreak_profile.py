"""The outbreak profile page: group administrators edit the numbers and the symptom list."""

from decimal import Decimal

import pytest

from fangkong.core.models import AuditLog
from fangkong.health.models import OutbreakProfile, Symptom

pytestmark = pytest.mark.django_db
URL = "/health/outbreak/"


def profile_post(**changes):
    data = {
        "save": "profile",
        "disease_name": "新型冠状病毒肺炎",
        "lookback_days": 15,
        "follow_up_days": 14,
        "normal_days_to_close": 3,
        "quarantine_days_high": 14,
        "quarantine_days_medium": 7,
        "quarantine_days_low": 0,
        "fever_threshold": "37.3",
    }
    data.update(changes)
    return data


def test_a_group_admin_changes_the_profile_and_the_change_is_audited(client, org, login_as):
    login_as("group_admin", org.group)
    assert client.get(URL).status_code == 200
    response = client.post(URL, profile_post(normal_days_to_close=5, fever_threshold="37.5"))
    assert response.status_code == 302
    profile = OutbreakProfile.current()
    assert (profile.normal_days_to_close, profile.fever_threshold) == (5, Decimal("37.5"))
    row = AuditLog.objects.get(object_type="health.outbreakprofile")
    assert row.before["normal_days_to_close"] == 3 and row.after["normal_days_to_close"] == 5


def test_out_of_range_numbers_are_refused_with_the_field_named(client, org, login_as):
    login_as("group_admin", org.group)
    response = client.post(URL, profile_post(fever_threshold="41.0"))
    assert response.status_code == 422
    assert OutbreakProfile.current().fever_threshold == Decimal("37.3")


def test_the_symptom_list_is_edited_on_the_same_page(client, org, login_as):
    login_as("group_admin", org.group)
    cough = Symptom.objects.get(code="cough")
    response = client.post(
        URL,
        {
            "save": str(cough.pk),
            f"s{cough.pk}-code": "cough",
            f"s{cough.pk}-name": "干咳",
            f"s{cough.pk}-name_en": "Dry cough",
            f"s{cough.pk}-order": 0,
        },
    )
    assert response.status_code == 302
    cough.refresh_from_db()
    assert (cough.name, cough.is_active) == ("干咳", False)
    response = client.post(
        URL,
        {
            "save": "new",
            "new-code": "chills",
            "new-name": "寒战",
            "new-name_en": "Chills",
            "new-order": 9,
            "new-is_active": "on",
        },
    )
    assert response.status_code == 302
    assert Symptom.objects.get(code="chills").is_active
    actions = set(
        AuditLog.objects.filter(object_type="health.symptom").values_list("action", flat=True)
    )
    assert actions == {"update", "create"}


@pytest.mark.parametrize("role", ["unit_admin", "tracker", "reporter", "viewer"])
def test_other_roles_may_not_open_the_page(client, org, login_as, role):
    login_as(role, org.ent_a)
    assert client.get(URL).status_code == 403
    assert client.post(URL, profile_post(normal_days_to_close=9)).status_code == 403
    assert OutbreakProfile.current().normal_days_to_close == 3
