"""Rectification pages. Each concern keeps its views in its own module (the problem list
and pages, the import, supervision, the weekly bulletin)."""

from django.urls import path

from . import supervision_views

app_name = "rectification"
urlpatterns: list = [
    # problems (views.py)
    # import (import_views.py)
    # supervision (supervision_views.py)
    path("supervision/", supervision_views.supervision_list, name="supervision_list"),
    path("supervision/export/", supervision_views.supervision_export, name="supervision_export"),
    path(
        "supervision/issue/<id:item_pk>/",
        supervision_views.supervision_issue,
        name="supervision_issue",
    ),
    path("supervision/<id:pk>/", supervision_views.supervision_order, name="supervision_order"),
    path("supervision/<id:pk>/end/", supervision_views.supervision_end, name="supervision_end"),
    # weekly bulletin (bulletin_views.py)
]
