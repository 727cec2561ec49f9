"""URL converters shared by every app's urls.py."""


class ObjectIdConverter:
    """``<id:pk>``: a primary key of at most 18 digits, so always below 2^63.

    Django's ``<int:>`` takes any run of digits; 2^63 then reaches the database, which
    fails with an error instead of finding nothing. A longer number is simply no page (404).
    """

    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)
