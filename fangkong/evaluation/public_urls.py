"""The citizen's pages, no log-in: rating, badge scan, kiosk, follow-up review, and the
published figures (信息公开). Short prefixes: they go into QR codes."""

from django.urls import path

from . import public_views, publish_views

app_name = "evaluation_public"
urlpatterns: list = [
    # rating, badge scan, kiosk, follow-up review (public_views.py)
    path("r/<str:token>/", public_views.rate, name="rate"),
    path("b/<str:token>/", public_views.scan, name="scan"),
    path("k/<str:token>/", public_views.kiosk, name="kiosk"),
    path("k/<str:token>/next/", public_views.kiosk_next, name="kiosk_next"),
    path("f/<str:token>/", public_views.follow_up, name="follow_up"),
    # published figures (publish_views.py)
    path("p/<str:code>/", publish_views.public_page, name="published"),
    path("p/<str:code>/report/<str:month>.pdf", publish_views.public_report, name="report"),
]
