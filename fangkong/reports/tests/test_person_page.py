"""The person page shows, to whoever may see each part, the person's records from every app."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils.html import escape

from fangkong.ledger.models import Item
from fangkong.tracking.services import contact_record
from fangkong.travel.services import card_file
from fangkong.travel.tests.test_decisions import card_raw

from .conftest import declare
from .test_quarantine_figures import place

pytestmark = pytest.mark.django_db

ALL_SECTIONS = ["health", "ledger", "travel", "quarantine", "tracking", "passes"]


@pytest.fixture
def busy_person(org, today):
    """张伟: a fever today (which opens a card), a returnee card, a placement, a contact."""
    declare(org.person_a, temperature="38.3")
    card_file(actor=None, person=org.person_a, raw=card_raw())
    place(org, org.person_a, start=today)
    contact_record(
        actor=None,
        person=org.person_b,
        case=org.person_a,
        last_contact_day=today - dt.timedelta(days=1),
    )
    return org.person_a


def _sections(client, person):
    page = client.get(reverse("orgs:person", args=[person.pk]))
    assert page.status_code == 200
    return page, {section.key: entries for section, entries in page.context["sections"]}


def test_every_part_of_the_person_is_shown_and_each_entry_opens(client, org, login_as, busy_person):
    login_as("group_admin", org.group)
    page, sections = _sections(client, busy_person)
    assert list(sections) == ALL_SECTIONS
    html = page.content.decode()
    for key, entries in sections.items():
        assert entries, key
        assert f'id="section-{key}"' in html
        for entry in entries:
            assert entry.url and escape(entry.url) in html
            assert client.get(entry.url).status_code == 200, (key, entry.url)
    assert sections["health"][0].badge in ("yellow", "red")
    card = Item.objects.get(person=busy_person, kind="abnormal")
    assert reverse("ledger:item", args=[card.pk]) in {e.url for e in sections["ledger"]}
    # Both ways: the contact's page names the case too.
    _page, of_contact = _sections(client, org.person_b)
    assert [e.url for e in of_contact["tracking"]] == [
        reverse("orgs:person", args=[busy_person.pk])
    ]


@pytest.mark.parametrize("role", ["viewer", "supervisor", "guard"])
def test_a_role_without_health_data_sees_none_of_the_sections(
    client, org, login_as, busy_person, role
):
    login_as(role, org.ent_a)
    page, sections = _sections(client, busy_person)
    assert sections == {}
    assert "section-" not in page.content.decode()


def test_a_contact_outside_the_viewers_scope_is_not_named(client, org, login_as, busy_person):
    login_as("unit_admin", org.ent_a)  # 李娜, the contact, works in enterprise B
    page, sections = _sections(client, busy_person)
    assert list(sections) == ALL_SECTIONS
    assert sections["tracking"] == []
    assert org.person_b.name not in page.content.decode()
