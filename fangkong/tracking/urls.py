from django.urls import path

from . import views

app_name = "tracking"
urlpatterns = [
    path("", views.home, name="home"),
    path("open/", views.card_open, name="open"),
    path("card/<id:pk>/close/", views.card_close, name="close"),
    path("contacts/", views.contacts, name="contacts"),
    path("contacts/export/", views.contacts_export, name="contacts_export"),
    path("cases/", views.cases, name="cases"),
    path("cases/<id:person_id>/", views.case_tree, name="case"),
]
