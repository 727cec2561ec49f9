"""Types the API's schemas share, so every endpoint bounds its input the same way."""

import datetime as dt
import re
from typing import Annotated, Any

from django.utils.translation import gettext
from ninja import Field, Schema
from ninja.pagination import PageNumberPagination
from pydantic import BeforeValidator, WithJsonSchema

from .text import FIRST_DAY, LAST_DAY

# Primary keys are 64-bit signed integers on SQLite and PostgreSQL alike; a larger number
# cannot name an object, and the databases refuse it with an error instead of "no row".
MAX_ID = 2**63 - 1
ObjectId = Annotated[int, Field(ge=1, le=MAX_ID)]
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def _iso_day(value: Any) -> Any:
    """Only "YYYY-MM-DD" names a day: pydantic would read "0" or "3.5e-151" as a Unix
    time (1970-01-01), a value the schema's date format refuses."""
    if isinstance(value, dt.date) or (isinstance(value, str) and _ISO_DAY.fullmatch(value)):
        return value
    raise ValueError(gettext("Enter the date as YYYY-MM-DD."))


# A date in the window every date here lies in (core.text.FIRST_DAY … LAST_DAY).
Day = Annotated[dt.date, BeforeValidator(_iso_day), Field(ge=FIRST_DAY, le=LAST_DAY)]
# A wall-clock time in Asia/Shanghai, "10:00:00". OpenAPI's "time" format (RFC 3339
# full-time) demands an offset, which a deadline that holds every day has not.
LocalTime = Annotated[
    dt.time,
    WithJsonSchema(
        {
            "type": "string",
            "pattern": "^[0-2][0-9]:[0-5][0-9]:[0-5][0-9]$",
            "description": "Local time in Asia/Shanghai, HH:MM:SS",
        }
    ),
]
# A page number beyond this is never a real page of any list here.
MAX_PAGE = 1_000_000


class Pages(PageNumberPagination):
    """Page-number paging with bounded numbers: ``?page=`` 2^63 is a 422, not a 500."""

    class Input(Schema):
        page: int = Field(1, ge=1, le=MAX_PAGE)
        page_size: int | None = Field(None, ge=1)
