from django.urls import path

from . import views

app_name = "checkpoints"
urlpatterns = [
    path("", views.log, name="log"),
    path("export/", views.log_export, name="log_export"),
    path("entry/", views.entry, name="entry"),
    path("refusals/", views.refusals, name="refusals"),
    path("log/<id:event_id>/override/", views.override, name="override"),
    path("sites/", views.sites, name="sites"),
    path("sites/<id:site_id>/", views.site_detail, name="site"),
    path("points/<id:checkpoint_id>/", views.checkpoint_detail, name="checkpoint"),
    path("visitors/", views.visitors, name="visitors"),
    path("visitors/export/", views.visitors_export, name="visitors_export"),
    path("visitors/<id:visitor_id>/", views.visitor_detail, name="visitor"),
    path("visitors/<id:visitor_id>/cancel/", views.visitor_cancel, name="visitor_cancel"),
    path("watch-list/", views.watch_list, name="watch"),
    path("rosters/", views.rosters, name="rosters"),
    path("rosters/import/", views.roster_import, name="roster_import"),
    path("rosters/template.xlsx", views.roster_template, name="roster_template"),
]
