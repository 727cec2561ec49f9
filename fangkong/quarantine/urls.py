from django.urls import path

from . import views

app_name = "quarantine"
urlpatterns = [
    path("", views.placements, name="placements"),
    path("export/", views.placements_export, name="placements_export"),
    path("new/", views.placement_new, name="placement_new"),
    path("<id:placement_id>/", views.placement_detail, name="placement"),
    path("<id:placement_id>/notice.pdf", views.notice, name="notice"),
    path("<id:placement_id>/<slug:action>/", views.placement_action, name="placement_action"),
    path("sites/", views.sites, name="sites"),
    path("sites/<id:site_id>/", views.site_detail, name="site"),
    path("sites/<id:site_id>/<slug:action>/", views.site_action, name="site_action"),
    path("trips/", views.trips, name="trips"),
    path("trips/export/", views.trips_export, name="trips_export"),
    path("trips/new/", views.trip_new, name="trip_new"),
    path("trips/<id:trip_id>/", views.trip_detail, name="trip"),
]
