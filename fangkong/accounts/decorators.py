"""The permission decorator for pages, in the style of Wagtail's permission checkers."""

import functools
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse

from fangkong.core.web import renders_app_errors

from .roles import Perm
from .selectors import require_perm, user_has_perm_anywhere

View = Callable[..., HttpResponse]


def requires(perm: Perm, *alternatives: Perm) -> Callable[[View], View]:
    """Open the page only to users holding ``perm`` (or any of ``alternatives``) somewhere.

    This is ``require_perm`` without a path: the page lists rows filtered by scope, and
    whoever holds none of the permissions anywhere gets the 403 error page. Checks on one
    object stay in the selectors (404) and services (``require_perm`` at its path).

    Put it under ``@login_required``, so that an anonymous visitor is sent to log in rather
    than refused. A refusal is rendered as ``renders_app_errors`` renders it, with or
    without that decorator around.
    """

    def decorator(view: View) -> View:
        @functools.wraps(view)
        def checked(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not any(user_has_perm_anywhere(request.user, other) for other in alternatives):
                require_perm(request.user, perm)
            return view(request, *args, **kwargs)

        return renders_app_errors(checked)

    return decorator
