"""Helpers shared by the HTML views: error pages and paging (downloads: ``core.exports``)."""

import functools
from collections.abc import Callable
from typing import Any

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from .errors import ApplicationError
from .exports import XLSX

__all__ = ["XLSX", "page_context", "renders_app_errors"]


def renders_app_errors(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Render an ApplicationError raised by a view as a page with its status code."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except ApplicationError as exc:
            body = exc.as_body()
            return render(
                request,
                "error.html",
                {"message": body["message"], "detail": body["detail"]},
                status=exc.status,
            )

    return wrapper


def page_context(request: HttpRequest, items: Any, per_page: int = 50) -> dict[str, Any]:
    """Return the page of ``items`` the request asks for, with the query string to keep."""
    page = Paginator(items, per_page).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return {"page_obj": page, "query_without_page": query.urlencode()}
