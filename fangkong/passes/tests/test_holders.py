"""Plates (new-energy included) and masked names."""

import pytest

from fangkong.core.errors import InvalidInput
from fangkong.core.masking import name_masked

from ..holders import holder_display_check, plate_masked, plate_normalise


@pytest.mark.parametrize(
    ("given", "plate"),
    [
        ("鲁C12345", "鲁C12345"),
        ("鲁c·12345", "鲁C12345"),
        ("鲁C 1A34X", "鲁C1A34X"),
        ("京A1234学", "京A1234学"),
        ("鲁CD12345", "鲁CD12345"),  # small new-energy, pure electric
        ("粤BF1234A".replace("A", "5"), "粤BF12345"),
        ("鲁CDF1234", "鲁CDF1234"),
        ("沪A12345D", "沪A12345D"),  # large new-energy
    ],
)
def test_chinese_plates_are_accepted_and_normalised(given, plate):
    assert plate_normalise(given) == plate


@pytest.mark.parametrize(
    "given",
    ["", "12345", "AB12345", "鲁I12345", "鲁C1234", "鲁C123456789", "鲁CZ12345", "鲁C12345Z"],
)
def test_anything_else_is_refused_with_a_field_message(given):
    with pytest.raises(InvalidInput) as refused:
        plate_normalise(given)
    assert "plate" in refused.value.detail


def test_plates_and_names_are_masked_for_the_pass():
    assert plate_masked("鲁C12345") == "鲁C·***45"
    assert plate_masked("鲁CD12345") == "鲁C·****45"
    assert name_masked("张三伟") == "张*伟"
    assert name_masked("张伟") == "张*"
    assert name_masked("欧阳娜娜") == "欧**娜"


@pytest.mark.parametrize("display", ["", "张伟 13800138001", "370303198503120012", "x" * 40])
def test_a_display_form_with_a_number_run_or_nothing_is_refused(display):
    with pytest.raises(InvalidInput):
        holder_display_check(display)
