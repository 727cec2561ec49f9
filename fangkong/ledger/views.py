"""Ledger pages (being written)."""

from django.http import Http404, HttpRequest, HttpResponse


def _todo(request: HttpRequest, **kwargs: object) -> HttpResponse:
    raise Http404()


index = today = calendar_page = item_page = item_list = _todo
