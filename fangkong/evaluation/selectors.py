"""Every read of service evaluation's back office and bad-review pages, scoped to the user.

Bad reviews are seen with ``VIEW_EVALUATION`` at the rating's unit; the back office
(windows, staff, badges) with ``MANAGE_SERVICES``; the catalogue of services is one for
the whole group and is listed to anyone who manages services somewhere. Getters raise
``NotFound`` outside the scope, so pages and the API answer 404.
"""

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from fangkong.accounts.actors import Viewer, viewer_id
from fangkong.accounts.models import User
from fangkong.accounts.roles import Perm
from fangkong.accounts.selectors import require_perm, scope_for
from fangkong.core.errors import NotFound
from fangkong.core.masking import name_masked
from fangkong.core.paths import subtree_q
from fangkong.core.retention import local_midnight
from fangkong.orgs.models import OrgUnit, UnitKind, place_related

from . import services
from .figures import BAD_REVIEW_FIGURES, Period, coverage, percent
from .ledger_kind import KIND
from .models import (
    GOOD_LEVELS,
    Badge,
    BadReview,
    Offering,
    Profile,
    Rating,
    Service,
    Staff,
    TagSet,
    Window,
)

SERVICE_UNIT_KINDS = (UnitKind.SERVICE_CENTRE, UnitKind.SERVICE_STATION)


def public_path(name: str, token: str, fallback: str) -> str:
    """The path of a citizen's page (another module's URL) for a signed token; the literal
    path while that page is not routed."""
    try:
        return reverse(f"evaluation_public:{name}", args=[token])
    except NoReverseMatch:
        return fallback


def badge_path(badge: Badge) -> str:
    token = services.badge_token(badge)
    return public_path("scan", token, f"/e/b/{token}/")


def kiosk_path(badge: Badge) -> str:
    """The window's tablet page (a window's code only)."""
    token = services.badge_token(badge)
    return public_path("kiosk", token, f"/e/k/{token}/")


def case_path(case: Any) -> str:
    token = services.case_token(case)
    return public_path("rate", token, f"/e/r/{token}/")


def follow_up_path(bad_review: BadReview) -> str:
    token = services.follow_up_token(bad_review)
    return public_path("follow_up", token, f"/e/f/{token}/")


def staff_page_url(name: str) -> str:
    """The address of another module's staff page, or "" while it is not routed (the home
    page then leaves its link out: no link there answers 404)."""
    try:
        return reverse(f"evaluation:{name}")
    except NoReverseMatch:
        return ""


def month_start(today: dt.date | None = None) -> dt.datetime:
    today = today or timezone.localdate()
    return local_midnight(today.replace(day=1))


# ------------------------------------------------------------------ catalogue


@dataclass
class ServiceFilter:
    q: str = ""
    category: str = ""
    active: str = ""  # "", "1", "0"


def services_search(user: Viewer, filters: ServiceFilter | None = None) -> QuerySet[Service]:
    require_perm(user, Perm.MANAGE_SERVICES)
    filters = filters or ServiceFilter()
    rows = Service.objects.annotate(n_offered=Count("offerings")).order_by("category", "code")
    if filters.q:
        rows = rows.filter(Q(code__icontains=filters.q) | Q(name__icontains=filters.q))
    if filters.category:
        rows = rows.filter(category=filters.category)
    if filters.active in ("1", "0"):
        rows = rows.filter(is_active=filters.active == "1")
    return rows


def service_categories() -> list[str]:
    return list(
        Service.objects.exclude(category="")
        .order_by("category")
        .values_list("category", flat=True)
        .distinct()
    )


def service_get(user: Viewer, pk: Any) -> Service:
    require_perm(user, Perm.MANAGE_SERVICES)
    found = Service.objects.filter(pk=pk).first()
    if found is None:
        raise NotFound()
    return found


def services_offered(user: Viewer) -> QuerySet[Service]:
    """Active services offered somewhere the user may see bad reviews or register cases."""
    scope = scope_for(user, Perm.VIEW_EVALUATION)
    cases = scope_for(user, Perm.REGISTER_CASES)
    offered = Offering.objects.filter(scope.q("unit_path") | cases.q("unit_path"))
    if scope.is_empty and cases.is_empty:
        offered = Offering.objects.none()
    return Service.objects.filter(is_active=True, pk__in=offered.values("service")).order_by(
        "category", "code"
    )


