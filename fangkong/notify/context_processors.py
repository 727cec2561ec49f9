"""The unread-inbox count for the navigation bar."""

from functools import cache
from typing import Any

from django.http import HttpRequest

from .selectors import inbox_unread_count


def inbox(request: HttpRequest) -> dict[str, Any]:
    """Offer ``inbox_unread``; the count runs only if a template shows it, once a request."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"inbox_unread": cache(lambda: inbox_unread_count(user))}
