"""SQLite's writers queue on a file lock (fangkong/core/sqlite/base.py) instead of sleeping.

With the busy handler switched off (busy_timeout 0) a second writer would fail at once
with "database is locked" while the first holds its transaction; through the queue it
waits and goes on the moment the first commits, rolls back or closes.
"""

import threading
import uuid

import pytest
from django.db import OperationalError, connection, transaction
from django.urls import reverse

from fangkong.core.audit import audit_record
from fangkong.core.models import AuditLog
from fangkong.health import services
from fangkong.health.models import Declaration
from fangkong.health.selectors import link_token

from .parallel import deployed_database, in_parallel

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's writers only"),
]


def _without_busy_handler() -> None:
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA busy_timeout=0")


def _write(action: str) -> None:
    audit_record(actor=None, action=action)


def _two_writers(hold_first, write_second) -> None:
    """Thread 0 writes and runs ``hold_first`` inside its transaction; thread 1 runs
    ``write_second`` once the first is writing."""
    first_writing = threading.Event()

    def writer(n: int) -> None:
        _without_busy_handler()
        if n == 0:
            with transaction.atomic():
                _write("first")
                first_writing.set()
                hold_first()
            return
        first_writing.wait(5)
        write_second()

    in_parallel(2, writer)


def _second_writer_waits_for(end_first) -> list[str]:
    """The first holds its transaction until the second is waiting, then ends it with
    ``end_first``; the second writes as soon as it can. Return the order of events."""
    events: list[str] = []
    second_started = threading.Event()

    def hold() -> None:
        second_started.wait(5)
        threading.Event().wait(0.2)  # the second is now queued, not failing
        events.append("first ends")
        end_first()

    def second() -> None:
        second_started.set()
        with transaction.atomic():
            _write("second")
        events.append("second wrote")

    _two_writers(hold, second)
    return events


def test_a_second_writer_waits_for_the_first_to_commit(tmp_path):
    with deployed_database(tmp_path):
        events = _second_writer_waits_for(lambda: None)
        assert events == ["first ends", "second wrote"]
        assert sorted(AuditLog.objects.values_list("action", flat=True)) == ["first", "second"]


def test_a_rolled_back_writer_lets_the_next_one_in(tmp_path):
    class Undone(Exception):
        pass

    def fail() -> None:
        raise Undone

    with deployed_database(tmp_path):
        with pytest.raises(Undone):
            _second_writer_waits_for(fail)
        assert list(AuditLog.objects.values_list("action", flat=True)) == ["second"]


def test_many_writers_store_everything_without_a_busy_handler(tmp_path):
    def burst(n: int) -> None:
        _without_busy_handler()
        for k in range(25):
            with transaction.atomic():
                _write(f"{n}-{k}")

    with deployed_database(tmp_path):
        in_parallel(6, burst)
        assert AuditLog.objects.count() == 150


def test_a_writer_gives_up_when_the_lock_is_held_past_the_busy_timeout(tmp_path, settings):
    # A stuck transaction makes other writes fail as SQLite would, not wait for ever.
    settings.SQLITE_BUSY_SECONDS = 0.2
    second_done = threading.Event()
    outcome: list[str] = []

    def second() -> None:
        try:
            with transaction.atomic():
                _write("second")
        except OperationalError as exc:
            outcome.append(str(exc))
        second_done.set()

    with deployed_database(tmp_path):
        _two_writers(lambda: second_done.wait(5), second)
        assert outcome == ["database is locked"]
        assert list(AuditLog.objects.values_list("action", flat=True)) == ["first"]


def test_a_phone_submit_that_waits_past_the_busy_timeout_is_told_to_send_again(
    tmp_path, settings, client, reference_data, org
):
    # The morning's writers queue; one that waits too long stores nothing and answers 503
    # with Retry-After in the phone's language (its outbox sends it again), not a 500.
    settings.SQLITE_BUSY_SECONDS = 0.2
    link = services.link_issue(actor=org.user("grid_worker", org.group), person=org.person_a)
    url = reverse("health:link", args=[link_token(link)]) + "declare"
    body = {
        "uuid": str(uuid.uuid4()),
        "temperature": "36.5",
        "symptoms": [],
        "division": "370303",
        "whereabouts": "at_post",
        "contact": "none",
        "risk_area_stay": False,
        "test_result": "none",
    }
    client.get(url.removesuffix("declare"))  # the morning's memos are loaded
    client.raise_request_exception = False  # answered by the site's error handler
    answers = []
    answered = threading.Event()

    def submit() -> None:
        answers.append(
            client.post(url, body, content_type="application/json", HTTP_ACCEPT="application/json")
        )
        answered.set()

    with deployed_database(tmp_path):
        _two_writers(lambda: answered.wait(5), submit)
        [answer] = answers
        assert answer.status_code == 503, answer.content.decode()
        assert answer["Retry-After"] == "2"
        assert answer.json()["code"] == "busy"
        assert answer.json()["message"] == "系统繁忙，请稍后再试。"
        assert not Declaration.objects.filter(person=org.person_a).exists()
        # Sent again once the lock is free, it is stored.
        again = client.post(url, body, content_type="application/json")
        assert again.status_code == 201
        assert Declaration.objects.filter(person=org.person_a).count() == 1
