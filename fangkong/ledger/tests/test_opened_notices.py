"""The engine tells owners when items open: one notice per unit, after commit, every kind."""

import pytest
import time_machine
from django.db import transaction
from django.urls import reverse

from fangkong.accounts.roles import Role
from fangkong.ledger import services
from fangkong.ledger.keys import person_key
from fangkong.notify.models import Event, InboxItem, Notification
from fangkong.orgs.services import person_create
from fangkong.testing import valid_resident_id

from .conftest import local

pytestmark = pytest.mark.django_db


def open_for(person, *, actor=None, owners=()):
    item, _created = services.item_open(
        actor=actor,
        kind="testcase",
        subject=person,
        person=person,
        unit=person.unit,
        title=person.name,
        open_key=person_key(person.pk),
        owners=owners,
    )
    return item


def opened_notices():
    return Notification.objects.filter(event=Event.ITEM_OPENED)


def test_opening_by_hand_tells_the_other_owners_with_the_first_deadline(
    org, django_capture_on_commit_callbacks
):
    tracker = org.user(Role.TRACKER, org.shop_a)
    colleague = org.user(Role.TRACKER, org.plant_a)
    with (
        time_machine.travel(local(2025, 3, 12, 9, 30), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        item = open_for(org.person_a, actor=tracker, owners=[tracker, colleague])
    [notice] = opened_notices()
    assert notice.link == reverse("ledger:item", args=[item.pk])
    assert "2025-03-13 09:30" in notice.body  # the first follow-up, 24 hours on
    # The tracker who opened it knows; the other owner is told.
    assert list(InboxItem.objects.values_list("user", flat=True)) == [colleague.pk]


def test_an_opening_rolled_back_tells_nobody(org, django_capture_on_commit_callbacks):
    tracker = org.user(Role.TRACKER, org.shop_a)
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        open_for(org.person_a, owners=[tracker])
        raise RuntimeError("the caller fails after opening")
    assert not opened_notices().exists()


def test_a_bulk_open_sends_one_notice_per_unit(org, django_capture_on_commit_callbacks):
    owner = org.user(Role.TRACKER, org.ent_a)
    people = [
        person_create(actor=None, unit=unit, name=f"员工{n}", id_number=valid_resident_id(400 + n))
        for n, unit in enumerate([org.shop_a] * 3 + [org.plant_a] * 2)
    ]
    rows = [
        services.NewItem(
            subject=p, unit=p.unit, title=p.name, person=p, owners=[owner], open_key=f"k{p.pk}"
        )
        for p in people
    ]
    with django_capture_on_commit_callbacks(execute=True):
        assert services.items_open_bulk(actor=None, kind="testcase", rows=rows) == 5
    assert sorted(opened_notices().values_list("unit", flat=True)) == sorted(
        [org.shop_a.pk, org.plant_a.pk]
    )
    assert InboxItem.objects.filter(user=owner).count() == 2
