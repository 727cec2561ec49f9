"""Permission checks for core's own pages.

core sits below accounts and cannot import its scopes; accounts installs its check here in
``AccountsConfig.ready``. Until then only superusers pass, so a missing wiring fails closed.
"""

from collections.abc import Callable
from typing import Any

Checker = Callable[[Any, str], bool]


def _superuser_only(user: Any, perm: str) -> bool:
    return bool(getattr(user, "is_superuser", False) and getattr(user, "is_active", False))


_checker: Checker = _superuser_only


def install_checker(checker: Checker) -> None:
    """Use ``checker(user, perm)`` to decide whether a user holds ``perm`` anywhere."""
    global _checker
    _checker = checker


def user_may(user: Any, perm: str) -> bool:
    """Tell whether ``user`` holds the permission named ``perm`` on some subtree."""
    return _checker(user, perm)
