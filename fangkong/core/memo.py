"""Values that every request reads and an administrator rarely changes, kept per process.

The symptom list, the status rules, the outbreak profile and the calendar's overrides are
read by every declaration; a query for each costs more than the declaration itself at the
morning peak. A :class:`Memo` keeps the loaded value for ``seconds``. The process that
saves a change forgets it at once (the owning app connects :meth:`Memo.watch` to the
models' save and delete signals); other processes load the new value within ``seconds``.
"""

import time
from collections.abc import Callable, Iterable
from typing import Any, Generic, TypeVar

from django.db import connection, transaction

T = TypeVar("T")

_ALL: list["Memo[Any]"] = []


class Memo(Generic[T]):
    """``load()``'s value, reloaded after ``seconds`` or when invalidated."""

    def __init__(self, load: Callable[[], T], *, seconds: float) -> None:
        self.load = load
        self.seconds = seconds
        self._value: T | None = None
        self._loaded_at: float | None = None
        # Saved in a transaction not yet committed: what this process reads meanwhile is
        # not kept, since a rollback would leave it wrong for ``seconds``.
        self._pending = False
        _ALL.append(self)

    def get(self) -> T:
        if self._pending:
            if connection.in_atomic_block:
                return self.load()
            self._forget()  # the saving transaction ended without committing
        loaded_at = self._loaded_at
        if loaded_at is None or time.monotonic() - loaded_at >= self.seconds:
            value = self.load()
            self._value, self._loaded_at = value, time.monotonic()
            return value
        return self._value  # type: ignore[return-value]

    def invalidate(self, **_signal: object) -> None:
        """Forget the value now; inside a transaction, keep nothing until it commits."""
        self._loaded_at = None
        if connection.in_atomic_block:
            self._pending = True
            transaction.on_commit(self._forget)

    def _forget(self) -> None:
        self._loaded_at = None
        self._pending = False

    def watch(self, models: Iterable[type]) -> None:
        """Invalidate whenever a row of one of ``models`` is saved or deleted."""
        from django.db.models.signals import post_delete, post_save

        for model in models:
            post_save.connect(self.invalidate, sender=model, weak=False)
            post_delete.connect(self.invalidate, sender=model, weak=False)


def forget_all() -> None:
    """Forget every memo (between tests, whose rolled-back rows were never committed)."""
    for memo in _ALL:
        memo._forget()
