"""The morning's phone path: open the personal link, submit with one tap.

170,000 people take it between 07:00 and 09:00, so its statements are pinned. The page is
the shared shell with the person's state in it (one statement); its script submits the
one tap as JSON (a normal first declaration of the day, transaction control left out: on
SQLite two statements, the INSERT that reads the link and the tally; on PostgreSQL one,
without a transaction), and keeps the answer's status and answers as the phone's copy of
the state: two requests, nothing read again.
Every guarantee stays: the tally exact, a retry answered once (after midnight too), a UUID
of someone else's refused, a second declaration superseding the first, the daily limit.
"""

import datetime as dt
import json
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
from fangkong.testing import travel

from .factories import raw_declaration

pytestmark = pytest.mark.django_db

TRANSACTION_CONTROL = re.compile(r"^\s*(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE)\b", re.I)


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


def one_tap(state: dict) -> dict:
    """What the shell's script posts for the one-tap submit: the last answers, a new UUID."""
    last = state["last"]
    return {
        "uuid": str(uuid.uuid4()),
        **{name: last[name] for name in ("temperature", "symptoms", "division")},
        **{name: last[name] for name in ("whereabouts", "contact", "risk_area_stay")},
        "test_result": last["test_result"],
    }


def declare(client, url: str, body: dict):
    return client.post(url + "declare", body, content_type="application/json")


def test_the_page_and_the_one_tap_cost_three_statements_at_most(client, org):
    declared_yesterday(org, org.person_a)
    declared_yesterday(org, org.person_b)
    client.get(link_of(org, org.person_b))  # the first request loads the memos
    url = link_of(org, org.person_a)
    with CaptureQueriesContext(connection) as opened:
        page = client.get(url)
    state = state_in(page)
    with CaptureQueriesContext(connection) as submitted:
        answer = declare(client, url, one_tap(state))
    assert page.status_code == 200 and state["one_tap"] is True
    assert answer.status_code == 201 and answer.json()["status"] == "green"
    assert len(statements(opened)) == 1, statements(opened)  # the latest with the link
    # The link is read inside the INSERT; on PostgreSQL the tally is counted in the same
    # statement (tally.insert_counted_through_link).
    submit = 1 if connection.vendor == "postgresql" else 2
    assert len(statements(submitted)) == submit, statements(submitted)
    # Neither reads the person's ID number or phone: the page shows a masked name and the
    # unit, the submit needs the unit (the reads name their columns).
    for sql in statements(opened) + statements(submitted):
        assert "id_number" not in sql and '"phone"' not in sql, sql
    today = timezone.localdate()
    assert DayTally.objects.filter(day=today).get(unit_path=org.person_a.unit_path).declared == 1
    # The answer carries what the state would now show, so the phone reads nothing again.
    after = client.get(url + "state").json()
    assert answer.json()["last"] == after["last"]
    assert {key: answer.json()[key] for key in after["status"]} == after["status"]


def state_in(page) -> dict:
    """The state the page carries for its script (a JSON script, static/js/declare.js)."""
    found = STATE_SCRIPT.search(page.content)
    assert found is not None, "the page carries no state"
    return json.loads(found.group(1))


STATE_SCRIPT = re.compile(rb'<script id="link-state" type="application/json">(.*?)</script>')


def test_a_person_who_never_declared_reads_the_link_alone(client, org):
    client.get(link_of(org, org.person_b) + "state")  # the first request loads the memos
    url = link_of(org, org.person_a)
    with CaptureQueriesContext(connection) as read:
        state = client.get(url + "state").json()
    assert len(statements(read)) == 2, statements(read)
    assert state["last"] is None and state["one_tap"] is False
    assert state["unit"] == org.person_a.unit.place


def test_a_revoked_link_shows_nothing_even_with_declarations_behind_it(client, org):
    declared_yesterday(org, org.person_a)
    url = link_of(org, org.person_a)
    services.link_revoke(actor=org.user("grid_worker", org.group), person=org.person_a)
    answer = client.get(url + "state", HTTP_ACCEPT="application/json")
    assert answer.status_code == 404
    assert org.person_a.name not in answer.content.decode()
    assert "last" not in answer.json()


