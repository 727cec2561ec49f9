from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path, register_converter

from fangkong.accounts.views import jobs, schedule_run
from fangkong.api.api import api
from fangkong.core import views as core_views
from fangkong.core.converters import ObjectIdConverter
from fangkong.core.views import favicon, healthz
from fangkong.reports.views import home

register_converter(ObjectIdConverter, "id")  # before the apps' urls.py are included
# Error answers in the user's language (fangkong/core/views.py), not Django's English pages.
handler400 = core_views.bad_request
handler403 = core_views.permission_denied
handler404 = core_views.page_not_found
handler500 = core_views.server_error  # 503 when SQLite was only busy; else templates/500.html

urlpatterns = [
    path("", home, name="home"),
    path("healthz", healthz, name="healthz"),
    # Before the other apps: the personal links are most of the morning's requests, and
    # each pattern tried before theirs costs every one of them.
    path("health/", include("fangkong.health.urls")),
    path("favicon.ico", favicon, name="favicon"),
    path("jobs/", jobs, name="jobs"),
    path("jobs/schedules/<id:schedule_id>/run/", schedule_run, name="schedule_run"),
    path("api/v1/", api.urls),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/", include("fangkong.accounts.urls")),
    path("notify/", include("fangkong.notify.urls")),
    path("ledger/", include("fangkong.ledger.urls")),
    path("quarantine/", include("fangkong.quarantine.urls")),
    path("travel/", include("fangkong.travel.urls")),
    path("reports/", include("fangkong.reports.urls")),
    path("tracking/", include("fangkong.tracking.urls")),
    path("checkpoints/", include("fangkong.checkpoints.urls")),
    path("guard/", include("fangkong.checkpoints.guard_urls")),
    path("passes/", include("fangkong.passes.urls")),
    path("rectification/", include("fangkong.rectification.urls")),
    path("evaluation/", include("fangkong.evaluation.urls")),
    path("e/", include("fangkong.evaluation.public_urls")),
    path("", include("fangkong.orgs.urls")),
]
if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
