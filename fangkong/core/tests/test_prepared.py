"""Queries built once per connection (core/prepared.py) answer what the ORM answers."""

import datetime as dt
import uuid

import pytest
from django.db import connection
from django.db.models import Q
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from fangkong.core.prepared import Prepared, instance
from fangkong.health import services
from fangkong.health.models import Declaration
from fangkong.health.tests.factories import raw_declaration

pytestmark = pytest.mark.django_db

COLUMNS = [field.attname for field in Declaration._meta.concrete_fields]


def by_uuid_or_day(key, person, day):
    return (
        Declaration.objects.filter(Q(uuid=key) | Q(person_id=person, day=day))
        .order_by("pk")
        .values_list(*COLUMNS, "division__full_name")
    )


PREPARED = Prepared(
    by_uuid_or_day,
    Declaration._meta.get_field("uuid"),
    Declaration._meta.get_field("person"),
    Declaration._meta.get_field("day"),
)


def declare(org, person, day, **fields):
    actor = org.user("grid_worker", org.group)
    [stored] = services.declarations_submit(
        actor=actor, items=[raw_declaration(person, day=day.isoformat(), **fields)]
    )
    return stored.declaration


def test_rows_are_the_orms_typed_as_the_orm_types_them(org):
    today = timezone.localdate()
    yesterday = today - dt.timedelta(days=1)
    first = declare(org, org.person_a, yesterday, temperature="38.1", symptoms=["cough"])
    second = declare(org, org.person_b, today)
    for key, person, day in [
        (first.uuid, org.person_b.pk, today),  # one row by its UUID, one by the day
        (uuid.uuid4(), org.person_a.pk, yesterday),
        (uuid.uuid4(), org.person_a.pk, today),  # none
    ]:
        rows = PREPARED.rows(key, person, day)
        assert rows == list(by_uuid_or_day(key, person, day))
    [row] = PREPARED.rows(second.uuid, 0, today)
    made = instance(Declaration, row)
    assert (made.pk, made.uuid, made.day, made.temperature) == (
        second.pk,
        second.uuid,
        second.day,
        second.temperature,
    )
    assert made.created_at == second.created_at and made.symptoms == second.symptoms
    assert row[-1] == "山东省 淄博市 张店区"


def test_each_call_is_one_statement_of_the_same_text(org):
    today = timezone.localdate()
    declare(org, org.person_a, today)
    with CaptureQueriesContext(connection) as queries:
        PREPARED.rows(uuid.uuid4(), org.person_a.pk, today)
        PREPARED.rows(uuid.uuid4(), org.person_b.pk, today)
    first, second = (query["sql"] for query in queries.captured_queries)
    assert len(queries.captured_queries) == 2
    assert str(org.person_a.pk) in first and str(org.person_b.pk) in second
    assert first.split("WHERE")[0] == second.split("WHERE")[0]


def test_a_value_the_query_does_not_compare_is_refused(org):
    ignored = Prepared(
        lambda person: Declaration.objects.filter(is_current=True).values_list("pk"),
        Declaration._meta.get_field("person"),
    )
    with pytest.raises(TypeError, match="not parameters"):
        ignored.rows(org.person_a.pk)


def test_a_broken_transaction_refuses_the_read_as_the_orm_does(org):
    """On SQLite the read skips Django's cursor when nobody logs statements: inside a
    transaction that an error broke it must still refuse to run, as the ORM refuses."""
    from django.db import transaction
    from django.db.transaction import TransactionManagementError

    today = timezone.localdate()
    first = declare(org, org.person_a, today)
    with transaction.atomic():
        transaction.set_rollback(True)  # what a caught database error leaves behind
        with pytest.raises(TransactionManagementError):
            Declaration.objects.filter(pk=first.pk).exists()
        with pytest.raises(TransactionManagementError):
            PREPARED.rows(first.uuid, org.person_a.pk, today)


def test_a_statement_returns_its_rows_and_a_write_without_returning_none(org):
    """On PostgreSQL whether rows came back is read from the result's status, not from the
    column descriptions (an object per column, built for nothing): both answers hold."""
    from fangkong.core.prepared import fetch_all

    today = timezone.localdate()
    stored = declare(org, org.person_a, today)
    table = connection.ops.quote_name(Declaration._meta.db_table)
    update = f"UPDATE {table} SET is_current = is_current WHERE id = %s"
    assert fetch_all(connection, update, [stored.pk]) == []
    select = f"SELECT id FROM {table} WHERE id = %s"
    assert fetch_all(connection, select, [stored.pk]) == [(stored.pk,)]