def test_retries_and_a_correction_keep_the_tally_exact(client, org):
    declared_yesterday(org, org.person_a)
    url = link_of(org, org.person_a)
    first = one_tap(client.get(url + "state").json())
    assert declare(client, url, first).status_code == 201
    fever = {**first, "uuid": str(uuid.uuid4()), "temperature": "38.6"}
    assert declare(client, url, fever).json()["status"] != "green"
    # Retries of both (a phone that lost the answers) are each answered as duplicates.
    for body in (first, fever, first):
        retry = declare(client, url, body)
        assert retry.status_code == 200 and retry.json()["duplicate"] is True
    today = timezone.localdate()
    rows = Declaration.objects.filter(person=org.person_a, day=today)
    assert rows.count() == 2 and rows.get(is_current=True).temperature > 38
    tally = DayTally.objects.get(day=today, unit_path=org.person_a.unit_path)
    assert (tally.declared, tally.abnormal, tally.fever) == (1, 1, 1)
    # After the submit the state shows today's status and offers no second one-tap.
    state = client.get(url + "state").json()
    assert state["status"]["status"] == "yellow" and state["one_tap"] is False


def test_the_old_form_post_and_the_json_submit_store_the_same_declaration(client, org):
    # Phones that kept a submission in their outbox from the page before the shell send
    # the form's fields to the link itself; both ways store through the one service.
    declared_yesterday(org, org.person_a, temperature="36.8", symptoms=["cough"])
    declared_yesterday(org, org.person_b, temperature="36.8", symptoms=["cough"])
    url_a, url_b = link_of(org, org.person_a), link_of(org, org.person_b)
    body = one_tap(client.get(url_a + "state").json())
    assert declare(client, url_a, body).status_code == 201
    form = {**body, "uuid": str(uuid.uuid4()), "risk_area_stay": ""}
    assert client.post(url_b, form, HTTP_ACCEPT="application/json").status_code == 201
    rows = Declaration.objects.filter(day=timezone.localdate()).order_by("person__name")
    fields = ("temperature", "symptoms", "division_id", "status", "reasons", "filed_by")
    assert [tuple(getattr(r, f) for f in fields) for r in rows] == [
        tuple(getattr(rows[0], f) for f in fields)
    ] * 2


def test_a_symptom_added_by_the_office_shows_on_the_next_open_at_once(client, org):
    url = link_of(org, org.person_a)
    assert "chills" not in dict(client.get(url + "state").json()["symptoms"])
    Symptom.objects.create(code="chills", name="寒战", name_en="Chills", order=99)
    assert dict(client.get(url + "state").json()["symptoms"])["chills"] == "寒战"


def test_the_json_submit_keeps_to_the_daily_limit_with_a_429(client, org):
    url = link_of(org, org.person_a)
    body = {
        "temperature": "36.6",
        "division": "370303",
        "whereabouts": "at_post",
        "contact": "none",
        "test_result": "none",
    }
    limit = services.LINK_DECLARATIONS_A_DAY
    codes = [
        declare(client, url, {**body, "uuid": str(uuid.uuid4())}).status_code for _ in range(limit)
    ]
    assert codes == [201] * limit
    refused = declare(client, url, {**body, "uuid": str(uuid.uuid4()), "temperature": "38.5"})
    assert refused.status_code == 429 and int(refused["Retry-After"]) >= 60
    assert "明天" in refused.json()["message"] and refused.json()["code"] == "throttled"
    assert Declaration.objects.filter(person=org.person_a).count() == limit


def test_a_retry_after_midnight_is_answered_as_the_stored_declaration(client, org):
    with travel("2026-11-27", "08:00"):
        declared_yesterday(org, org.person_a)
    url = link_of(org, org.person_a)
    with travel("2026-11-27", "23:59"):
        body = one_tap(client.get(url + "state").json())
        assert declare(client, url, body).status_code == 201
    with travel("2026-11-28", "00:01"):  # the answer was lost; the phone sends it again
        again = declare(client, url, body)
    assert again.status_code == 200 and again.json()["duplicate"] is True
    assert Declaration.objects.filter(uuid=body["uuid"]).count() == 1
    assert not Declaration.objects.filter(person=org.person_a, day="2026-11-28").exists()


