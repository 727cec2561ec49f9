import pytest
from django.core.exceptions import ValidationError

from fangkong.orgs.validators import normalize_document, normalize_phone, normalize_resident_id


def test_a_valid_resident_id_with_lower_case_x_is_accepted_and_upper_cased():
    assert normalize_resident_id("11010519491231002x") == "11010519491231002X"


def test_full_width_digits_and_spaces_are_accepted():
    assert normalize_resident_id("１１０１０５ １９４９１２３１ ００２Ｘ") == "11010519491231002X"


@pytest.mark.parametrize(
    ("number", "code"),
    [
        ("110105194912310021", "check_digit"),
        ("11010519491331002X", "birth"),
        ("1101051949123100", "format"),
        ("01010519491231002X", "format"),
    ],
)
def test_bad_resident_ids_are_refused_with_their_reason(number, code):
    with pytest.raises(ValidationError) as error:
        normalize_resident_id(number)
    assert error.value.code == code


def test_passports_and_other_documents_are_allowed():
    assert normalize_document("passport", "e1234 5678") == "E12345678"
    assert normalize_document("other", "XY-9") == "XY-9"
    with pytest.raises(ValidationError):
        normalize_document("passport", "!!")


@pytest.mark.parametrize(
    "raw",
    [
        "13800138000",
        "+86 138 0013 8000",
        "+86-13800138000",
        "008613800138000",
        "8613800138000",
        "138-0013-8000",
        "１３８００１３８０００",
    ],
)
def test_mobile_numbers_in_common_forms(raw):
    assert normalize_phone(raw) == "13800138000"


def test_landlines_and_bad_numbers():
    assert normalize_phone("0533-1234567") == "0533-1234567"
    with pytest.raises(ValidationError):
        normalize_phone("12345")
    with pytest.raises(ValidationError):
        normalize_phone("12800138000")
