"""The look-back labels say the outbreak profile's days, not a fixed 14."""

import pytest
from django.core.cache import cache
from django.urls import reverse

from fangkong.health import services as health_services
from fangkong.health.models import OutbreakProfile
from fangkong.health.selectors import link_token
from fangkong.travel import services

from .test_decisions import card_raw

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _profile_says_21_days():
    cache.clear()
    profile = OutbreakProfile.current()
    profile.lookback_days = 21
    profile.save()
    yield
    cache.clear()


def test_the_card_pages_and_the_phone_declaration_name_the_profiles_look_back(
    client, org, login_as
):
    link = health_services.link_issue(actor=org.user("grid_worker", org.group), person=org.person_a)
    token = link_token(link)
    state = client.get(reverse("health:link_state", args=[token])).json()
    assert state["risk_area_label"] == "I stayed in a risk area in the last 21 days"
    plain = client.get(reverse("health:link", args=[token]) + "?plain=1").content.decode()
    assert "I stayed in a risk area in the last 21 days" in plain
    phone_card = client.get(reverse("travel:link", args=[token])).content.decode()
    assert "Fever (37.3 °C or more) in the last 21 days" in phone_card
    card = services.card_file(actor=None, person=org.person_a, raw=card_raw())
    login_as("grid_worker", org.group)
    page = client.get(reverse("travel:card", args=[card.pk])).content.decode()
    assert "Fever in the last 21 days" in page and "14 days" not in page
    form = client.get(reverse("travel:card_form", args=[org.person_a.pk])).content.decode()
    assert "in the last 21 days" in form and "14 days" not in form
