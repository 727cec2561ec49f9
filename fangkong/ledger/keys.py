"""Open keys (``Item.open_key``): one open item per kind and key.

A kind whose items are about a person keys them by the person, so a person has at most
one open card of each kind; the key is built and read back here only.
"""

_PERSON = "person:"


def person_key(person_id: int) -> str:
    """The open key of a person's item: one open item per person and kind."""
    return f"{_PERSON}{person_id}"


def person_from_key(key: str) -> int:
    """The person id of a ``person_key``; ValueError for any other key."""
    if not key.startswith(_PERSON):
        raise ValueError(f"not a person key: {key!r}")
    return int(key.removeprefix(_PERSON))