def offerings_visible(user: Viewer, service: Service | None = None) -> QuerySet[Offering]:
    rows = scope_for(user, Perm.MANAGE_SERVICES).filter(
        Offering.objects.select_related("service", "window", place_related("unit")), "unit_path"
    )
    if service is not None:
        rows = rows.filter(service=service)
    return rows.order_by("unit_path", "service__code")


# ------------------------------------------------------------------ units, windows, staff, badges


def service_units(user: Viewer, perm: Perm = Perm.MANAGE_SERVICES) -> QuerySet[OrgUnit]:
    """Centres and stations in the user's scope, in tree order."""
    return (
        scope_for(user, perm)
        .filter(OrgUnit.objects.filter(kind__in=SERVICE_UNIT_KINDS, valid_to__isnull=True), "path")
        .order_by("path")
    )


def service_unit_get(user: Viewer, pk: Any, perm: Perm = Perm.MANAGE_SERVICES) -> OrgUnit:
    found = service_units(user, perm).filter(pk=pk).first()
    if found is None:
        raise NotFound()
    return found


def windows_visible(user: Viewer, unit: OrgUnit | None = None) -> QuerySet[Window]:
    rows = scope_for(user, Perm.MANAGE_SERVICES).filter(
        Window.objects.select_related(place_related("unit")), "unit_path"
    )
    if unit is not None:
        rows = rows.filter(unit=unit)
    return rows.annotate(n_staff=Count("staff", filter=Q(staff__is_active=True))).order_by(
        "unit_path", "number"
    )


def window_get(user: Viewer, pk: Any) -> Window:
    found = windows_visible(user).filter(pk=pk).first()
    if found is None:
        raise NotFound()
    return found


def staff_visible(user: Viewer, *, q: str = "", active: bool | None = True) -> QuerySet[Staff]:
    rows = scope_for(user, Perm.MANAGE_SERVICES).filter(
        Staff.objects.select_related("user", "window", place_related("window__unit")),
        "window__unit_path",
    )
    if active is not None:
        rows = rows.filter(is_active=active)
    if q:
        rows = rows.filter(
            Q(name__icontains=q) | Q(staff_number__icontains=q) | Q(user__username__icontains=q)
        )
    return rows.order_by("window__unit_path", "window__number", "staff_number")


def staff_get(user: Viewer, pk: Any) -> Staff:
    found = staff_visible(user, active=None).filter(pk=pk).first()
    if found is None:
        raise NotFound()
    return found


def staff_accounts(user: Viewer, unit: OrgUnit) -> QuerySet[User]:
    """Accounts holding the window-staff role at or above ``unit``'s subtree, to assign."""
    from fangkong.accounts.models import RoleAssignment
    from fangkong.accounts.roles import Role

    holders = RoleAssignment.objects.filter(role=Role.WINDOW_STAFF).filter(
        Q(unit__path__in=_ancestors(unit.path)) | subtree_q("unit__path", unit.path)
    )
    return User.objects.filter(pk__in=holders.values("user"), is_active=True).order_by("username")


def _ancestors(path: str) -> list[str]:
    from fangkong.core.paths import ancestor_paths

    return list(ancestor_paths(path))


@dataclass
class BadgeFilter:
    unit: OrgUnit | None = None
    holder: str = ""
    revoked: str = ""  # "", "1", "0"


def badges_visible(user: Viewer, filters: BadgeFilter | None = None) -> QuerySet[Badge]:
    filters = filters or BadgeFilter()
    rows = scope_for(user, Perm.MANAGE_SERVICES).filter(
        Badge.objects.select_related(place_related("unit"), "window", "staff"), "unit_path"
    )
    if filters.unit is not None:
        rows = rows.filter(subtree_q("unit_path", filters.unit.path))
    if filters.holder:
        rows = rows.filter(holder=filters.holder)
    if filters.revoked in ("1", "0"):
        rows = rows.filter(revoked_at__isnull=filters.revoked == "0")
    return rows.order_by("unit_path", "window__number", "staff__staff_number", "pk")


def badge_get(user: Viewer, pk: Any) -> Badge:
    found = badges_visible(user).filter(pk=pk).first()
    if found is None:
        raise NotFound()
    return found