def test_someone_elses_uuid_is_refused_without_showing_their_declaration(client, org):
    declared_yesterday(org, org.person_a)
    declared_yesterday(org, org.person_b, temperature="38.4")
    theirs = Declaration.objects.get(person=org.person_b)
    url = link_of(org, org.person_a)
    body = {**one_tap(client.get(url + "state").json()), "uuid": str(theirs.uuid)}
    answer = declare(client, url, body)
    assert answer.status_code == 409 and answer.json()["code"] == "key_reused"
    assert "38.4" not in answer.content.decode()
    assert not Declaration.objects.filter(person=org.person_a, day=timezone.localdate()).exists()


def _submit_with_day_read(org, day_rows, **fields):
    """The submit as the view makes it, with a day read that may be stale."""
    link = services.link_issue(actor=org.user("grid_worker", org.group), person=org.person_a)
    today = timezone.localdate()
    [stored] = services.declarations_submit(
        actor=None,
        items=[raw_declaration(org.person_a, day=today.isoformat(), **fields)],
        via_link=link,
        day_read=(today, day_rows),
    )
    return stored


def test_a_stale_day_read_that_missed_a_declaration_still_supersedes_it(org):
    first = _submit_with_day_read(org, [], temperature="38.5").declaration
    second = _submit_with_day_read(org, [], temperature="36.5").declaration  # stale: empty
    rows = Declaration.objects.filter(person=org.person_a, day=timezone.localdate())
    assert rows.get(is_current=True).pk == second.pk and rows.count() == 2
    assert not Declaration.objects.get(pk=first.pk).is_current
    tally = DayTally.objects.get(day=timezone.localdate(), unit_path=org.person_a.unit_path)
    assert (tally.declared, tally.abnormal, tally.fever) == (1, 0, 0)


def test_a_stale_day_read_whose_current_row_was_superseded_meanwhile_keeps_the_tally(org):
    first = _submit_with_day_read(org, [], temperature="38.5").declaration
    stale = [Declaration.objects.get(pk=first.pk)]  # read while it was current
    _submit_with_day_read(org, stale, temperature="38.6")  # supersedes it
    third = _submit_with_day_read(org, stale, temperature="36.6").declaration
    rows = Declaration.objects.filter(person=org.person_a, day=timezone.localdate())
    assert rows.count() == 3 and rows.get(is_current=True).pk == third.pk
    tally = DayTally.objects.get(day=timezone.localdate(), unit_path=org.person_a.unit_path)
    assert (tally.declared, tally.abnormal, tally.fever) == (1, 0, 0)


@pytest.mark.django_db(transaction=True)
def test_outside_any_transaction_the_guarantees_hold_too(client, reference_data, org):
    """Production runs each request in autocommit: a normal first declaration of the day is
    then written by the link's own INSERT (on PostgreSQL one statement with no transaction
    around it), and anything else falls back to the transaction's own read without
    breaking anything."""
    declared_yesterday(org, org.person_a)
    declared_yesterday(org, org.person_b)
    url = link_of(org, org.person_a)
    first = one_tap(client.get(url + "state").json())
    assert declare(client, url, first).status_code == 201
    assert declare(client, url, first).json()["duplicate"] is True
    theirs = Declaration.objects.filter(person=org.person_b).first()
    assert declare(client, url, {**first, "uuid": str(theirs.uuid)}).status_code == 409
    fever = {**first, "uuid": str(uuid.uuid4()), "temperature": "38.4"}
    assert declare(client, url, fever).json()["status"] != "green"
    # A normal declaration whose day read missed the fever: the transaction's own read
    # finds the fever and supersedes it.
    stale = _submit_with_day_read(org, [], temperature="36.6")
    assert stale.created and stale.declaration.is_current
    today = timezone.localdate()
    rows = Declaration.objects.filter(person=org.person_a, day=today)
    assert rows.count() == 3 and rows.get(is_current=True).pk == stale.declaration.pk
    tally = DayTally.objects.get(day=today, unit_path=org.person_a.unit_path)
    assert (tally.declared, tally.abnormal, tally.fever) == (1, 0, 0)


