"""Service evaluation's staff pages. Each concern keeps its views in its own module; the
citizen's pages (no log-in) are in ``public_urls.py``."""

from django.urls import path

from . import staff_views

app_name = "evaluation"
urlpatterns: list = [
    # window staff: cases (staff_views.py)
    path("cases/new/", staff_views.case_new, name="case_new"),
    path("cases/<id:case_id>/", staff_views.case_detail, name="case"),
    path("cases/<id:case_id>/receipt/", staff_views.case_receipt, name="case_receipt"),
    # back office: catalogue, windows, staff, badges, profiles, tags (admin_views.py)
    # bad reviews (review_views.py)
    # figures, rankings, exports (figures_views.py)
]
