"""Identity documents and phone numbers as Chinese users write them."""

import datetime as dt
import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from fangkong.core.text import compact

from .models import Gender

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARS = "10X98765432"
_RESIDENT_ID = re.compile(r"^[1-9]\d{16}[\dX]$")
_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_LANDLINE = re.compile(r"^0\d{2,3}-?\d{7,8}$")
_PASSPORT = re.compile(r"^[A-Z0-9]{5,17}$")


def resident_id_check_char(first17: str) -> str:
    """Return the GB 11643 check character for the first 17 digits."""
    total = sum(int(digit) * weight for digit, weight in zip(first17, _WEIGHTS, strict=True))
    return _CHECK_CHARS[total % 11]


def normalize_resident_id(value: str) -> str:
    """Return a mainland resident ID in canonical form (upper-case X) or raise."""
    number = compact(value).upper()
    if not _RESIDENT_ID.match(number):
        raise ValidationError(
            _("A resident ID has 18 characters: 17 digits and a digit or X."), code="format"
        )
    try:
        dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise ValidationError(
            _("The date of birth inside the resident ID is not a real date."), code="birth"
        ) from None
    if resident_id_check_char(number[:17]) != number[17]:
        raise ValidationError(
            _("The check digit of the resident ID is wrong; please check the number."),
            code="check_digit",
        )
    return number


def normalize_document(id_type: str, value: str) -> str:
    """Return a normalised identity-document number of the given type or raise."""
    if id_type == "resident_id":
        return normalize_resident_id(value)
    number = compact(value).upper()
    if not number:
        raise ValidationError(_("The document number is required."), code="required")
    if id_type == "passport" and not _PASSPORT.match(number):
        raise ValidationError(_("A passport number has 5 to 17 letters and digits."), code="format")
    if len(number) > 32:
        raise ValidationError(_("The document number is too long."), code="length")
    return number


def normalize_phone(value: str) -> str:
    """Return a phone number without country code or separators, or raise.

    Accepts +86 / 0086 / 86 prefixes, spaces and dashes in mobile numbers, and landlines
    with an area code.
    """
    number = compact(value).replace("(", "").replace(")", "")
    if not number:
        return ""
    number = re.sub(r"^(\+86|0086)-?", "", number)
    digits = number.replace("-", "")
    if len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]
    if _MOBILE.match(digits):
        return digits
    if _LANDLINE.match(number):
        return number
    raise ValidationError(
        _("Enter an 11-digit mobile number or a landline with its area code."), code="phone"
    )


def birth_date_from_resident_id(number: str) -> dt.date | None:
    """Return the date of birth a resident ID carries."""
    try:
        return dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except (ValueError, IndexError):
        return None


def gender_from_resident_id(number: str) -> str:
    """Return the gender a resident ID carries: its 17th digit is odd for men (GB 11643)."""
    return "male" if int(number[16]) % 2 else "female"


def identity_from_document(
    id_type: str, id_number: str, gender: str, birth_date: dt.date | None
) -> tuple[str, dt.date | None]:
    """Return gender and date of birth, checked against a resident ID or taken from it.

    A resident ID carries both, so an empty (unknown) one is filled in and a different one
    is refused: 男 typed for a woman's number is a typing error in one or the other. Other
    documents carry neither, and the values are kept as given. ``id_number`` is the
    normalised number.
    """
    if id_type != "resident_id" or not _RESIDENT_ID.match(id_number):
        return gender, birth_date
    carried_gender = gender_from_resident_id(id_number)
    carried_birth = birth_date_from_resident_id(id_number)
    errors: dict[str, list[str]] = {}
    if gender not in ("", "unknown") and gender != carried_gender:
        errors["gender"] = [
            _("The gender does not match the resident ID, which says %(gender)s.")
            % {"gender": Gender(carried_gender).label}
        ]
    if birth_date is not None and birth_date != carried_birth:
        errors["birth_date"] = [
            _("The date of birth does not match the resident ID, which says %(date)s.")
            % {"date": carried_birth.isoformat() if carried_birth else ""}
        ]
    if errors:
        raise ValidationError(errors)
    return carried_gender, carried_birth
