"""Rectification pages. Each concern keeps its views in its own module (the problem list
and pages, the import, supervision, the weekly bulletin)."""

from django.urls import path

from . import bulletin_views, import_views, supervision_views, views

app_name = "rectification"
urlpatterns: list = [
    # problems (views.py)
    path("", views.problems, name="problems"),
    path("export/", views.problems_export, name="export"),
    path("new/", views.problem_new, name="new"),
    path("figures/", views.figures, name="figures"),
    path("<id:problem_id>/", views.problem_page, name="problem"),
    path("<id:problem_id>/<slug:action>/", views.problem_action, name="action"),
    path("evidence/<id:evidence_id>/", views.evidence_download, name="evidence"),
    # import (import_views.py)
    path("import/", import_views.import_page, name="import"),
    path("import/template/", import_views.import_template, name="import_template"),
    path("import/<str:token>/", import_views.import_preview, name="import_preview"),
    path("import/<str:token>/commit/", import_views.import_commit, name="import_commit"),
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
