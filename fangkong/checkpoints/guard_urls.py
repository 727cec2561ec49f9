"""/guard/: the guard's scanner app (fangkong/checkpoints/guard.py)."""

from django.urls import path

from . import guard

app_name = "guard"
urlpatterns = [
    path("", guard.app, name="app"),
    path("manifest.webmanifest", guard.manifest, name="manifest"),
    path("sw.js", guard.service_worker, name="sw"),
]
