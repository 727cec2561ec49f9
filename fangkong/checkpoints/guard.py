"""The guard's scanner (门岗扫码): an installable web app at /guard/ that checks passes with
no network for a whole shift and hands every scan to the server exactly once.

Three addresses: the app's page (the shell the service worker keeps), its web app manifest
and the service worker itself, served from /guard/ so that its scope covers the app. The
work is done in the browser (``static/js/guard.js``, the verifier ``static/js/passverify.js``
and the QR decoder jsQR); the server side is the checkpoints API. See docs/guard-app.md.
"""

import functools
import json
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_GET

from fangkong.accounts.decorators import requires
from fangkong.accounts.roles import Perm
from fangkong.core.web import static_version
from fangkong.health.models import TEMPERATURE_MAX, TEMPERATURE_MIN
from fangkong.passes import format as fmt
from fangkong.passes import services as passes
from fangkong.passes.holders import PLATE_PATTERNS
from fangkong.passes.verify import DETAIL_MESSAGES, MESSAGES, WARNING_MESSAGES

from .models import Direction, Verdict

# What the service worker keeps for a shift without network, besides the page itself.
ASSETS = (
    "css/guard.css",
    "js/guard.js",
    "js/passverify.js",
    "vendor/jsqr/jsQR.js",
    "img/guard-192.png",
    "img/guard-512.png",
)
ICONS = (("img/guard-192.png", "192x192"), ("img/guard-512.png", "512x512"))


def asset_urls() -> list[str]:
    """The assets' addresses as served (hashed names in production)."""
    return [static(path) for path in ASSETS]


def _version() -> str:
    return static_version(ASSETS)


_version_once = functools.cache(_version)


def app_version() -> str:
    """Names the service worker's cache: any change to an asset changes it, and the new
    worker then fetches the new files and drops the old cache. Computed once per process
    (every request in development, where the files change under a running server)."""
    return _version() if settings.DEBUG else _version_once()


@never_cache
@login_required
@requires(Perm.RECORD_GATE)
@ensure_csrf_cookie
def app(request: HttpRequest) -> HttpResponse:
    """The scanner's page. Everything it shows comes from the API, so the same page,
    kept by the service worker, works offline."""
    root_point = bytes(passes.root_key().public_point)
    user = request.user
    config = {
        "user": user.get_username(),
        "user_name": str(user),
        "version": app_version(),
        "time_zone": settings.TIME_ZONE,
        "root_key": {
            "kid": fmt.key_id(root_point).hex(),
            "jwk": fmt.jwk_of(root_point),
            "hex": root_point.hex(),
        },
        "urls": {
            "app": reverse("guard:app"),
            "sw": reverse("guard:sw"),
            "login": f"{reverse('accounts:login')}?next={reverse('guard:app')}",
            "logout": reverse("accounts:logout"),
            "home": reverse("home"),
            "checkpoints": "/api/v1/checkpoints",
            "shifts": "/api/v1/checkpoints/my-shifts",
            "scans": "/api/v1/checkpoints/scans",
            "pass_scans": "/api/v1/checkpoints/pass-scans",
            "manual": "/api/v1/checkpoints/manual-entries",
            "trust_list": "/api/v1/passes/trust-list",
            "revocations": "/api/v1/passes/revocations",
        },
        # The verdict texts in the page's language, as the server's verifier words them.
        "messages": {code: str(text) for code, text in MESSAGES.items()},
        "details": {code: str(text) for code, text in DETAIL_MESSAGES.items()},
        "warnings": {code: str(text) for code, text in WARNING_MESSAGES.items()},
        "verdicts": {code: str(label) for code, label in Verdict.choices},
        "directions": {code: str(label) for code, label in Direction.choices},
        # Checked on the phone before a scan is kept, by the server's own rules: a record
        # the server would refuse must not wait in the queue for ever.
        "temperature": [TEMPERATURE_MIN, TEMPERATURE_MAX],
        "plate_patterns": [pattern.pattern for pattern in PLATE_PATTERNS],
        "kinds": {
            "person": _("Person"),
            "vehicle": _("Vehicle"),
            "visitor": _("Visitor"),
        },
    }
    return render(
        request,
        "checkpoints/guard.html",
        {"config": config, "texts": texts(), "icon": ICONS[0][0]},
    )


