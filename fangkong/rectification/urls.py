"""Rectification pages. Each concern keeps its views in its own module (the problem list
and pages, the import, supervision, the weekly bulletin)."""

from django.urls import path  # noqa: F401  (the modules add their patterns)

app_name = "rectification"
urlpatterns: list = [
    # problems (views.py)
    # import (import_views.py)
    # supervision (supervision_views.py)
    # weekly bulletin (bulletin_views.py)
]
