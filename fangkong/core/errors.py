"""One error hierarchy, rendered the same way everywhere as {"code", "message", "detail"}."""

from typing import Any

from django.db import OperationalError
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


class ApplicationError(Exception):
    """A failure the user can understand and act on."""

    code = "error"
    status = 400
    default_message: Any = _("The request could not be completed.")

    def __init__(self, message: Any = None, *, detail: Any = None) -> None:
        self.message = message if message is not None else self.default_message
        self.detail = detail
        super().__init__(str(self.message))

    def field_messages(self) -> list[str]:
        """The messages of a field-by-field detail ({field: [message, ...]}); none for any
        other detail (an import's rows are shown as a table, never as Python's text)."""
        if not isinstance(self.detail, dict):
            return []
        found: list[str] = []
        for messages in self.detail.values():
            if not isinstance(messages, list) or not all(
                isinstance(message, str | Promise) for message in messages
            ):
                return []
            found += [str(message) for message in messages]
        return found

    def as_text(self) -> str:
        """Return one line for a page: the field problems joined, or the message."""
        return "；".join(self.field_messages()) or str(self.message)

    def as_body(self) -> dict[str, Any]:
        """Return the error body shared by the API and the HTML pages."""
        return {"code": self.code, "message": str(self.message), "detail": self.detail}


class InvalidInput(ApplicationError):
    code = "invalid"
    status = 422

    @classmethod
    def at(cls, field: str, message: Any) -> "InvalidInput":
        """The refusal of one field: its message, also under the field's name for a form."""
        return cls(message, detail={field: [message]})

    default_message = _("Some fields are not valid.")


class NotFound(ApplicationError):
    """Also raised for objects outside the caller's scope, so their existence does not leak."""

    code = "not_found"
    status = 404
    default_message = _("Not found.")


class PermissionDenied(ApplicationError):
    code = "forbidden"
    status = 403
    default_message = _("You do not have permission to do this.")


class Conflict(ApplicationError):
    code = "conflict"
    status = 409
    default_message = _("The request conflicts with the current state.")


class KeyReused(Conflict):
    """An idempotency key (a client UUID) sent again with other content.

    A true retry answers what was stored; this answers nothing about it, since the first
    use may belong to someone outside the caller's scope. Clients must not retry it.
    """

    code = "key_reused"
    default_message = _(
        "This submission was not saved: its number was already used for other data. "
        "Please submit again."
    )


class Throttled(ApplicationError):
    """Too many requests; the answer carries Retry-After (seconds)."""

    code = "throttled"
    status = 429
    default_message = _(
        "Too many requests from this phone or network. Please wait a minute and try again."
    )

    def __init__(self, message: Any = None, *, detail: Any = None, wait: int = 60) -> None:
        super().__init__(message, detail=detail)
        self.wait = wait  # seconds, sent as Retry-After


class Busy(ApplicationError):
    """Another transaction kept the write out (SQLite's writers' queue gave up; PostgreSQL
    undid a deadlock, a serialization failure or a lock wait): the transaction was undone,
    and the same request will go through a moment later."""

    code = "busy"
    status = 503
    default_message = _("The system is busy. Please try again in a moment.")
    wait = 2  # seconds, sent as Retry-After


# PostgreSQL's answers that mean "another transaction was in the way, try again": a
# serialization failure, a deadlock (the one transaction it undid), a lock wait cut short.
_BUSY_SQLSTATES = frozenset({"40001", "40P01", "55P03"})


def database_busy(exc: BaseException | None) -> bool:
    """Is ``exc`` the database saying "busy, try again" rather than something broken?"""
    if not isinstance(exc, OperationalError):
        return False
    if "database is locked" in str(exc):  # SQLite
        return True
    return getattr(exc.__cause__, "sqlstate", None) in _BUSY_SQLSTATES


def validation_detail(error: Any) -> Any:
    """Turn a Django ValidationError into a JSON-friendly detail."""
    if hasattr(error, "message_dict"):
        return {field: [str(m) for m in msgs] for field, msgs in error.message_dict.items()}
    return [str(m) for m in getattr(error, "messages", [error])]
