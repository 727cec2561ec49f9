""" "In quarantine" in the roll-up and the reports is what 隔离管理 shows: the placements."""

import datetime as dt

import pytest
from django.urls import reverse

from fangkong.quarantine.models import Mode
from fangkong.quarantine.services import (
    placement_release_approve,
    placement_release_request,
    placement_start,
)
from fangkong.quarantine.tests.factories import make_site
from fangkong.reports.figures import subtree_figures
from fangkong.reports.selectors import rollup

from .conftest import declare

pytestmark = pytest.mark.django_db


def place(org, person, *, start: dt.date):
    site, rooms = make_site(org.ent_a)
    return placement_start(
        actor=None,
        person=person,
        mode=Mode.CENTRALISED,
        level="high",
        start=start,
        site=site,
        room=rooms["102"],
    )


def test_the_roll_up_counts_placed_people_not_declared_whereabouts(org, today):
    place(org, org.person_a, start=today)  # in room 102, has not declared
    declare(org.person_b, whereabouts="quarantine")  # says so, but is placed nowhere
    figures = rollup(user=org.user("group_admin", org.group), unit=org.group, day=today)
    assert figures.total.figures.quarantine == 1
    by_unit = {row.unit.pk: row.figures.quarantine for row in figures.children}
    assert by_unit[org.ent_a.pk] == 1 and sum(by_unit.values()) == 1
    assert subtree_figures(org.shop_a.path, today).quarantine == 1


def test_the_roll_up_page_shows_the_placements(client, org, today, login_as):
    place(org, org.person_a, start=today)
    login_as("group_admin", org.group)
    response = client.get(reverse("reports:rollup"), {"unit": org.group.pk})
    assert response.context["data"].total.figures.quarantine == 1
    api = client.get("/api/v1/rollup", {"unit": org.group.pk})
    assert api.json()["unit"]["quarantine"] == 1


def test_a_released_person_is_out_from_the_next_day_and_counted_before(org, today):
    placement = place(org, org.person_a, start=today - dt.timedelta(days=3))
    placement_release_request(actor=None, placement=placement, reason="期满")
    assert subtree_figures(org.group.path, today).quarantine == 1  # awaiting approval
    placement_release_approve(actor=None, placement=placement)
    assert subtree_figures(org.group.path, today).quarantine == 0
    yesterday = today - dt.timedelta(days=1)
    assert subtree_figures(org.group.path, yesterday).quarantine == 1
    before = today - dt.timedelta(days=4)
    assert subtree_figures(org.group.path, before).quarantine == 0
