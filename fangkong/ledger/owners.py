"""Who owns a new item: the tracker nearest above its unit, else the nearest unit admin.

Every kind that assigns its items to people on the spot (tracking cards, quarantine
placements) asks here. Configurable in settings: ``TRACKING_ASSIGNEE_ROLES`` (roles
searched first, nearest unit upwards; default tracker) and ``TRACKING_FALLBACK_ROLES``
(searched when no unit on the way up has the first roles; default unit admin). Everyone
active holding the winning role on the nearest unit that has it becomes an owner. One
query for any number of units.
"""

from collections.abc import Iterable

from django.conf import settings

from fangkong.accounts.models import RoleAssignment, User
from fangkong.accounts.roles import Role
from fangkong.core.paths import ancestor_paths


def assignee_roles() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Return (roles searched first, fallback roles) from the settings."""
    first = tuple(getattr(settings, "TRACKING_ASSIGNEE_ROLES", (Role.TRACKER,)))
    fallback = tuple(getattr(settings, "TRACKING_FALLBACK_ROLES", (Role.UNIT_ADMIN,)))
    return first, fallback


Roles = tuple[tuple[str, ...], tuple[str, ...]]


def owners_for_paths(paths: Iterable[str], roles: Roles | None = None) -> dict[str, list[User]]:
    """Return {unit path: [owner users]} for every given unit path ([] when nobody fits).

    ``roles`` is (roles searched first, fallback roles); by default the tracking settings'
    (a kind whose work is another role's, such as bad reviews for the centre's head, names
    its own).
    """
    wanted = set(paths)
    if not wanted:
        return {}
    first, fallback = roles or assignee_roles()
    ancestors = {ancestor for path in wanted for ancestor in ancestor_paths(path)}
    holders: dict[tuple[str, str], list[User]] = {}
    rows = (
        RoleAssignment.objects.filter(
            unit__path__in=ancestors,
            unit__valid_to__isnull=True,
            role__in={*first, *fallback},
            user__is_active=True,
        )
        .select_related("user", "unit")
        .order_by("user_id")
    )
    for row in rows:
        holders.setdefault((row.unit.path, row.role), []).append(row.user)
    return {
        path: _nearest(path, holders, first) or _nearest(path, holders, fallback) for path in wanted
    }


def _nearest(
    path: str, holders: dict[tuple[str, str], list[User]], roles: tuple[str, ...]
) -> list[User]:
    for ancestor in reversed(ancestor_paths(path)):
        found = [user for role in roles for user in holders.get((ancestor, role), [])]
        if found:
            return list({user.pk: user for user in found}.values())
    return []


def owners_for(unit_path: str, roles: Roles | None = None) -> list[User]:
    """Return the owners of a new item in the unit at ``unit_path``."""
    return owners_for_paths([unit_path], roles)[unit_path]
