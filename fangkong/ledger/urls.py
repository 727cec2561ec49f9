from django.urls import path

from . import views

app_name = "ledger"
urlpatterns = [
    path("", views.index, name="index"),
    path("today/", views.today, name="today"),
    path("calendar/", views.calendar_page, name="calendar"),
    path("item/<id:pk>/", views.item_page, name="item"),
    path("item/<id:pk>/<slug:action>/", views.item_action, name="item_action"),
    path("<slug:kind>/", views.item_list, name="list"),
    path("<slug:kind>/export/", views.item_export, name="export"),
]
