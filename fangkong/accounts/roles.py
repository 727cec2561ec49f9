"""Roles and what each may do. A role assignment covers the subtree of its unit."""

from enum import StrEnum

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    GROUP_ADMIN = "group_admin", _("Group administrator")
    UNIT_ADMIN = "unit_admin", _("Unit administrator")
    REPORTER = "reporter", _("Reporter")
    GRID_WORKER = "grid_worker", _("Grid worker")
    TRACKER = "tracker", _("Tracker")
    GUARD = "guard", _("Checkpoint guard")
    SERVICE_HEAD = "service_head", _("Service-centre head")
    SUPERVISOR = "supervisor", _("Supervisor")
    WINDOW_STAFF = "window_staff", _("Window staff")
    VIEWER = "viewer", _("Viewer")


class Perm(StrEnum):
    VIEW_UNITS = "view_units"
    MANAGE_UNITS = "manage_units"
    VIEW_PEOPLE = "view_people"
    MANAGE_PEOPLE = "manage_people"
    VIEW_SENSITIVE = "view_sensitive"
    IMPORT = "import"
    EXPORT = "export"
    VIEW_AUDIT = "view_audit"
    MANAGE_ACCOUNTS = "manage_accounts"
    # Health card and daily reports
    DECLARE_FOR_OTHERS = "declare_for_others"
    VIEW_HEALTH = "view_health"
    ATTEST_REPORT = "attest_report"
    VIEW_ROLLUP = "view_rollup"
    MANAGE_NOTIFY = "manage_notify"
    VIEW_JOBS = "view_jobs"
    # Tracking ledgers, travel and quarantine
    TRACK = "track"
    APPROVE_CLOSE = "approve_close"
    MANAGE_QUARANTINE = "manage_quarantine"
    MANAGE_RETURN_RULES = "manage_return_rules"
    MANAGE_OUTBREAK = "manage_outbreak"
    # Checkpoints: the gate's log, visitors, duty rosters
    RECORD_GATE = "record_gate"
    OVERRIDE_GATE = "override_gate"
    MANAGE_CHECKPOINTS = "manage_checkpoints"
    # Rectification: problem lists, acceptance by the assigning unit, supervision
    VIEW_PROBLEMS = "view_problems"
    RECTIFY = "rectify"
    ACCEPT_PROBLEMS = "accept_problems"
    SUPERVISE = "supervise"
    # Service evaluation (好差评): cases, bad reviews, appeals, the catalogue
    VIEW_EVALUATION = "view_evaluation"
    REGISTER_CASES = "register_cases"
    HANDLE_REVIEWS = "handle_reviews"
    DECIDE_APPEALS = "decide_appeals"
    MANAGE_SERVICES = "manage_services"


_READ = {Perm.VIEW_UNITS, Perm.VIEW_PEOPLE}
_ADMIN = set(Perm)

# Health declarations are sensitive personal data: only those who act on them see them.
# Roll-up figures are counts without names, open to every reading role.
_HEALTH_TEAM = {Perm.DECLARE_FOR_OTHERS, Perm.VIEW_HEALTH}

ROLE_PERMS: dict[str, frozenset[Perm]] = {
    Role.GROUP_ADMIN: frozenset(_ADMIN),
    # The outbreak profile, the calendar and the risk-area list are group-wide settings.
    Role.UNIT_ADMIN: frozenset(_ADMIN - {Perm.VIEW_JOBS, Perm.MANAGE_OUTBREAK}),
    # A reporter (team leader) declares for the team and attests the unit's daily report.
    Role.REPORTER: frozenset(
        _READ
        | _HEALTH_TEAM
        | {Perm.EXPORT, Perm.ATTEST_REPORT, Perm.VIEW_ROLLUP, Perm.VIEW_PROBLEMS, Perm.RECTIFY}
    ),
    # Grid workers and trackers phone people and declare for them: they see full numbers.
    Role.GRID_WORKER: frozenset(
        _READ
        | _HEALTH_TEAM
        | {Perm.VIEW_SENSITIVE, Perm.MANAGE_PEOPLE, Perm.VIEW_ROLLUP, Perm.VIEW_PROBLEMS}
    ),
    # Trackers work the ledgers: follow-ups and close-out requests; approval is the admin's.
    Role.TRACKER: frozenset(
        _READ
        | {Perm.VIEW_SENSITIVE, Perm.VIEW_HEALTH, Perm.VIEW_ROLLUP, Perm.TRACK, Perm.VIEW_PROBLEMS}
    ),
    # A guard records entries and walk-in visitors at the checkpoints of their units.
    Role.GUARD: frozenset(_READ | {Perm.RECORD_GATE}),
    # The service-centre head rectifies the centre's problems (bad reviews among them).
    # The head of a service centre answers for its bad reviews and runs its catalogue.
    Role.SERVICE_HEAD: frozenset(
        _READ
        | {
            Perm.EXPORT,
            Perm.VIEW_ROLLUP,
            Perm.VIEW_PROBLEMS,
            Perm.RECTIFY,
            Perm.VIEW_EVALUATION,
            Perm.REGISTER_CASES,
            Perm.HANDLE_REVIEWS,
            Perm.MANAGE_SERVICES,
        }
    ),
    # The duty leader overrides a refusal and sees the watch list's reasons; supervisors
    # (督导组) accept rectifications of the units below them and issue supervision orders.
    Role.SUPERVISOR: frozenset(
        _READ
        | {
            Perm.EXPORT,
            Perm.VIEW_AUDIT,
            Perm.VIEW_ROLLUP,
            Perm.OVERRIDE_GATE,
            Perm.VIEW_PROBLEMS,
            Perm.RECTIFY,
            Perm.ACCEPT_PROBLEMS,
            Perm.SUPERVISE,
            Perm.VIEW_EVALUATION,
            Perm.HANDLE_REVIEWS,
            Perm.DECIDE_APPEALS,
        }
    ),
    # Window staff register the cases they serve; their own figures are theirs to see.
    Role.WINDOW_STAFF: frozenset({Perm.VIEW_UNITS, Perm.REGISTER_CASES}),
    Role.VIEWER: frozenset(
        _READ | {Perm.EXPORT, Perm.VIEW_ROLLUP, Perm.VIEW_PROBLEMS, Perm.VIEW_EVALUATION}
    ),
}


def role_grants(role: str, perm: Perm) -> bool:
    """Tell whether ``role`` carries ``perm``."""
    return perm in ROLE_PERMS.get(role, frozenset())


def roles_holding(*perms: Perm) -> list[str]:
    """The roles that hold any of ``perms``, sorted."""
    return sorted(role for role, held in ROLE_PERMS.items() if held & set(perms))
