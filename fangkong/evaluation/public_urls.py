"""The citizen's pages, no log-in: rating, badge scan, kiosk, follow-up review, and the
published figures (信息公开). Short prefixes: they go into QR codes."""

from django.urls import path  # noqa: F401  (the modules add their patterns)

app_name = "evaluation_public"
urlpatterns: list = [
    # rating, badge scan, kiosk, follow-up review (public_views.py)
    # published figures (publish_views.py)
]
