from django.urls import path

from . import views

app_name = "travel"
urlpatterns = [
    path("r/<str:token>/", views.link_card, name="link"),
    path("file/", views.file_search, name="file_search"),
    path("person/<id:person_id>/card/", views.card_form, name="card_form"),
    path("person/<id:person_id>/itineraries/", views.person_itineraries, name="itineraries"),
    path("itinerary/<id:pk>/delete/", views.itinerary_delete, name="itinerary_delete"),
    path("card/<id:pk>/", views.card_detail, name="card"),
    path("card/<id:pk>/redecide/", views.card_redecide, name="card_redecide"),
    path("card/<id:pk>/close/", views.card_close, name="card_close"),
    path("returnees/", views.returnees, name="returnees"),
    path("returnees/export/", views.returnees_export, name="returnees_export"),
    path("risk-areas/", views.risk_areas, name="risk_areas"),
    path("risk-areas/set/", views.risk_area_set, name="risk_area_set"),
    path("risk-areas/<id:pk>/lift/", views.risk_area_lift, name="risk_area_lift"),
    path("risk-areas/import/", views.risk_area_import, name="risk_area_import"),
    path("risk-areas/template/", views.risk_area_template, name="risk_area_template"),
    path("risk-areas/history/", views.risk_area_history, name="risk_area_history"),
    path("rules/", views.rules, name="rules"),
    path("rules/unit/<id:unit_id>/", views.unit_rules, name="unit_rules"),
]
