"""A follow-up is a 随访: text alone will do, and the first one starts following the item."""

import dataclasses
import datetime as dt

import pytest
from django.utils import timezone

from fangkong.accounts.roles import Role
from fangkong.ledger import kinds, services
from fangkong.ledger.keys import person_key
from fangkong.ledger.models import Entry
from fangkong.ledger.testing import TEST_KIND

pytestmark = pytest.mark.django_db

# The test kind as tracking declares its cards: a first follow-up leads to "following".
FOLLOWED = dataclasses.replace(TEST_KIND, key="followed", first_follow_up_state="following")


@pytest.fixture(autouse=True)
def followed_kind():
    kinds.register(FOLLOWED)
    yield
    kinds.unregister(FOLLOWED.key)


def card(org, **kwargs):
    item, _ = services.item_open(
        actor=None,
        kind=FOLLOWED.key,
        subject=org.person_a,
        person=org.person_a,
        unit=org.person_a.unit,
        title="张伟 发热",
        open_key=person_key(org.person_a.pk),
        **kwargs,
    )
    return item


def test_a_kind_cannot_lead_a_first_follow_up_to_a_state_it_lacks():
    with pytest.raises(ValueError, match="nowhere"):
        dataclasses.replace(TEST_KIND, key="broken", first_follow_up_state="nowhere")


def test_a_text_only_follow_up_is_a_visit_that_starts_following(client, org, login_as):
    item = card(org)
    tracker = login_as(Role.TRACKER, org.ent_a)
    # The form sends its prefilled unit of measure even when no value was typed.
    response = client.post(
        f"/ledger/item/{item.pk}/follow_up/", {"text": "电话随访，本人无不适", "unit": "℃"}
    )
    assert response.status_code == 302
    visit = item.entries.get(kind=Entry.Kind.NOTE)
    assert (visit.text, visit.value, visit.unit) == ("电话随访，本人无不适", None, "")
    item.refresh_from_db()
    assert item.state == "following"
    moved = item.entries.get(kind=Entry.Kind.TRANSITION)
    assert moved.data == {"from": "open", "to": "following"}
    assert (moved.author, moved.at) == (tracker, visit.at)

    page = client.get(f"/ledger/item/{item.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Follow-up visit" in page and "Measurement (optional)" in page
    assert "Open → Following" in page and tracker.username in page

    # Only the first visit moves the item: the next one adds no state change.
    services.item_follow_up(actor=tracker, item=item, text="体温正常")
    assert item.entries.filter(kind=Entry.Kind.TRANSITION).count() == 1


def test_a_follow_up_leaves_an_escalated_item_where_it_is(org):
    item = card(org)
    tracker = org.user(Role.TRACKER, org.ent_a)
    services.item_escalate(actor=tracker, item=item, reason="连续发热")
    services.item_follow_up(actor=tracker, item=item, text="已转诊")
    item.refresh_from_db()
    assert item.state == "escalated"


def test_a_refused_follow_up_keeps_what_was_typed_at_its_field(client, org, login_as):
    item = card(org)
    login_as(Role.TRACKER, org.ent_a)
    response = client.post(
        f"/ledger/item/{item.pk}/follow_up/",
        {"text": "夜间复测", "value": "abc", "unit": "℃"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 422
    page = response.content.decode()
    assert ">夜间复测</textarea>" in page
    value_field = page.index(f'id="fu-value-{item.pk}"')
    message = page.index("Enter a number.")
    assert value_field < message < page.index(f'id="fu-unit-{item.pk}"')
    assert 'value="abc" autofocus aria-invalid="true"' in page
    assert not item.entries.filter(kind__in=("note", "measurement")).exists()


def test_a_refused_follow_up_from_the_worklist_comes_back_on_the_worklist(client, org, login_as):
    tracker = login_as(Role.TRACKER, org.ent_a)
    item = card(org, opened_at=timezone.now() - dt.timedelta(hours=30), owners=[tracker])
    response = client.post(
        f"/ledger/item/{item.pk}/follow_up/",
        {"text": "", "unit": "℃", "next": "/ledger/today/"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 422
    page = response.content.decode()
    assert "My follow-ups today" in page or "follow-ups due" in page
    form = page[page.index(f'id="follow-up-{item.pk}"') :]
    assert form.index("Write what the follow-up found.") < form.index("</form>")
