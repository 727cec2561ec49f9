"""The home page (今日工作): today's work for each of the user's roles.

It reads every app, so it lives in reports, the top of the domain apps. Each count is
the row count of the list it links to, taken with that list's own selector and filters,
so the number on the home page is the number of rows the user finds behind it. A count
or link is shown only where its list answers the user (no 403 behind a link).
"""

import datetime as dt
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django.db.models import Count as Counted
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.accounts.actors import Viewer
from fangkong.accounts.models import User
from fangkong.accounts.roles import Perm, Role
from fangkong.accounts.selectors import role_rows_for, user_has_perm_anywhere
from fangkong.checkpoints import selectors as checkpoint_selectors
from fangkong.core.retention import local_midnight
from fangkong.evaluation import selectors as evaluation
from fangkong.evaluation.ledger_kind import APPEALED, CALLBACK_PENDING, RECTIFYING
from fangkong.health.models import Colour
from fangkong.health.selectors import DeclarationFilter, declarations_search, proxy_units_search
from fangkong.ledger import selectors as ledger
from fangkong.ledger.kinds import Kind
from fangkong.orgs.models import OrgUnit
from fangkong.rectification import selectors as rectification
from fangkong.rectification.models import Colour as ProblemColour
from fangkong.tracking.rules import ABNORMAL, CONTACT
from fangkong.travel.models import Outcome
from fangkong.travel.selectors import ReturneeFilter, returnees_search

from . import selectors
from .figures import DeclarationFigures, figures_by_subtree, subtree_figures
from .people import linked_figures

PROXY_SHOWN = 8  # households and teams listed on the home page; the rest are one tap away
REPORTS_SHOWN = 5
ADMIN_ROLES = {Role.GROUP_ADMIN, Role.UNIT_ADMIN}
HEADLINE_ROLES = ADMIN_ROLES | {Role.VIEWER, Role.SUPERVISOR, Role.SERVICE_HEAD}
PROXY_ROLES = {Role.GRID_WORKER, Role.REPORTER}  # a reporter is the team leader


@dataclass
class Count:
    """A number on the home page and the list it counts."""

    label: str
    n: int
    url: str
    alert: bool = True  # a count above zero asks for action (shown red)


@dataclass
class Section:
    key: str
    title: str
    counts: list[Count] = field(default_factory=list)
    links: list[tuple[str, str]] = field(default_factory=list)  # (label, url)
    note: str = ""
    data: dict[str, Any] = field(default_factory=dict)


def _url(name: str, *args: Any, **query: Any) -> str:
    url = reverse(name, args=args)
    return f"{url}?{urlencode(query)}" if query else url


def roles_of(user: User) -> set[str]:
    """The roles the user holds on open units; a superuser works as a group admin."""
    if user.is_superuser:
        return {Role.GROUP_ADMIN}
    return {role for role, _path in role_rows_for(user)}


def sections(user: User, *, previous_login: dt.datetime | None = None) -> list[Section]:
    """Return the home page's sections for every role the user holds, in a working order."""
    roles = roles_of(user)
    today = timezone.localdate()
    result: list[Section] = []
    if Role.REPORTER in roles:
        result.append(reporter_section(user, today))
    if roles & PROXY_ROLES and user_has_perm_anywhere(user, Perm.DECLARE_FOR_OTHERS):
        result.append(proxy_section(user, today))
    if Role.TRACKER in roles:
        result.append(tracker_section(user, today, previous_login))
    if roles & ADMIN_ROLES:
        result.append(admin_section(user, today, group=Role.GROUP_ADMIN in roles))
    problems = problems_section(user, today)
    result += [problems] if problems is not None else []
    # The admins' section counts the reports already; the headline then leaves them out.
    if roles & HEADLINE_ROLES:
        headline = headline_section(user, today, reports=not roles & ADMIN_ROLES)
        result += [headline] if headline is not None else []
    if Role.GUARD in roles:
        result.append(guard_section(user))
    result += evaluation_sections(user, roles)
    return result


# ------------------------------------------------------------------ reporter


