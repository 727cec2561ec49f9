from django.contrib.auth import views as auth_views
from django.urls import path

from . import views

app_name = "accounts"
urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("tokens/", views.tokens, name="tokens"),
    path("tokens/<id:token_id>/revoke/", views.token_revoke, name="token_revoke"),
    path("audit/", views.audit_log, name="audit"),
    path("users/", views.users, name="users"),
    path("users/roles/<id:assignment_id>/revoke/", views.role_revoke, name="role_revoke"),
]
