"""Numbers typed by people or sent by devices: finite, rounded, within what the column holds."""

from decimal import Decimal, InvalidOperation
from typing import Any


def to_decimal(value: Any, *, places: int) -> Decimal:
    """Return ``value`` as a Decimal, rounded if it has more than ``places`` decimals.

    Raise ValueError for anything that is not a finite number: text, "NaN", "Infinity",
    a float that overflowed (``1e400`` in JSON) or a number too long to round.
    """
    if isinstance(value, bool):
        raise ValueError("not a number")
    try:
        number = Decimal(str(value).strip())
        if not number.is_finite():
            raise ValueError("not a finite number")
        if number.as_tuple().exponent < -places:  # type: ignore[operator]
            number = number.quantize(Decimal(1).scaleb(-places))
        return number
    except (InvalidOperation, ArithmeticError) as exc:
        raise ValueError("not a number") from exc


def fits_column(number: Decimal, *, max_digits: int, places: int) -> bool:
    """Does ``number`` fit a DecimalField(max_digits, places)? SQLite would not refuse it."""
    return abs(number) < Decimal(10) ** (max_digits - places)


def plain_decimal(number: Decimal) -> str:
    """``number`` as people write it: 300, 2.5 (``normalize()`` alone gives 3E+2)."""
    return f"{number.normalize():f}"
