import datetime as dt

import pytest

from fangkong.core.paths import ancestor_paths, child_path, subtree_upper_bound
from fangkong.core.text import clean_cell, compact, mask_middle, parse_date


def test_full_width_and_stray_spaces_are_folded():
    assert clean_cell("　张　三 ") == "张 三"
    assert compact("１３８ ００１３ ８０００") == "13800138000"
    assert clean_cell(12.0) == "12"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (43876, dt.date(2020, 2, 15)),  # Excel serial
        ("43876", dt.date(2020, 2, 15)),
        (dt.datetime(2020, 2, 15, 8, 0), dt.date(2020, 2, 15)),
        ("2020/2/15", dt.date(2020, 2, 15)),
        ("2020年2月15日", dt.date(2020, 2, 15)),
        ("２０２０－０２－１５", dt.date(2020, 2, 15)),
        ("20200215", dt.date(2020, 2, 15)),
        ("", None),
    ],
)
def test_dates_from_excel_serials_and_text(value, expected):
    assert parse_date(value) == expected


def test_a_non_date_is_refused():
    with pytest.raises(ValueError):
        parse_date("下周一")


def test_masking_keeps_the_length():
    assert mask_middle("13800138000", keep_start=3, keep_end=4) == "138****8000"
    assert mask_middle("ab", keep_start=3, keep_end=4) == "**"


def test_subtree_range_contains_descendants_only():
    root = child_path("", 1)
    child = child_path(root, 12)
    sibling = child_path("", 10)
    upper = subtree_upper_bound(root)
    assert root <= child < upper
    assert not (root <= sibling < upper)
    assert ancestor_paths(child) == ["/1/", "/1/12/"]