def reporter_section(user: Viewer, today: dt.date) -> Section:
    """Today's report of each unit the user attests: deadline, state, a button to attest."""
    units = selectors.attestable_units(user, today).order_by("path")
    total = units.count()
    rows = selectors.board_rows(units[:REPORTS_SHOWN], today)
    waiting_paths = [row["unit"].path for row in rows if row["report"] is None]
    figures = figures_by_subtree(waiting_paths, today) if waiting_paths else {}
    for row in rows:
        row["figures"] = figures.get(row["unit"].path)
    waiting = sum(1 for row in rows if row["report"] is None)
    return Section(
        key="reporter",
        title=_("Daily report"),
        counts=[Count(_("Units you report for today"), total, _url("reports:today"), alert=False)],
        note=_report_note(total, waiting, len(rows)),
        data={"rows": rows, "day": today, "more": total > len(rows)},
    )


def _report_note(total: int, waiting: int, shown: int) -> str:
    if not total:
        return _("None of your units reports on this day.")
    return _("Every report is in.") if not waiting and total == shown else ""


# ------------------------------------------------------------------ grid worker, team leader


def proxy_section(user: Viewer, today: dt.date) -> Section:
    """The households and teams still to declare for today, the first few listed."""
    pending = proxy_units_search(user, day=today, pending=True)
    total = proxy_units_search(user, day=today).count()
    waiting = list(pending[: PROXY_SHOWN + 1])
    n_pending = len(waiting) if len(waiting) <= PROXY_SHOWN else pending.count()
    return Section(
        key="proxy",
        title=_("Declare for others"),
        counts=[
            Count(
                _("Households and teams where someone has not declared"),
                n_pending,
                _url("health:proxy_units", pending=1),
            ),
            Count(_("All your households and teams"), total, _url("health:proxy_units"), False),
        ],
        note=_("Everyone has declared today.") if total and not n_pending else "",
        data={"units": waiting[:PROXY_SHOWN]},
    )


# ------------------------------------------------------------------ tracker


def _kinds(user: Viewer, keys: tuple[str, ...] | None = None) -> list[Kind]:
    visible = ledger.kinds_visible(user)
    return [spec for spec in visible if keys is None or spec.key in keys]


def tracker_section(user: User, today: dt.date, previous_login: dt.datetime | None) -> Section:
    """Follow-ups due today and overdue, and the items opened since the last log-in."""
    since = previous_login or local_midnight(today)
    since = since.replace(microsecond=0)  # the link carries whole seconds
    counts = [
        Count(
            _("Follow-ups on your list today"),
            ledger.my_due_today(user, day=today).count(),
            _url("ledger:today"),
        )
    ]
    stamp = timezone.localtime(since).strftime("%Y-%m-%dT%H:%M:%S")
    for spec in _kinds(user):
        overdue = ledger.items_for(user, kind=spec.key, overdue=True, owner=user).count()
        new = ledger.items_for(user, kind=spec.key, state="open", opened_after=since, owner=user)
        counts.append(
            Count(
                _("Overdue: %(kind)s") % {"kind": spec.label_plural},
                overdue,
                _url("ledger:list", spec.key, overdue=1, owner="me"),
            )
        )
        counts.append(
            Count(
                _("New since your last visit: %(kind)s") % {"kind": spec.label_plural},
                new.count(),
                _url("ledger:list", spec.key, owner="me", opened_after=stamp),
            )
        )
    return Section(
        key="tracker",
        title=_("My follow-ups"),
        counts=counts,
        data={"since": since},
    )


# ------------------------------------------------------------------ unit and group admins


