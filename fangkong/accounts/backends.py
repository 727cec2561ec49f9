"""Password log-in that refuses locked accounts and counts failures."""

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied

from .models import User
from .services import login_failure_record, login_success_record


class LockoutModelBackend(ModelBackend):
    def authenticate(
        self, request: Any, username: str | None = None, password: str | None = None, **kwargs: Any
    ) -> User | None:
        if username is None or password is None:
            return None
        user = User.objects.filter(username=username).first()
        if user is None:
            User().set_password(password)  # same work as a real check: no timing oracle
            return None
        if user.is_locked:
            raise PermissionDenied  # stops authenticate() from trying further backends
        if user.check_password(password) and self.user_can_authenticate(user):
            login_success_record(user=user)
            return user
        login_failure_record(user=user)
        return None
