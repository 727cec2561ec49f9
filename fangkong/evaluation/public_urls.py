"""The citizen's pages, no log-in: rating, badge scan, kiosk, follow-up review, and the
published figures (信息公开). Short prefixes: they go into QR codes."""

from django.urls import path

from . import publish_views

app_name = "evaluation_public"
urlpatterns: list = [
    # rating, badge scan, kiosk, follow-up review (public_views.py)
    # published figures (publish_views.py)
    path("p/<str:code>/", publish_views.public_page, name="published"),
    path("p/<str:code>/report/<str:month>.pdf", publish_views.public_report, name="report"),
]
