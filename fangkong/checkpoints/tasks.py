"""The roster's periodic job: alert a site's admins when a post has nobody at shift start."""

import datetime as dt

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.accounts.models import RoleAssignment, User
from fangkong.accounts.roles import Role
from fangkong.core.paths import ancestor_paths
from fangkong.notify.models import Event
from fangkong.notify.services import notify

from .models import Post, UnstaffedAlert
from .selectors import guard_on, shift_start
from .services import guards_of

# A shift that started this long ago without a guard is still reported (a missed run).
LATE_ENOUGH = dt.timedelta(minutes=30)


def unstaffed_sweep() -> int:
    """Alert once per post and day whose shift has started with no guard rostered.

    A rostered guard who no longer holds the guard role at the site counts as nobody.
    Returns the number of alerts raised.
    """
    now = timezone.now()
    raised = 0
    posts = Post.objects.filter(is_active=True, checkpoint__is_active=True).select_related(
        "checkpoint", "checkpoint__site"
    )
    for post in posts.prefetch_related("slots__guard"):
        day = timezone.localdate()
        starts = shift_start(post, day)
        if not starts <= now < starts + LATE_ENOUGH:
            continue
        guard = guard_on(post, day)
        if guard is not None and guards_of(post.site_path).filter(pk=guard.pk).exists():
            continue
        raised += _alert(post, day, starts)
    return raised


def site_admins(site_path: str) -> list[User]:
    """The unit admins nearest above the site (the plant's own, else its enterprise's)."""
    rows = RoleAssignment.objects.filter(
        role=Role.UNIT_ADMIN,
        unit__path__in=ancestor_paths(site_path),
        unit__valid_to__isnull=True,
        user__is_active=True,
    ).select_related("user", "unit")
    by_path: dict[str, list[User]] = {}
    for row in rows:
        by_path.setdefault(row.unit.path, []).append(row.user)
    for path in reversed(ancestor_paths(site_path)):
        if path in by_path:
            return by_path[path]
    return []


def _alert(post: Post, day: dt.date, starts: dt.datetime) -> int:
    try:
        with transaction.atomic():
            UnstaffedAlert.objects.create(post=post, day=day)
            site = post.checkpoint.site
            notify(
                event=Event.POST_UNSTAFFED,
                unit=site,
                subject=_("%(site)s: post %(post)s has no guard")
                % {"site": site.place, "post": post.name},
                body=_("The shift at %(checkpoint)s started at %(time)s with nobody on duty.")
                % {
                    "checkpoint": post.checkpoint.name,
                    "time": timezone.localtime(starts).strftime("%H:%M"),
                },
                link=reverse("checkpoints:rosters"),
                to_users=site_admins(post.site_path),
            )
    except IntegrityError:  # another run raised it first
        return 0
    return 1