def profiles(user: Viewer) -> QuerySet[Profile]:
    require_perm(user, Perm.MANAGE_SERVICES)
    return Profile.objects.order_by("-is_active", "name")


def profile_get(user: Viewer, pk: Any) -> Profile:
    found = profiles(user).filter(pk=pk).first()
    if found is None:
        raise NotFound()
    return found


def tag_sets(user: Viewer) -> QuerySet[TagSet]:
    require_perm(user, Perm.MANAGE_SERVICES)
    return TagSet.objects.select_related("created_by").order_by("-version")


# ------------------------------------------------------------------ bad reviews


@dataclass
class ReviewFilter:
    unit: OrgUnit | None = None
    window: Window | None = None
    staff: Staff | None = None
    service: Service | None = None
    level: int | None = None
    state: str = ""  # a state of the kind, or "open"
    overdue: bool = False
    since: dt.datetime | None = None  # rated at or after
    until: dt.datetime | None = None  # rated before
    # Only those the figures count: an upheld appeal's rating is kept but not counted.
    counted: bool = False
    figure: str = ""  # those behind one figure of the figures page (BAD_REVIEW_FIGURES)
    unit_only: bool = False  # placed at the unit itself, not in its subtree


def bad_reviews_visible(user: Viewer) -> QuerySet[BadReview]:
    return scope_for(user, Perm.VIEW_EVALUATION).filter(
        BadReview.objects.select_related(
            "item",
            "problem",
            "rating__service",
            "rating__window",
            "rating__staff",
            place_related("rating__case__unit"),
        ),
        "rating__unit_path",
    )


def bad_reviews_search(user: Viewer, filters: ReviewFilter | None = None) -> QuerySet[BadReview]:
    """The bad reviews the user may see, newest first, as the list's filters narrow them."""
    require_perm(user, Perm.VIEW_EVALUATION)
    filters = filters or ReviewFilter()
    rows = _rated_as(bad_reviews_visible(user), filters, "rating__")
    if filters.state == "open":
        rows = rows.filter(item__is_open=True)
    elif filters.state:
        rows = rows.filter(item__state=filters.state)
    if filters.overdue:
        rows = rows.filter(item__is_overdue=True, item__is_open=True)
    if filters.figure:
        rows = rows.filter(BAD_REVIEW_FIGURES[filters.figure])
    return rows.order_by("-rating__rated_at", "-pk")


def ratings_search(user: Viewer, filters: ReviewFilter | None = None) -> QuerySet[Rating]:
    """Every rating the user may see (good and bad), newest first, as the filters narrow
    them: the list behind the figures page's counts of ratings and of each level."""
    require_perm(user, Perm.VIEW_EVALUATION)
    rows = scope_for(user, Perm.VIEW_EVALUATION).filter(
        Rating.objects.select_related(
            "service", "window", "staff", "bad_review", place_related("case__unit")
        ),
        "unit_path",
    )
    return _rated_as(rows, filters or ReviewFilter(), "").order_by("-rated_at", "-pk")


def _rated_as(rows: QuerySet[Any], filters: ReviewFilter, prefix: str) -> QuerySet[Any]:
    """Narrow rows by their rating's (at ``prefix``) unit, window, staff member, service,
    level, time and whether the figures count it."""
    if filters.unit is not None and filters.unit_only:
        rows = rows.filter(**{f"{prefix}unit_path": filters.unit.path})
    elif filters.unit is not None:
        rows = rows.filter(subtree_q(f"{prefix}unit_path", filters.unit.path))
    for name in ("window", "staff", "service", "level"):
        if getattr(filters, name) is not None:
            rows = rows.filter(**{f"{prefix}{name}": getattr(filters, name)})
    if filters.counted:
        rows = rows.filter(**{f"{prefix}excluded": False})
    if filters.since is not None:
        rows = rows.filter(**{f"{prefix}rated_at__gte": filters.since})
    if filters.until is not None:
        rows = rows.filter(**{f"{prefix}rated_at__lt": filters.until})
    return rows


def bad_review_get(user: Viewer, pk: Any) -> BadReview:
    found = bad_reviews_visible(user).filter(pk=pk).first()
    if found is None:
        raise NotFound()
    return found


def bad_review_of_item(item_id: int) -> BadReview | None:
    return BadReview.objects.filter(item_id=item_id, item__kind=KIND).first()


