"""The fast writers read back exactly what an ORM save would have stored."""

import datetime as dt

import pytest
from django.utils import timezone

from fangkong.core import bulk
from fangkong.core.audit import audit_rows
from fangkong.core.models import AuditLog

pytestmark = pytest.mark.django_db

MOMENT = dt.datetime(2020, 2, 10, 8, 30, tzinfo=dt.UTC)


def test_many_rows_get_their_ids_and_values_past_the_copy_threshold():
    logs = [
        AuditLog(
            action="create",
            object_type="orgs.person",
            object_id=str(n),
            object_repr=f"张伟 {n}",
            scope_path="/1/2/",
            after={"n": n, "名字": "张伟"},
        )
        for n in range(bulk.COPY_FROM + 5)
    ]
    bulk.insert_returning_pks(logs)
    assert len({log.pk for log in logs}) == len(logs)
    last = AuditLog.objects.get(pk=logs[-1].pk)
    assert last.object_id == str(bulk.COPY_FROM + 4) and last.after["名字"] == "张伟"
    assert last.at is not None


def test_plain_rows_take_defaults_for_the_fields_left_out():
    audit_rows(
        actor=None,
        action="update",
        rows=[
            {
                "object_type": "ledger.item",
                "object_id": "7",
                "scope_path": "/1/",
                "after": {"ids": [7]},
            }
        ],
    )
    bulk.insert_values(
        AuditLog, ["action", "object_type", "object_id", "after"], [("delete", "x", "1", None)] * 3
    )
    row = AuditLog.objects.get(object_id="7")
    assert row.after == {"ids": [7]} and row.actor is None and row.object_repr == ""
    assert (timezone.now() - row.at).total_seconds() < 60
    assert AuditLog.objects.filter(action="delete").count() == 3


def test_a_value_shared_by_many_rows_lands_in_every_row():
    bulk.insert_values(
        AuditLog,
        ["action", "object_type", "object_id", "at"],
        [
            ("view", "t", str(n), MOMENT if n % 2 else MOMENT + dt.timedelta(hours=1))
            for n in range(10)
        ],
    )
    stored = dict(AuditLog.objects.filter(action="view").values_list("object_id", "at"))
    assert stored["1"] == MOMENT and stored["2"] == MOMENT + dt.timedelta(hours=1)
    assert len(stored) == 10
