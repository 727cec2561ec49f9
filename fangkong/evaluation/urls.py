"""Service evaluation's staff pages. Each concern keeps its views in its own module; the
citizen's pages (no log-in) are in ``public_urls.py``."""

from django.urls import path

from . import admin_views, figures_views, review_views, staff_views

app_name = "evaluation"
urlpatterns: list = [
    # window staff: cases (staff_views.py)
    path("cases/new/", staff_views.case_new, name="case_new"),
    path("cases/<id:case_id>/", staff_views.case_detail, name="case"),
    path("cases/<id:case_id>/receipt/", staff_views.case_receipt, name="case_receipt"),
    # back office: catalogue, windows, staff, badges, profiles, tags (admin_views.py)
    path("admin/", admin_views.services_list, name="admin_services"),
    path("admin/export/", admin_views.services_export, name="admin_services_export"),
    path("admin/import/", admin_views.services_import, name="admin_services_import"),
    path("admin/template.xlsx", admin_views.services_template, name="admin_services_template"),
    path("admin/services/<id:pk>/", admin_views.service_edit, name="admin_service"),
    path("admin/windows/", admin_views.windows, name="admin_windows"),
    path("admin/windows/export/", admin_views.windows_export, name="admin_windows_export"),
    path("admin/staff/", admin_views.staff, name="admin_staff"),
    path("admin/staff/export/", admin_views.staff_export, name="admin_staff_export"),
    path("admin/staff/<id:pk>/leave/", admin_views.staff_leave, name="admin_staff_leave"),
    path("admin/badges/", admin_views.badges, name="admin_badges"),
    path("admin/badges/export/", admin_views.badges_export, name="admin_badges_export"),
    path("admin/badges/sheet.pdf", admin_views.badge_sheet, name="admin_badge_sheet"),
    path("admin/badges/<id:pk>/badge.pdf", admin_views.badge_pdf, name="admin_badge_pdf"),
    path("admin/badges/<id:pk>/revoke/", admin_views.badge_revoke, name="admin_badge_revoke"),
    path("admin/profiles/", admin_views.profiles, name="admin_profiles"),
    path("admin/tags/", admin_views.tags, name="admin_tags"),
    # bad reviews (review_views.py)
    path("ratings/", review_views.ratings, name="ratings"),
    path("ratings/export/", review_views.ratings_export, name="ratings_export"),
    path("reviews/", review_views.reviews, name="reviews"),
    path("reviews/export/", review_views.reviews_export, name="reviews_export"),
    path("reviews/mine/", review_views.mine, name="reviews_mine"),
    path("reviews/coverage-gaps/", review_views.gaps, name="gaps"),
    path("reviews/<id:pk>/", review_views.review, name="review"),
    # figures, rankings, exports (figures_views.py)
    path("figures/", figures_views.figures, name="figures"),
]
