from django.http import HttpRequest, HttpResponsePermanentRedirect, JsonResponse
from django.templatetags.static import static
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from .health import database_health, queue_health


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
