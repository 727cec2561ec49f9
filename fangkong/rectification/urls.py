"""Rectification pages. Each concern keeps its views in its own module (the problem list
and pages, the import, supervision, the weekly bulletin)."""

from django.urls import path

from . import bulletin_views

app_name = "rectification"
urlpatterns: list = [
    # problems (views.py)
    # import (import_views.py)
    # supervision (supervision_views.py)
    # weekly bulletin (bulletin_views.py)
    path("bulletins/", bulletin_views.archive, name="bulletins"),
    path("bulletins/<id:bulletin_id>/", bulletin_views.bulletin_page, name="bulletin"),
    path(
        "bulletins/<id:bulletin_id>/bulletin.pdf",
        bulletin_views.bulletin_file,
        {"file_format": "pdf"},
        name="bulletin_pdf",
    ),
    path(
        "bulletins/<id:bulletin_id>/bulletin.xlsx",
        bulletin_views.bulletin_file,
        {"file_format": "xlsx"},
        name="bulletin_xlsx",
    ),
    path(
        "bulletins/<id:bulletin_id>/units/<id:unit_id>/<slug:figure>/",
        bulletin_views.counted,
        name="bulletin_counted",
    ),
    path(
        "bulletins/<id:bulletin_id>/<slug:action>/",
        bulletin_views.bulletin_action,
        name="bulletin_action",
    ),
]
