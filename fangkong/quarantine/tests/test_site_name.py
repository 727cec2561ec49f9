"""A site named after the unit that runs it (as the demo's are) is named once on the list."""

import pytest
from django.urls import reverse

from fangkong.quarantine import services

pytestmark = pytest.mark.django_db


def test_a_site_named_like_its_unit_is_named_once(client, org, login_as):
    login_as("unit_admin")
    services.site_create(actor=None, unit=org.plant_a, name=org.plant_a.name)
    services.site_create(actor=None, unit=org.shop_a, name="城南集中隔离点")

    page = client.get(reverse("quarantine:sites")).content.decode()

    assert page.count(org.plant_a.name) == 1
    assert "城南集中隔离点" in page and org.shop_a.name in page  # different: both shown
