from django.urls import path

from . import views

app_name = "orgs"
urlpatterns = [
    path("units/", views.tree, name="tree"),
    path("units/export/", views.units_export, name="units_export"),
    path("units/<id:unit_id>/", views.unit_detail, name="unit"),
    path("units/<id:unit_id>/children/", views.tree_children, name="children"),
    path("units/<id:unit_id>/<slug:action>/", views.unit_action, name="unit_action"),
    path("people/", views.people, name="people"),
    path("people/export/", views.people_export, name="people_export"),
    path("people/<id:person_id>/", views.person_detail, name="person"),
    path("people/duplicates/", views.duplicates, name="duplicates"),
    path("people/merge/", views.merge, name="merge"),
    path("imports/", views.imports, name="imports"),
    path("imports/<id:job_id>/", views.import_detail, name="import_detail"),
    path("imports/<id:job_id>/commit/", views.import_commit, name="import_commit"),
    path("imports/<id:job_id>/rejected/", views.import_rejected, name="import_rejected"),
    path("imports/template/<str:kind>/", views.import_template, name="import_template"),
]
