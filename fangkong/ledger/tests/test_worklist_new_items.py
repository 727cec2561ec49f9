"""A new item is on its owner's worklist the day it opens, whatever the hour."""

import pytest
import time_machine
from django.urls import reverse

from fangkong.accounts.roles import Role
from fangkong.ledger import selectors, services
from fangkong.ledger.keys import person_key
from fangkong.orgs.services import person_create
from fangkong.testing import valid_resident_id

from .conftest import local

pytestmark = pytest.mark.django_db


def open_for(person, *, owners=()):
    item, _created = services.item_open(
        actor=None,
        kind="testcase",
        subject=person,
        person=person,
        unit=person.unit,
        title=person.name,
        open_key=person_key(person.pk),
        owners=owners,
    )
    return item


def test_a_card_opened_at_23_is_on_todays_worklist(org, client):
    tracker = org.user(Role.TRACKER, org.shop_a)
    others = person_create(
        actor=None, unit=org.shop_a, name="王强", id_number=valid_resident_id(470)
    )
    with time_machine.travel(local(2025, 3, 11, 23, 0), tick=False):
        yesterday = open_for(others, owners=[tracker])  # due 23:00 today, opened yesterday
    with time_machine.travel(local(2025, 3, 12, 23, 0), tick=False):
        item = open_for(org.person_a, owners=[tracker])
        assert item.next_due_at > local(2025, 3, 13)  # first follow-up due tomorrow
        assert list(selectors.my_due_today(tracker)) == [yesterday, item]
        client.force_login(tracker)
        page = client.get(reverse("ledger:today")).content.decode()
    new_row = page[page.index(f'id="item-{item.pk}"') :]
    old_row = page[page.index(f'id="item-{yesterday.pk}"') : page.index(f'id="item-{item.pk}"')]
    assert 'class="badge yellow"' in new_row and 'class="badge yellow"' not in old_row
    with time_machine.travel(local(2025, 3, 13, 0, 30), tick=False):
        # The next day it stays by its deadline (tonight), and the overdue one too.
        assert list(selectors.my_due_today(tracker)) == [yesterday, item]
