"""Ledger tests use the test-only kinds of ``fangkong.ledger.testing``."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from fangkong.ledger.testing import register_test_kinds, unregister_test_kinds

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture(autouse=True)
def test_kinds():
    register_test_kinds()
    yield
    unregister_test_kinds()


def local(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, second, tzinfo=SHANGHAI)
