"""Raw declarations as a phone or the API would send them."""

import uuid
from typing import Any

ZIBO_ZHANGDIAN = "370303"


def raw_declaration(person: Any, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "uuid": str(uuid.uuid4()),
        "person": person.pk,
        "temperature": "36.5",
        "division": ZIBO_ZHANGDIAN,
    }
    data.update(overrides)
    return data
