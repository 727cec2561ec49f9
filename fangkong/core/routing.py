"""Reads that may lag a moment go to a streaming replica, when one is configured.

``DATABASE_REPLICA_URL`` adds the ``replica`` alias, :class:`ReplicaRouter` and
:func:`replica_middleware` (config/settings.py); without it nothing here is installed and
every query goes to ``default`` as before. Even then a read goes to the replica only

- inside :func:`reads_from_replica` (a view decorator and context manager): the roll-up
  page and API, the people lists and every export's rows (``core.exports.Export``);
- outside a transaction, so a transaction never mixes what it wrote with a replica's
  older copy;
- when the request has written nothing yet (read-your-writes), and within
  ``REPLICA_PIN_SECONDS`` after a browser's last form or API write (a cookie), so a report
  just submitted shows on the roll-up page the redirect leads to;
- for models whose change must take effect at once: who is asking and what they may see
  (accounts, sessions), rate-limit counts, the cache and the task queue always come from
  the primary.

Writes always go to the primary. A raw-SQL write must ask ``router.db_for_write`` for its
connection (as ``core.throttle`` does), so that the request counts as having written.
"""

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, TypeVar

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Model
from django.http import HttpRequest, HttpResponse

REPLICA = "replica"
PIN_COOKIE = "fangkong_primary"
# App labels and models that are always read from the primary (see the module's doc).
PRIMARY_ONLY_APPS = frozenset({"accounts", "auth", "sessions", "django_cache", "django_q"})
PRIMARY_ONLY_MODELS = frozenset({"core.throttlebucket"})
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

F = TypeVar("F", bound=Callable[..., Any])


@dataclass
class _Reads:
    """What the current request (or block of work) allows and has done."""

    replica: bool = False  # inside reads_from_replica
    wrote: bool = False
    pinned: bool = False  # the browser wrote moments ago


_reads: ContextVar[_Reads | None] = ContextVar("fangkong_reads", default=None)


def replica_configured() -> bool:
    return REPLICA in connections.settings


def _may_read_from_replica(model: type[Model]) -> bool:
    reads = _reads.get()
    if reads is None or not reads.replica or reads.wrote or reads.pinned:
        return False
    meta = model._meta
    if meta.app_label in PRIMARY_ONLY_APPS or meta.label_lower in PRIMARY_ONLY_MODELS:
        return False
    return replica_configured() and not connections[DEFAULT_DB_ALIAS].in_atomic_block


class ReplicaRouter:
    """Send allowed reads to ``replica`` and everything else, writes above all, to ``default``.

    It answers ``default`` rather than None: Django would otherwise send a query about an
    object read from the replica (its related rows, its save) back to the replica.
    """

    def db_for_read(self, model: type[Model], **hints: Any) -> str:
        return REPLICA if _may_read_from_replica(model) else DEFAULT_DB_ALIAS

    def db_for_write(self, model: type[Model], **hints: Any) -> str:
        reads = _reads.get()
        if reads is not None:
            reads.wrote = True
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1: Model, obj2: Model, **hints: Any) -> bool:
        return True  # the replica holds the primary's rows: the same objects

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool:
        return db != REPLICA  # it follows the primary's schema by replication


@contextmanager
def replica_reads() -> Iterator[None]:
    """Within the block, reads may go to the replica (see the module's doc for when)."""
    outer = _reads.get()
    if outer is not None and outer.replica:
        yield
        return
    reads = outer or _Reads()
    token = _reads.set(reads)
    reads.replica = True
    try:
        yield
    finally:
        reads.replica = False
        _reads.reset(token)


def reads_from_replica(view: F) -> F:
    """A view decorator: its reads may go to the replica (see :func:`replica_reads`)."""

    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        with replica_reads():
            return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


def replica_middleware(
    get_response: Callable[[HttpRequest], HttpResponse],
) -> Callable[[HttpRequest], HttpResponse]:
    """Track each request's writes; after a form or API write keep the browser on the
    primary for ``REPLICA_PIN_SECONDS``, longer than the replica lags behind."""

    def middleware(request: HttpRequest) -> HttpResponse:
        reads = _Reads(pinned=PIN_COOKIE in request.COOKIES)
        token = _reads.set(reads)
        try:
            response = get_response(request)
        finally:
            _reads.reset(token)
        if reads.wrote and request.method in UNSAFE_METHODS:
            response.set_cookie(
                PIN_COOKIE,
                "1",
                max_age=settings.REPLICA_PIN_SECONDS,
                secure=settings.SESSION_COOKIE_SECURE,
                httponly=True,
                samesite="Lax",
            )
        return response

    return middleware