def staff_name_as_seen(user: Viewer, staff: Staff | None, unit_path: str) -> str:
    """The staff member's full name to whoever manages the unit, else masked (王*红)."""
    if staff is None:
        return ""
    if scope_for(user, Perm.MANAGE_SERVICES).covers(unit_path):
        return staff.name
    return name_masked(staff.name)


def clock_state(due: dt.datetime | None, met: dt.datetime | None, now: dt.datetime) -> str:
    """ "met", "overdue" (red), "due" or "" for a bad review's clock."""
    if due is None:
        return ""
    if met is not None:
        return "met"
    return "overdue" if now > due else "due"


def clocks_of(bad_review: BadReview, now: dt.datetime | None = None) -> dict[str, Any]:
    """The two clocks of a bad review as the pages show them: due, met, red when overdue."""
    now = now or timezone.now()
    item = bad_review.item
    met: dict[str, Any] = {}
    if item is not None:
        met = {clock.key: clock.met_at for clock in item.clocks.all()}
    callback_met = met.get("callback")
    rectify_met = met.get("rectify") or bad_review.rectified_at
    is_open = item is not None and item.is_open
    return {
        "callback_due": bad_review.callback_due_at,
        "callback_state": clock_state(bad_review.callback_due_at, callback_met, now)
        if is_open or callback_met
        else "met",
        "rectify_due": bad_review.rectify_due_at,
        "rectify_state": clock_state(bad_review.rectify_due_at, rectify_met, now)
        if is_open
        else "met",
    }


def appeals_to_decide(user: Viewer) -> QuerySet[BadReview]:
    from .ledger_kind import APPEALED

    require_perm(user, Perm.DECIDE_APPEALS)
    appealed = bad_reviews_search(user, ReviewFilter(state=APPEALED))
    return scope_for(user, Perm.DECIDE_APPEALS).filter(appealed, "unit_path")


# ------------------------------------------------------------------ coverage gaps


@dataclass(frozen=True)
class CoverageGap:
    service: Service
    unit: OrgUnit


def coverage_gaps(user: Viewer, since: dt.datetime) -> list[CoverageGap]:
    """Offered service × centre-or-station pairs without a counted rating since ``since``,
    in the user's scope: the gaps of the figures page's coverage (a station offers its own
    services and its centre's), so both pages count the same."""
    require_perm(user, Perm.VIEW_EVALUATION)
    scope = scope_for(user, Perm.VIEW_EVALUATION)
    roots = OrgUnit.objects.filter(parent__isnull=True) if scope.everything else None
    roots = roots if roots is not None else OrgUnit.objects.filter(path__in=scope.paths)
    today = timezone.localdate()
    period = Period(timezone.localtime(since).date(), max(today, since.date()))
    pairs = [pair for root in roots.order_by("path") for pair in coverage(root, period).gaps()]
    placed = OrgUnit.objects.select_related(place_related()).in_bulk(
        {unit.pk for _service, unit in pairs}
    )
    return [CoverageGap(service, placed[unit.pk]) for service, unit in pairs]


# ------------------------------------------------------------------ a staff member's own


@dataclass
class MineFilter:
    since: dt.datetime
    open_bad: bool = False


def my_ratings(user: Viewer, filters: MineFilter) -> QuerySet[Rating]:
    """The ratings of the user's own services (a window-staff member's), newest first;
    ``open_bad``: only those whose bad review is still open."""
    require_perm(user, Perm.REGISTER_CASES)
    staff = Staff.objects.filter(user_id=viewer_id(user)).first()
    if staff is None:
        return Rating.objects.none()
    rows = Rating.objects.filter(staff=staff).select_related("service", "window")
    if filters.open_bad:
        rows = rows.filter(bad_review__item__is_open=True)
    else:
        rows = rows.filter(rated_at__gte=filters.since)
    return rows.order_by("-rated_at", "-pk")


def good_rate(ratings: QuerySet[Rating]) -> float | None:
    """The percentage of 非常满意 and 满意 among the ratings that count, to one decimal as
    the figures page shows it (None when there are none)."""
    counted = ratings.filter(excluded=False)
    good = counted.filter(level__in=[int(level) for level in GOOD_LEVELS]).count()
    return percent(good, counted.count())
