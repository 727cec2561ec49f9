"""The morning's phone path: open the personal link, submit with one tap.

170,000 people take it between 07:00 and 09:00, so its queries are pinned: the page and
the one-tap submit together read and write at most six statements (transaction control
left out), and every guarantee stays: the tally exact, a retry answered once, a second
declaration superseding the first.
"""

import datetime as dt
import re
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from fangkong.health import services
from fangkong.health.models import DayTally, Declaration, Symptom
from fangkong.health.selectors import link_token

from .factories import raw_declaration

pytestmark = pytest.mark.django_db

TRANSACTION_CONTROL = re.compile(r"^\s*(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE)\b", re.I)
ONE_TAP_FIELD = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"')


def statements(queries: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in queries.captured_queries if not TRANSACTION_CONTROL.match(q["sql"])]


def link_of(org, person) -> str:
    worker = org.user("grid_worker", org.group)
    link = services.link_issue(actor=worker, person=person)
    return reverse("health:link", args=[link_token(link)])


def declared_yesterday(org, person, **fields) -> None:
    yesterday = (timezone.localdate() - dt.timedelta(days=1)).isoformat()
    services.declarations_submit(
        actor=org.user("grid_worker", org.group),
        items=[raw_declaration(person, day=yesterday, **fields)],
    )


def one_tap_fields(page: str) -> dict[str, list[str]]:
    form = page[page.index('class="declare-form one-tap') :]
    form = form[: form.index("</form>")]
    fields: dict[str, list[str]] = {}
    for name, value in ONE_TAP_FIELD.findall(form):
        fields.setdefault(name, []).append(value)
    fields["uuid"] = [str(uuid.uuid4())]
    return fields


def test_opening_the_link_and_one_tap_cost_at_most_six_statements(client, org):
    declared_yesterday(org, org.person_a)
    declared_yesterday(org, org.person_b)
    client.get(link_of(org, org.person_b))  # the first request of a process loads the catalogue
    url = link_of(org, org.person_a)
    with CaptureQueriesContext(connection) as opened:
        page = client.get(url)
    fields = one_tap_fields(page.content.decode())
    with CaptureQueriesContext(connection) as submitted:
        answer = client.post(url, fields, HTTP_ACCEPT="application/json")
    assert answer.status_code == 201 and answer.json()["status"] == "green"
    assert len(statements(opened)) <= 2, statements(opened)
    assert len(statements(submitted)) <= 4, statements(submitted)
    today = timezone.localdate()
    assert DayTally.objects.filter(day=today).get(unit_path=org.person_a.unit_path).declared == 1


def test_a_correction_the_same_morning_supersedes_and_the_tally_stays_exact(client, org):
    declared_yesterday(org, org.person_a)
    url = link_of(org, org.person_a)
    fields = one_tap_fields(client.get(url).content.decode())
    assert client.post(url, fields, HTTP_ACCEPT="application/json").status_code == 201
    fever = {**fields, "uuid": [str(uuid.uuid4())], "temperature": ["38.6"]}
    assert client.post(url, fever, HTTP_ACCEPT="application/json").json()["status"] != "green"
    # The retry of the first is answered as a duplicate and changes nothing.
    retry = client.post(url, fields, HTTP_ACCEPT="application/json")
    assert retry.status_code == 200 and retry.json()["duplicate"] is True
    today = timezone.localdate()
    rows = Declaration.objects.filter(person=org.person_a, day=today)
    assert rows.count() == 2 and rows.get(is_current=True).temperature > 38
    tally = DayTally.objects.get(day=today, unit_path=org.person_a.unit_path)
    assert (tally.declared, tally.abnormal, tally.fever) == (1, 1, 1)


def test_a_symptom_added_by_the_office_shows_on_the_next_page_at_once(client, org):
    url = link_of(org, org.person_a)
    assert "寒战" not in client.get(url).content.decode()
    Symptom.objects.create(code="chills", name="寒战", name_en="Chills", order=99)
    assert "寒战" in client.get(url).content.decode()
