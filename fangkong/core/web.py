"""Helpers shared by the HTML views: error pages and paging (downloads: ``core.exports``)."""

import functools
import hashlib
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from django.contrib.staticfiles import finders
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.templatetags.static import static

from .errors import ApplicationError, Throttled
from .exports import XLSX

__all__ = [
    "XLSX",
    "error_json",
    "form_refusal",
    "kept_private",
    "page_context",
    "renders_app_errors",
    "static_version",
    "throttled",
    "wants_json",
]


def kept_private(response: HttpResponse) -> HttpResponse:
    """Keep an answer out of caches, search engines and referrers: a page whose URL is a
    credential (a personal link, a visitor's link), and any error answer (it may be one's)."""
    response["Cache-Control"] = "private, no-store"
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def wants_json(request: HttpRequest) -> bool:
    """Did the client ask for JSON (the phone's outbox does) rather than a page?"""
    return "application/json" in request.headers.get("Accept", "")


def error_json(error: ApplicationError) -> JsonResponse:
    """The standard error body {code, message, detail} with the error's status."""
    return JsonResponse(error.as_body(), status=error.status)


def throttled(
    request: HttpRequest, wait: int, *, page: str = "error.html", error: Throttled | None = None
) -> HttpResponse:
    """429 with Retry-After: the error body for JSON clients, else ``page`` with the message."""
    error = error or Throttled()
    response = (
        error_json(error)
        if wants_json(request)
        else render(request, page, {"message": error.message}, status=error.status)
    )
    response["Retry-After"] = str(max(1, wait))
    return response


def renders_app_errors(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Render an ApplicationError raised by a view as a page with its status code."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except ApplicationError as exc:
            return error_page(request, exc)

    return wrapper


def error_page(request: HttpRequest, error: ApplicationError) -> HttpResponse:
    """The error as a page: its message, and each field's problem under it."""
    message = str(error.message)
    problems = [text for text in error.field_messages() if text != message]
    context = {"message": message, "problems": problems}
    return render(request, "error.html", context, status=error.status)


def form_refusal(
    error: ApplicationError, request: HttpRequest, fields: Iterable[str]
) -> dict[str, Any]:
    """A refused form's page context: what was typed in ``fields``, each field's problems,
    and the message to show above the form when none of them is named (templates/_field.html
    shows a field with what was typed and its problems)."""
    fields = tuple(fields)
    detail = error.detail if isinstance(error.detail, dict) else {}
    return {
        "values": {name: request.POST.get(name, "") for name in fields},
        "errors": {name: [str(m) for m in problems] for name, problems in detail.items()},
        "text": "" if detail and set(detail) & set(fields) else error.as_text(),
        "status": error.status,  # the page's, as the refusal's (422, 404, 409 ...)
    }


def page_context(request: HttpRequest, items: Any, per_page: int = 50) -> dict[str, Any]:
    """Return the page of ``items`` the request asks for, with the query string to keep."""
    page = Paginator(items, per_page).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return {"page_obj": page, "query_without_page": query.urlencode()}


def static_version(paths: Iterable[str], *extra: bytes) -> str:
    """A short digest of static files' addresses and contents (and of ``extra`` bytes, such
    as a page a service worker keeps): it names a service worker's cache, so that any
    change to what is kept installs a new worker, which fetches it again."""
    digest = hashlib.sha256()
    for path in paths:
        digest.update(static(path).encode())
        found = finders.find(path)
        if isinstance(found, str):
            digest.update(Path(found).read_bytes())
    for part in extra:
        digest.update(part)
    return digest.hexdigest()[:16]