def admin_section(user: Viewer, today: dt.date, *, group: bool) -> Section:
    """What broke a rule today below the user, and what waits for the user's decision."""
    counts: list[Count] = []
    if group and user_has_perm_anywhere(user, Perm.VIEW_HEALTH):
        counts += _declarations_today(user, today)
    counts += _report_counts(user, today)
    for spec in _kinds(user):
        counts.append(
            Count(
                _("Overdue: %(kind)s") % {"kind": spec.label_plural},
                ledger.items_for(user, kind=spec.key, overdue=True).count(),
                _url("ledger:list", spec.key, overdue=1),
            )
        )
    if group:
        start = local_midnight(today)
        for spec in _kinds(user, (ABNORMAL, CONTACT)):
            opened = ledger.items_for(user, kind=spec.key, state="open", opened_after=start)
            counts.append(
                Count(
                    _("Opened today: %(kind)s") % {"kind": spec.label_plural},
                    opened.count(),
                    _url("ledger:list", spec.key, opened_after=f"{today}T00:00:00"),
                )
            )
    for spec in _kinds(user):
        if spec.close_needs_approval and user_has_perm_anywhere(user, spec.approve_perm):
            counts.append(
                Count(
                    _("Waiting for your approval: %(kind)s") % {"kind": spec.label_plural},
                    ledger.items_for(user, kind=spec.key, state=spec.closing_state).count(),
                    _url("ledger:list", spec.key, state=spec.closing_state),
                )
            )
    if user_has_perm_anywhere(user, Perm.VIEW_HEALTH):
        waiting = returnees_search(user, ReturneeFilter(outcome=Outcome.WAITING))
        counts.append(
            Count(
                _("Returnees waiting for a decision"),
                waiting.count(),
                _url("travel:returnees", outcome=Outcome.WAITING),
            )
        )
    return Section(
        key="admin",
        title=_("Needs attention today"),
        counts=counts,
    )


def _declarations_today(user: Viewer, today: dt.date) -> list[Count]:
    result = []
    for colour, label in ((Colour.RED, _("Red today")), (Colour.YELLOW, _("Yellow today"))):
        rows = declarations_search(user, DeclarationFilter(day=today, status=colour))
        result.append(
            Count(label, rows.count(), _url("health:declarations", day=today, status=colour))
        )
    return result


def _report_counts(user: Viewer, today: dt.date, unit: OrgUnit | None = None) -> list[Count]:
    """Reports missing (deadline passed) and late today, as the board filters them."""
    result = []
    labels = (("overdue", _("Daily reports missing")), ("late", _("Daily reports late")))
    for state, label in labels:
        filters = selectors.ReportFilter(day=today, unit=unit, state=state)
        query = {"state": state, "day": today, **({"unit": unit.pk} if unit else {})}
        result.append(
            Count(
                label,
                selectors.report_board(user, filters).count(),
                _url("reports:board", **query),
            )
        )
    return result


# ------------------------------------------------------------------ rectification problems


def problems_section(user: User, today: dt.date) -> Section | None:
    """For whoever owns open problems, accepts them or supervises: their open problems by
    colour, the work waiting for their acceptance and the effectiveness checks due."""
    if not user_has_perm_anywhere(user, Perm.VIEW_PROBLEMS):
        return None
    accepts = user_has_perm_anywhere(user, Perm.ACCEPT_PROBLEMS)
    supervises = user_has_perm_anywhere(user, Perm.SUPERVISE)
    mine = rectification.problems_search(
        user, rectification.ProblemFilter(owner=user, state="open"), today=today
    )
    colours = (ProblemColour.RED, ProblemColour.YELLOW, ProblemColour.BLUE)
    found = mine.aggregate(
        total=Counted("pk"), **{c.value: Counted("pk", filter=Q(colour=c)) for c in colours}
    )
    if not found["total"] and not accepts and not supervises:
        return None
    labels = {
        ProblemColour.RED: _("My problems: red (overdue)"),
        ProblemColour.YELLOW: _("My problems: yellow (behind schedule)"),
        ProblemColour.BLUE: _("My problems: blue (due within 3 working days)"),
    }
    counts = []
    if found["total"]:  # the owner's own work, by colour
        counts += [
            Count(labels[c], found[c], _url("rectification:problems", owner="me", colour=c))
            for c in colours
        ]
        counts.append(
            Count(
                _("My open problems"),
                found["total"],
                _url("rectification:problems", owner="me"),
                alert=False,
            )
        )
    if accepts:
        awaiting = rectification.ProblemFilter(awaiting=True)
        due = rectification.ProblemFilter(check_due=True)
        counts += [
            Count(
                _("Waiting for your acceptance"),
                rectification.problems_search(user, awaiting, today=today).count(),
                _url("rectification:problems", awaiting=1),
            ),
            Count(
                _("Effectiveness checks due"),
                rectification.problems_search(user, due, today=today).count(),
                _url("rectification:problems", check_due=1),
            ),
        ]
    return Section(
        key="problems",
        title=_("Rectification"),
        counts=counts,
        links=[
            (_("Problem ledger"), reverse("rectification:problems")),
            (_("Figures"), reverse("rectification:figures")),
        ],
    )


