"""Service evaluation's staff pages. Each concern keeps its views in its own module; the
citizen's pages (no log-in) are in ``public_urls.py``."""

from django.urls import path

from . import figures_views

app_name = "evaluation"
urlpatterns: list = [
    # window staff: cases (staff_views.py)
    # back office: catalogue, windows, staff, badges, profiles, tags (admin_views.py)
    # bad reviews (review_views.py)
    # figures, rankings, exports (figures_views.py)
    path("figures/", figures_views.figures, name="figures"),
]