@pytest.mark.django_db(transaction=True)
def test_two_phones_of_one_person_at_the_same_moment_keep_one_current_and_the_tally(
    reference_data, org
):
    """Both read the day empty; one stores first, the other breaks the one-current-a-day
    constraint and is stored from the transaction's read, superseding it. The tally counts
    the person once."""
    import threading

    if connection.vendor == "sqlite":
        pytest.skip(
            "the SQLite test database is in memory with a shared cache, whose table locks "
            "do not wait (busy_timeout); a SQLite file serialises the two writes anyway"
        )

    from django.db import connections

    from fangkong.core.errors import Conflict

    barrier, answers = threading.Barrier(2), []
    link = services.link_issue(actor=org.user("grid_worker", org.group), person=org.person_a)
    today = timezone.localdate()

    def phone(temperature: str) -> None:
        item = raw_declaration(org.person_a, day=today.isoformat(), temperature=temperature)
        try:
            barrier.wait()
            [stored] = services.declarations_submit(
                actor=None, items=[item], via_link=link, day_read=(today, [])
            )
            answers.append(stored)
        except Conflict as exc:  # allowed: "send again"
            answers.append(exc)
        finally:
            connections.close_all()

    phones = [threading.Thread(target=phone, args=(t,)) for t in ("36.5", "36.7")]
    for thread in phones:
        thread.start()
    for thread in phones:
        thread.join()
    stored = [answer for answer in answers if not isinstance(answer, Conflict)]
    assert len(answers) == 2 and stored, answers
    rows = Declaration.objects.filter(person=org.person_a, day=today)
    assert rows.filter(is_current=True).count() == 1 and rows.count() == len(stored)
    tally = DayTally.objects.get(day=today, unit_path=org.person_a.unit_path)
    assert tally.declared == 1


def test_a_declaration_writes_five_indexes_and_a_proxy_is_still_found_on_delete(org):
    """Every index is written by every declaration (a WAL page each on SQLite): the table
    keeps the ones its reads use. Deleting a user who filed for someone is still refused,
    found through the partial index of proxies."""
    from django.db.models import ProtectedError

    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, "health_declaration")
    indexed = {
        tuple(spec["columns"])
        for spec in constraints.values()
        if (spec["index"] or spec["unique"]) and not spec["primary_key"]
    }
    assert indexed == {
        ("uuid",),  # the client's idempotency key
        ("person_id", "day"),  # one current a day (partial) and a person's days
        ("day", "unit_path", "status"),  # the roll-up
        ("day", "status", "whereabouts", "unit_path"),  # its abnormal counts
        ("proxy_id",),  # only rows filed on someone's behalf
    }, indexed
    worker = org.user("grid_worker", org.group)
    declared_yesterday(org, org.person_a)
    with pytest.raises(ProtectedError) as refused:
        worker.delete()
    assert any(isinstance(row, Declaration) for row in refused.value.protected_objects)


def test_a_departed_persons_link_stores_nothing(client, org):
    declared_yesterday(org, org.person_a)
    url = link_of(org, org.person_a)
    body = one_tap(client.get(url + "state").json())
    org.person_a.is_active = False
    org.person_a.save(update_fields=["is_active"])
    answer = declare(client, url, body)
    assert answer.status_code == 404 and answer.json()["code"] == "not_found"
    assert not Declaration.objects.filter(day=timezone.localdate()).exists()
    assert not DayTally.objects.filter(day=timezone.localdate()).exists()


def test_a_revoked_link_is_refused_before_its_body_is_read(client, org):
    # The link's own INSERT of the usual morning leaves anything else to the usual path,
    # which reads the link first: wrong answers through a dead link answer 404.
    url = link_of(org, org.person_a)
    services.link_revoke(actor=org.user("grid_worker", org.group), person=org.person_a)
    wrong = declare(client, url, {"uuid": str(uuid.uuid4()), "temperature": "99"})
    assert wrong.status_code == 404 and wrong.json()["code"] == "not_found"
