"""Refuse malformed input at the door, before any view or API operation sees it.

One rule for every page and endpoint (docs/architecture.md, "Input at the boundary"):
- a body larger than ``MAX_REQUEST_BYTES`` answers 413;
- a query parameter, form field or JSON string holding a forbidden character (control
  characters other than tab and line breaks, lone surrogates: ``core.text``) answers 400;
- a JSON body that is not a JSON object, or that holds NaN or Infinity, answers 400.
The answer is the standard error body (JSON for the API and for clients that ask for JSON,
the error page otherwise), in the request's language, and nothing is stored.
"""

import json
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from django.utils.translation import gettext as _

from .errors import ApplicationError
from .text import forbidden_character_in
from .web import error_json, error_page, wants_json

BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


class BadRequest(ApplicationError):
    code = "bad_request"
    status = 400


class TooLarge(ApplicationError):
    code = "too_large"
    status = 413


class RequestGuardMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            _check(request)
        except ApplicationError as error:
            return _refusal(request, error)
        return self.get_response(request)


def _check(request: HttpRequest) -> None:
    _check_size(request)
    _check_fields("query", request.GET.lists())
    content_type = request.content_type or ""
    is_json = content_type == "application/json" or content_type.endswith("+json")
    if is_json and request.method in BODY_METHODS:  # no endpoint reads a GET/DELETE body
        _check_json(request.body)
    elif request.method == "POST" and content_type in (
        "application/x-www-form-urlencoded",
        "multipart/form-data",
    ):
        try:
            fields = request.POST.lists()
        except MultiPartParserError as exc:
            raise BadRequest(_("The form could not be read; send it again.")) from exc
        _check_fields("form", fields)


def _check_size(request: HttpRequest) -> None:
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise BadRequest(_("The request's Content-Length is not a number.")) from None
    limit = settings.MAX_REQUEST_BYTES
    if length > limit:
        raise TooLarge(
            _("The request is too large: at most %(mb)d MB may be sent at once.")
            % {"mb": limit // (1024 * 1024)}
        )


def _check_fields(where: str, fields: Iterable[tuple[str, list[Any]]]) -> None:
    for name, values in fields:
        for text in (name, *values):
            if isinstance(text, str) and forbidden_character_in(text) is not None:
                raise _forbidden(name)


def json_object(body: bytes) -> dict[str, Any]:
    """Read a request body that must be one JSON object; refuse it as the guard does.

    For a view that reads JSON whatever the Content-Type says (the guard checks the
    bodies that declare it).
    """
    try:
        data = json.loads(body, parse_constant=_no_constants)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        raise BadRequest(
            _("The request body is not valid JSON: %(reason)s") % {"reason": _reason(exc)}
        ) from None
    if not isinstance(data, dict):  # every body here is an object; ``true`` is not {}
        raise BadRequest(_("The request body must be a JSON object, {…}."))
    return data


def _check_json(body: bytes) -> None:
    if not body:
        return
    data = json_object(body)
    for path, text in _strings(data, ""):
        if forbidden_character_in(text) is not None:
            raise _forbidden(path or "body")


def _no_constants(name: str) -> Any:
    raise ValueError(_("%(name)s is not a number JSON allows.") % {"name": name})


def _reason(exc: Exception) -> str:
    return str(exc) if isinstance(exc, ValueError) and "allows" in str(exc) else _("malformed")


def _strings(data: Any, path: str) -> Iterator[tuple[str, str]]:
    """Yield (field path, text) for every key and string value in a JSON document."""
    if isinstance(data, str):
        yield path, data
    elif isinstance(data, dict):
        for key, value in data.items():
            inner = f"{path}.{key}" if path else str(key)
            yield inner, key
            yield from _strings(value, inner)
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from _strings(value, f"{path}.{index}" if path else str(index))


def _forbidden(field: str) -> BadRequest:
    message = _(
        "Remove the control character from this field (only tab and line breaks are allowed)."
    )
    return BadRequest(
        _("The text holds an invisible control character, which is not allowed."),
        detail={_printable(field): [message]},
    )


def _printable(field: str) -> str:
    """A field name as it may be shown back: forbidden characters replaced by U+FFFD."""
    return "".join("\ufffd" if forbidden_character_in(c) else c for c in field)


def _refusal(request: HttpRequest, error: ApplicationError) -> HttpResponse:
    if _wants_json(request):
        return error_json(error)
    return error_page(request, error)


def _wants_json(request: HttpRequest) -> bool:
    """The API, and a client that asked for JSON or sent it, get the error body."""
    return (
        request.path.startswith("/api/")
        or wants_json(request)
        or (request.content_type or "").endswith("json")
    )
