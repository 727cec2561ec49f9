from django.urls import path

from . import views

app_name = "reports"
urlpatterns = [
    path("", views.board, name="board"),
    path("export/", views.board_export, name="board_export"),
    path("today/", views.today, name="today"),
    path("attest/", views.attest, name="attest"),
    path("rollup/", views.rollup, name="rollup"),
    path("people/", views.people, name="people"),
    path("people/export/", views.people_export, name="people_export"),
]
