"""A memo serves its value until it is older than its seconds, or a save invalidates it."""

import time

import pytest
from django.db import transaction

from fangkong.core.memo import Memo
from fangkong.core.models import CalendarNotice


def test_the_value_is_served_until_it_is_older_than_its_seconds():
    loads = []
    memo = Memo(lambda: loads.append(1) or len(loads), seconds=0.2)
    assert [memo.get(), memo.get()] == [1, 1]
    time.sleep(0.25)  # another process saved a change: it shows within ``seconds``
    assert memo.get() == 2


@pytest.mark.django_db(transaction=True)
def test_a_save_in_this_process_is_seen_at_once_and_a_rollback_is_forgotten():
    memo = Memo(lambda: sorted(CalendarNotice.objects.values_list("year", flat=True)), seconds=60)
    memo.watch([CalendarNotice])
    assert memo.get() == []
    CalendarNotice.objects.create(year=2031)
    assert memo.get() == [2031]
    with pytest.raises(RuntimeError), transaction.atomic():
        CalendarNotice.objects.create(year=2032)
        assert memo.get() == [2031, 2032]  # read inside the transaction that fails
        raise RuntimeError
    assert memo.get() == [2031]


@pytest.mark.django_db
def test_a_division_loaded_in_bulk_after_the_memo_filled_is_still_known():
    from fangkong.core.divisions import division_full_name, division_names, known_division_codes
    from fangkong.core.models import Division

    division_names.get()
    Division.objects.bulk_create(
        [Division(code="990101", name="测试县", full_name="测试县", level=3)]
    )
    assert known_division_codes({"990101", "000000"}) == {"990101"}
    assert division_full_name("990101") == "测试县"
