import sys

from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect, JsonResponse
from django.templatetags.static import static
from django.utils.translation import gettext as _
from django.views import defaults
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from .errors import ApplicationError, Busy, NotFound, PermissionDenied, database_busy
from .health import database_health, queue_health
from .web import error_json, error_page, kept_private, wants_json


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Report the database and the task queue; 503 when either is down."""
    database, queue = database_health(), queue_health()
    ok = database["ok"] and queue["ok"]
    return JsonResponse({"ok": ok, "database": database, "queue": queue}, status=200 if ok else 503)


def favicon(request: HttpRequest) -> HttpResponsePermanentRedirect:
    """Browsers ask for /favicon.ico whatever a page says: send them to the icon, not a 404.

    The address is looked up per request, so a hashed static name (production) is right.
    """
    return HttpResponsePermanentRedirect(static("img/favicon.svg"))


# Django's own error answers (an address nothing serves, a refused request, an expired
# form) as the app's other errors: the error page in the user's language, or the JSON
# error body for a client that asked for JSON. Django's defaults are English pages.


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    return _error(
        request,
        NotFound(_("This page does not exist: its address may be mistyped or out of date.")),
    )


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    return _error(request, PermissionDenied())


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    return _error(request, ApplicationError())


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A form sent after its page expired (signed out meanwhile, or its cookie gone)."""
    expired = _("This form has expired. Go back, reload the page and send it again.")
    return _error(request, PermissionDenied(expired))


def _error(request: HttpRequest, error: ApplicationError) -> HttpResponse:
    # Kept private: the address may be a credential (a personal link with a typo).
    answer = error_json(error) if wants_json(request) else error_page(request, error)
    return kept_private(answer)


def server_error(request: HttpRequest) -> HttpResponse:
    """The 500 page (templates/500.html), or 503 with Retry-After when the database was
    only busy, its transaction undone: a SQLite writer that waited ``SQLITE_BUSY_SECONDS``
    for the others ("database is locked"), or PostgreSQL's deadlock or lock timeout. Django
    calls this while handling the view's exception, so ``sys.exc_info()`` is that exception.
    """
    if not database_busy(sys.exc_info()[1]):
        return kept_private(defaults.server_error(request))
    error = Busy()
    response = _error(request, error)
    response["Retry-After"] = str(error.wait)
    return response