# ------------------------------------------------------------------ the roll-up's headline


def headline_section(user: User, today: dt.date, *, reports: bool = True) -> Section | None:
    """The roll-up's headline of the top of the user's scope, and the lists the user may see."""
    if not user_has_perm_anywhere(user, Perm.VIEW_ROLLUP):
        return None
    unit = selectors.rollup_default_unit(user)
    if unit is None:
        return None
    figures = subtree_figures(unit.path, today)
    return Section(
        key="headline",
        title=_("Roll-up: %(unit)s") % {"unit": unit.name},
        counts=[
            *_figure_counts(user, figures, unit, today),
            *(_report_counts(user, today, unit)[:1] if reports else []),
        ],
        links=_reading_links(user),
        data={"figures": figures, "unit": unit},
    )


def _figure_counts(
    user: Viewer, figures: DeclarationFigures, unit: OrgUnit, today: dt.date
) -> list[Count]:
    """The headline's figures, each opening the people it counts where the user may list
    them (reports.people), else the roll-up page."""
    listed = linked_figures(user, unit.path)

    def url(figure: str) -> str:
        if figure in listed:
            return _url("reports:people", unit=unit.pk, day=today.isoformat(), figure=figure)
        return _url("reports:rollup", unit=unit.pk)

    return [
        Count(_("Not declared"), figures.not_declared, url("not_declared")),
        Count(_("Abnormal"), figures.abnormal, url("abnormal")),
        Count(_("Fever"), figures.fever, url("fever")),
        Count(_("In quarantine"), figures.quarantine, url("quarantine"), alert=False),
    ]


def _reading_links(user: Viewer) -> list[tuple[str, str]]:
    """The lists a reading role may open, each only where it answers the user."""
    links = [
        (_("Roll-up"), reverse("reports:rollup")),
        (_("Report status"), reverse("reports:board")),
        (_("Quarantine"), reverse("quarantine:sites")),
    ]
    if user_has_perm_anywhere(user, Perm.VIEW_PEOPLE):
        links.append((_("People"), reverse("orgs:people")))
    if user_has_perm_anywhere(user, Perm.VIEW_AUDIT):
        links.append((_("Audit log"), reverse("accounts:audit")))
    return links


# ------------------------------------------------------------------ roles whose work comes later


def guard_section(user: Viewer) -> Section:
    """Today's post and the next shifts from the roster; the gate's log and visitors."""
    today = timezone.localdate()
    # Today's shifts stay on the page after they end: the post is still today's.
    shifts = checkpoint_selectors.shifts_of(user, since=local_midnight(today))
    now = timezone.now()
    current = next((s for s in shifts if s.starts <= now < s.ends), None)
    todays = current or next(
        (s for s in shifts if timezone.localtime(s.starts).date() == today), None
    )
    coming = [s for s in shifts if s.ends > now]
    links = [
        (_("Gate log"), reverse("checkpoints:log")),
        (_("Visitors"), reverse("checkpoints:visitors")),
    ]
    if user_has_perm_anywhere(user, Perm.VIEW_PEOPLE):
        links.append((_("People"), reverse("orgs:people")))
    return Section(
        key="guard",
        title=str(Role.GUARD.label),
        note="" if shifts else _("You have no shifts in the roster for the coming week."),
        links=links,
        data={
            "today": todays,
            "on_duty": current is not None,
            "over": todays is not None and todays.ends <= now,
            "next": coming[:6],
        },
    )


# ------------------------------------------------------------------ service evaluation (好差评)


def evaluation_sections(user: User, roles: set[str]) -> list[Section]:
    """Window staff, the service-centre head and the supervisor: each count is the row
    count of the evaluation list it links to, read with that list's selector."""
    result: list[Section] = []
    if Role.WINDOW_STAFF in roles and user_has_perm_anywhere(user, Perm.REGISTER_CASES):
        result.append(_window_staff_section(user))
    if Role.SERVICE_HEAD in roles and user_has_perm_anywhere(user, Perm.VIEW_EVALUATION):
        result.append(_service_head_section(user))
    if Role.SUPERVISOR in roles and user_has_perm_anywhere(user, Perm.VIEW_EVALUATION):
        result.append(_supervisor_section(user))
    return result


