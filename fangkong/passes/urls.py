from django.urls import path

from . import views

app_name = "passes"
urlpatterns = [
    path("", views.passes, name="list"),
    path("export/", views.passes_export, name="export"),
    path("new/printed/", views.pass_printed, name="printed"),
    path("new/<slug:kind>/", views.pass_new, name="new"),
    path("<id:pass_id>/", views.pass_detail, name="detail"),
    path("<id:pass_id>/card.pdf", views.pass_card, name="card"),
    path("<id:pass_id>/revoke/", views.pass_revoke, name="revoke"),
    path("p/<str:token>/", views.phone, name="phone"),
    path("p/<str:token>/state", views.phone_state_json, name="phone_state"),
    path("p/<str:token>/device-key", views.phone_device_key, name="phone_device_key"),
    path("v/<str:token>/", views.pass_link, name="link"),
]
