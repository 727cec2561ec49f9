"""A queryset whose page is converted only when sliced, so a paginator never maps every row."""

from collections.abc import Callable
from typing import Any


class MappedQuerySet:
    """Wrap ``queryset``; a slice yields ``convert(row)`` and calls ``after_page(rows)``."""

    def __init__(
        self,
        queryset: Any,
        convert: Callable[[Any], Any],
        after_page: Callable[[list[Any]], None] | None = None,
    ) -> None:
        self.queryset, self.convert, self.after_page = queryset, convert, after_page

    def __len__(self) -> int:
        return self.queryset.count()

    def __getitem__(self, window: slice) -> list[Any]:
        rows = [self.convert(row) for row in self.queryset[window]]
        if self.after_page is not None:
            self.after_page(rows)
        return rows
