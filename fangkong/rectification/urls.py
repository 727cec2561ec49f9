"""Rectification pages. Each concern keeps its views in its own module (the problem list
and pages, the import, supervision, the weekly bulletin)."""

from django.urls import path

from . import import_views

app_name = "rectification"
urlpatterns: list = [
    # problems (views.py)
    # import (import_views.py)
    path("import/", import_views.import_page, name="import"),
    path("import/template/", import_views.import_template, name="import_template"),
    path("import/<str:token>/", import_views.import_preview, name="import_preview"),
    path("import/<str:token>/commit/", import_views.import_commit, name="import_commit"),
    # supervision (supervision_views.py)
    # weekly bulletin (bulletin_views.py)
]
