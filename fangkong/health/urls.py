from django.urls import path

from . import views

app_name = "health"
urlpatterns = [
    path("d/", views.link_shell, name="link_shell"),
    path("d/sw.js", views.link_service_worker, name="link_sw"),
    path("d/<str:token>/", views.link_page, name="link"),
    path("d/<str:token>/manifest.webmanifest", views.link_manifest, name="link_manifest"),
    path("d/<str:token>/state", views.link_state, name="link_state"),
    path("d/<str:token>/declare", views.link_declare, name="link_declare"),
    path("divisions", views.divisions, name="divisions"),
    path("declare/", views.proxy_units, name="proxy_units"),
    path("unit/<id:unit_id>/declare/", views.proxy, name="proxy"),
    path("unit/<id:unit_id>/qr/", views.qr_sheet, name="qr_sheet"),
    path("person/<id:person_id>/", views.person_health, name="person"),
    path("person/<id:person_id>/link/<slug:action>/", views.person_link, name="person_link"),
    path("declarations/", views.declarations, name="declarations"),
    path("outbreak/", views.outbreak_profile, name="outbreak"),
    path("declarations/export/", views.declarations_export, name="declarations_export"),
]
