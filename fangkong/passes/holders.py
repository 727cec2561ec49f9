"""How a holder is named on a pass: Chinese number plates (names: core.masking.name_masked)."""

import re

from django.utils.translation import gettext_lazy as _

from fangkong.core.errors import InvalidInput

PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼使领"
_LETTER = "A-HJ-NP-Z"  # I and O are never used: they read as 1 and 0
_ENERGY = "ABCDEFGHJK"  # D/A–E pure electric, F/G–K other new-energy (GA 36-2018)
PLATE_PATTERNS = (
    # ordinary: 鲁C12345, 鲁CA123学
    re.compile(f"[{PROVINCES}][{_LETTER}][{_LETTER}0-9]{{4}}[{_LETTER}0-9挂学警港澳]"),
    # small new-energy, 8 characters: 鲁CD12345, 鲁CDF1234
    re.compile(f"[{PROVINCES}][{_LETTER}][{_ENERGY}][{_LETTER}0-9][0-9]{{4}}"),
    # large new-energy, 8 characters: 鲁C12345D
    re.compile(f"[{PROVINCES}][{_LETTER}][0-9]{{5}}[{_ENERGY}]"),
)
_SEPARATORS = re.compile(r"[\s·•.\-]")
# A run of six digits or more could be a phone or an ID number: never on a pass.
_NUMBER_RUN = re.compile(r"[0-9]{6,}")


def plate_normalise(text: str) -> str:
    """Return the plate without separators, in capitals; raise InvalidInput if it is not a
    Chinese plate (7 characters, or 8 for a new-energy vehicle)."""
    plate = _SEPARATORS.sub("", text or "").upper()
    if not any(pattern.fullmatch(plate) for pattern in PLATE_PATTERNS):
        raise InvalidInput(
            detail={
                "plate": [
                    _(
                        "Not a Chinese number plate: a province, a letter and 5 letters or "
                        "digits (6 for a new-energy vehicle), such as 鲁C12345 or 鲁CD12345."
                    )
                ]
            }
        )
    return plate


def plate_masked(plate: str) -> str:
    """鲁C12345 → 鲁C·***45: the guard matches the car, a photo of it names nobody."""
    return f"{plate[:2]}·{'*' * (len(plate) - 4)}{plate[-2:]}"


def holder_display_check(display: str) -> str:
    """Refuse a display form that could carry a phone or ID number, or is empty or long."""
    display = display.strip()
    if not display or len(display) > 32 or _NUMBER_RUN.search(display):
        raise InvalidInput(
            detail={
                "holder_display": [
                    _("Give the holder's masked name or plate, without phone or ID numbers.")
                ]
            }
        )
    return display