def texts() -> dict[str, str]:
    """What the app's script says, in the page's language. ``%(name)s`` is filled in there."""
    return {
        "admitted": _("Admitted"),
        "refused": _("Entry refused"),
        "online_check": _("Checked online"),
        "offline_check": _("Checked offline"),
        "online": _("Online"),
        "offline": _("Offline"),
        "waiting": _("%(n)s waiting to be sent"),
        "all_sent": _("All records sent"),
        "rejected": _("%(n)s records were refused by the server: %(message)s"),
        "lists_never": _("No trust list yet: connect to the network once to download the lists."),
        "lists_age": _("The pass lists were last updated %(age)s ago: connect to sync them."),
        "lists_fresh": _("Pass lists updated %(time)s."),
        "drift": _(
            "The phone's clock is %(minutes)s minutes off the server's: set the phone's time. "
            "The scanner keeps the server's time."
        ),
        "hours_minutes": _("%(h)s h %(m)s min"),
        "minutes": _("%(m)s min"),
        "never_synced": _("Not synced yet"),
        "sync_failed": _("Sync failed; trying again in %(s)s s."),
        "syncing": _("Syncing…"),
        "todays_post": _("Today's post"),
        "next_shift": _("Next shift"),
        "no_shift": _("No shift in the roster for today: choose the checkpoint."),
        "choose_checkpoint": _("Choose the checkpoint first."),
        "camera_failed": _("The camera cannot be used: take or choose a photo of the code."),
        "camera_on": _("Hold the code in front of the camera."),
        "no_code": _("No pass code was found in this picture."),
        "manual_offline": _("Manual entry needs the network."),
        "manual_needs": _("Enter an ID number or a plate."),
        "temperature": _("Enter a temperature between %(low)s and %(high)s °C.")
        % {"low": TEMPERATURE_MIN, "high": TEMPERATURE_MAX},
        "fever": _("Temperature %(t)s °C at or above %(threshold)s °C: entry refused."),
        "plate": _(
            "Not a Chinese number plate: a province, a letter and 5 letters or "
            "digits (6 for a new-energy vehicle), such as 鲁C12345 or 鲁CD12345."
        ),
        "pin_set": _("Set a PIN of 4 to 6 digits: it unlocks the scanner after the phone sleeps."),
        "pin_repeat": _("Enter the same PIN again."),
        "pin_mismatch": _("The two PINs differ. Start again."),
        "pin_enter": _("Enter your PIN to unlock the scanner."),
        "pin_wrong": _("Wrong PIN."),
        "pin_wait": _("Too many wrong PINs: wait %(s)s s."),
        "pin_digits": _("A PIN has 4 to 6 digits."),
        "forgot_offline": _("Logging in again needs the network."),
    }


@require_GET
def manifest(request: HttpRequest) -> JsonResponse:
    """The web app manifest: installed from /guard/, it opens there, full screen."""
    start = reverse("guard:app")
    return JsonResponse(
        {
            "name": _("Gate scanner"),
            "short_name": _("Gate scanner"),
            "description": _("Checks passes at the gate, with or without a network."),
            "lang": get_language(),
            "start_url": start,
            "scope": start,
            "display": "standalone",
            "orientation": "portrait",
            "background_color": "#111827",
            "theme_color": "#0f766e",
            "icons": [
                {"src": static(path), "sizes": size, "type": "image/png", "purpose": "any"}
                for path, size in ICONS
            ],
        },
        content_type="application/manifest+json",
        json_dumps_params={"ensure_ascii": False},
    )


@require_GET
def service_worker(request: HttpRequest) -> HttpResponse:
    """The service worker, from /guard/ so that its scope is the app (no header needed).
    Never cached by HTTP: the browser compares it byte for byte to find a new version."""
    context: dict[str, Any] = {
        "cache": f"fangkong-guard-{app_version()}",
        "shell": json.dumps(reverse("guard:app")),
        "manifest": json.dumps(reverse("guard:manifest")),
        "assets": json.dumps(asset_urls()),
    }
    response = render(request, "checkpoints/guard_sw.js", context, content_type="text/javascript")
    response["Cache-Control"] = "no-cache"
    return response
