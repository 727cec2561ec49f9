"""Who acts and who reads, as one type each (see docs/architecture.md, "Scope").

- ``Actor``: who makes a change. A user, or ``None`` for the system itself (a queued job,
  a receiver, a migration, the demo): the system passes every permission check, and its
  audit rows have no user.
- ``Viewer``: who reads. Always a request's user: a ``User``, or Django's ``AnonymousUser``,
  which holds no role and therefore sees nothing that needs one.
"""

from typing import TypeAlias

from django.contrib.auth.models import AnonymousUser

from .models import User

Actor: TypeAlias = User | AnonymousUser | None
Viewer: TypeAlias = User | AnonymousUser


def acting_user(actor: Actor) -> User | None:
    """The user to record as the author of a write: None for the system or an anonymous caller."""
    return actor if isinstance(actor, User) and actor.is_authenticated else None


def viewer_id(viewer: Viewer) -> int:
    """The viewer's user id for "my own rows": 0, which no row has, for an anonymous viewer."""
    return viewer.pk if isinstance(viewer, User) else 0