def _window_staff_section(user: User) -> Section:
    month = evaluation.MineFilter(since=evaluation.month_start())
    ratings = evaluation.my_ratings(user, month)
    open_bad = evaluation.my_ratings(user, evaluation.MineFilter(since=month.since, open_bad=True))
    rate = evaluation.good_rate(ratings)
    register = evaluation.staff_page_url("case_new")
    return Section(
        key="window",
        title=str(Role.WINDOW_STAFF.label),
        counts=[
            Count(
                _("Your ratings this month"),
                ratings.count(),
                _url("evaluation:reviews_mine"),
                False,
            ),
            Count(
                _("Your open bad reviews"),
                open_bad.count(),
                _url("evaluation:reviews_mine", open_bad=1),
            ),
        ],
        note=(
            _("Good ratings this month: %(rate)s%%") % {"rate": rate}
            if rate is not None
            else _("No ratings yet this month.")
        ),
        links=[(_("Register a case"), register)] if register else [],
    )


def _review_rows(user: User, rows: Any, limit: int = 8) -> list[dict[str, Any]]:
    now = timezone.now()
    return [
        {"bad": bad, "clocks": evaluation.clocks_of(bad, now)}
        for bad in rows.prefetch_related("item__clocks")[:limit]
    ]


def _service_head_section(user: User) -> Section:
    today = timezone.localdate()
    todays = evaluation.bad_reviews_search(
        user, evaluation.ReviewFilter(since=local_midnight(today))
    )
    callbacks = evaluation.bad_reviews_search(user, evaluation.ReviewFilter(state=CALLBACK_PENDING))
    rectifying = evaluation.bad_reviews_search(user, evaluation.ReviewFilter(state=RECTIFYING))
    gaps = evaluation.coverage_gaps(user, evaluation.month_start(today))
    counts = [
        Count(
            _("Bad reviews today"), todays.count(), _url("evaluation:reviews", **{"from": today})
        ),
        Count(
            _("Callbacks due"),
            callbacks.count(),
            _url("evaluation:reviews", state=CALLBACK_PENDING),
        ),
        Count(
            _("Rectifications due"),
            rectifying.count(),
            _url("evaluation:reviews", state=RECTIFYING),
        ),
        Count(_("Coverage gaps this month"), len(gaps), _url("evaluation:gaps")),
    ]
    links = [(_("Bad reviews"), reverse("evaluation:reviews"))]
    if user_has_perm_anywhere(user, Perm.MANAGE_SERVICES):
        links.append((_("Services, windows and badges"), reverse("evaluation:admin_services")))
    return Section(
        key="service_head",
        title=_("Service evaluation"),
        counts=counts,
        links=links,
        note="" if todays.exists() else _("No bad review today."),
        data={
            "include": "evaluation/review_home.html",
            "reviews": _review_rows(user, todays),
        },
    )


def _supervisor_section(user: User) -> Section:
    rankings = evaluation.staff_page_url("figures")
    overdue = evaluation.bad_reviews_search(user, evaluation.ReviewFilter(overdue=True))
    counts = [
        Count(_("Overdue bad reviews"), overdue.count(), _url("evaluation:reviews", overdue=1))
    ]
    if user_has_perm_anywhere(user, Perm.DECIDE_APPEALS):
        appeals = evaluation.appeals_to_decide(user)
        counts.append(
            Count(
                _("Appeals to decide"), appeals.count(), _url("evaluation:reviews", state=APPEALED)
            )
        )
    return Section(
        key="supervisor",
        title=_("Service supervision"),
        counts=counts,
        links=[
            *([(_("Rankings"), rankings)] if rankings else []),
            (_("Bad reviews"), reverse("evaluation:reviews")),
        ],
        data={
            "include": "evaluation/review_home.html",
            "reviews": _review_rows(user, overdue),
        },
    )
