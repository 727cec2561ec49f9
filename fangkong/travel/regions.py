"""Region codes: a province or city code covers its counties (a prefix of the 6-digit code).

GB/T 2260 codes are ``PPCCXX``: a province ``PP0000``, a city ``PPCC00``, a county
``PPCCXX``. The counties of a city are the codes starting with ``PPCC``, so "covered by"
is a code range ``[prefix, next prefix)`` that one B-tree index answers.
"""

from django.db.models import Q

from fangkong.core.models import Division


def covering_prefix(code: str, level: int) -> str:
    """Return the prefix every code inside the division starts with ("37", "3703", "370303")."""
    return code[: 2 * max(1, min(level, 3))]


def code_range_q(field: str, prefix: str) -> Q:
    """Return a condition matching the codes in ``field`` that start with ``prefix``.

    A range, not LIKE: SQLite does not use an index for ``LIKE … ESCAPE``.
    """
    upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    return Q(**{f"{field}__gte": prefix, f"{field}__lt": upper})


def covering_codes(code: str) -> list[str]:
    """Return the codes of the province, the city and the division itself (deduplicated)."""
    return list(dict.fromkeys([code[:2] + "0000", code[:4] + "00", code]))


def covers(area_code: str, area_level: int, code: str) -> bool:
    """Tell whether the area (by code and level) covers the division ``code``."""
    return code.startswith(covering_prefix(area_code, area_level))


def division_levels(codes: set[str]) -> dict[str, int]:
    return dict(Division.objects.filter(code__in=codes).values_list("code", "level"))
