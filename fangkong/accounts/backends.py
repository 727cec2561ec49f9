"""Password log-in with a lock-out that parallel guesses cannot outrun.

Each attempt takes one of the username's ``LOGIN_FAILURE_LIMIT`` attempts *before* the
password is checked, with one atomic count in the shared throttle store; a success gives
them back. So a burst of parallel guesses gets at most the limit of password checks, and
the rest are refused unchecked until the window of ``LOGIN_LOCKOUT_MINUTES``, started by
the first attempt, ends. Usernames are counted whether or not the account exists, so the
lock-out (and its message) says nothing about which accounts exist. Failures are also
counted per client address (``login_ip``), against guessing many usernames.
"""

import datetime as dt
from typing import Any

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.core import throttle
from fangkong.core.network import address_key, client_address

from .models import User
from .services import login_failure_record, login_success_record


def _attempts() -> throttle.Limit:
    return throttle.Limit(settings.LOGIN_FAILURE_LIMIT, settings.LOGIN_LOCKOUT_MINUTES * 60)


def _until(count: throttle.Count) -> str:
    return f"{timezone.localtime(dt.datetime.fromtimestamp(count.expires, dt.UTC)):%H:%M}"


def login_refusal(request: HttpRequest | None, username: str) -> str | None:
    """Say why log-ins for ``username`` from this client are refused now, or None."""
    locked = throttle.exhausted("login_user", username, _attempts())
    if locked is not None:
        return _("Too many failed log-ins: the account is locked until %(time)s.") % {
            "time": _until(locked)
        }
    crowded = throttle.exhausted("login_ip", address_key(client_address(request)))
    if crowded is not None:
        return _("Too many failed log-ins from your network. Try again after %(time)s.") % {
            "time": _until(crowded)
        }
    return None


class LockoutModelBackend(ModelBackend):
    def authenticate(
        self, request: Any, username: str | None = None, password: str | None = None, **kwargs: Any
    ) -> User | None:
        if username is None or password is None:
            return None
        address = address_key(client_address(request))
        if throttle.exhausted("login_ip", address) is not None:
            raise PermissionDenied  # stops authenticate() from trying further backends
        limit = _attempts()
        attempt = throttle.count("login_user", username, limit)
        if attempt.hits > limit.requests:
            raise PermissionDenied
        user = User.objects.filter(username=username).first()
        if user is None:
            User().set_password(password)  # same work as a real check: no timing oracle
        elif user.check_password(password) and self.user_can_authenticate(user):
            throttle.forget("login_user", username)
            login_success_record(user=user)
            return user
        throttle.hit("login_ip", address)
        if user is not None:
            last = attempt.hits >= limit.requests
            login_failure_record(
                user=user,
                failures=attempt.hits,
                locked_until=dt.datetime.fromtimestamp(attempt.expires, dt.UTC) if last else None,
            )
        return None
