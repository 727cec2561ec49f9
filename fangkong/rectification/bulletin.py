"""The weekly bulletin (每周通报): a unit subtree's week of rectification, versioned.

``bulletin_generate`` writes a new version for one unit and one week (Monday to Sunday,
Asia/Shanghai): its figures (by child unit and the unit itself: new, closed, accepted,
accepted on time, overdue at the week's end, the on-time completion rate), the red list
(open problems overdue at generation), the ranking by on-time completion, and the two
files, a PDF in Chinese (WeasyPrint, as the quarantine notice) and an Excel workbook (the
core writer). The office edits its paragraph on a draft (the files are drawn again),
signs one version off, then sends it to the heads of the units it names. Every write is
audited; signed versions are never changed, and every version stays in the archive.

The figures are a handful of grouped statements whatever the number of units: the
subtree's problems summed per child (``core.paths.sums_by_child``), the red list in one
ordered query with the units' places joined, and the units of the rows in one more.
"""

import datetime as dt
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Case, F, Func, IntegerField, Max, Q, QuerySet, Value, When
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from fangkong.accounts.actors import Actor, acting_user
from fangkong.accounts.roles import Perm, Role, roles_holding
from fangkong.accounts.selectors import require_perm, scope_for
from fangkong.core import calendar
from fangkong.core.audit import audit_record
from fangkong.core.errors import Conflict, InvalidInput, NotFound
from fangkong.core.exports import xlsx_book
from fangkong.core.models import AuditLog
from fangkong.core.paths import subtree_q, sums_by_child
from fangkong.core.retention import local_midnight
from fangkong.core.text import FIRST_DAY, LAST_DAY
from fangkong.notify.models import Event
from fangkong.notify.services import notify
from fangkong.orgs.models import OrgUnit, place_related

from .ledger_kind import KIND
from .models import Bulletin, Problem
from .services import COLOURED_STATES

BULLETIN_LANGUAGE = "zh-hans"  # an official paper: always Chinese, as the quarantine notice
MAX_PREFACE = 5000
# Monday 07:00 Asia/Shanghai: the drafts of the week before are generated from then on.
DRAFTS_AT = dt.time(7, 0)
# Who reads a sent bulletin in each unit it names: its administrators and service heads.
HEAD_ROLES = (Role.UNIT_ADMIN, Role.SERVICE_HEAD)
# The office: whoever holds the supervision permission on the bulletin's unit itself.
OFFICE_ROLES = tuple(roles_holding(Perm.SUPERVISE))
# The figures of one row, in this order in the JSON, the tables and the Excel.
COUNTS = ("new", "closed", "accepted", "on_time", "overdue")


# ------------------------------------------------------------------ the week


def last_week_start(now: dt.datetime) -> dt.date:
    """The Monday of the week before ``now``'s week (Asia/Shanghai)."""
    today = now.astimezone(calendar.LOCAL_TZ).date()
    return today - dt.timedelta(days=today.weekday() + 7)


def week_window(week_start: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """Monday 00:00 to the next Monday 00:00, Asia/Shanghai (half open)."""
    return local_midnight(week_start), local_midnight(week_start + dt.timedelta(days=7))


def check_week(week_start: Any, now: dt.datetime) -> dt.date:
    """A Monday whose week has ended by ``now``; refused with a reason otherwise."""
    if not isinstance(week_start, dt.date) or isinstance(week_start, dt.datetime):
        raise InvalidInput.at("week_start", _("Give the Monday the week starts on."))
    if not FIRST_DAY <= week_start <= LAST_DAY - dt.timedelta(days=7):
        raise InvalidInput.at("week_start", _("Give a date between 1900 and 2099."))
    if week_start.weekday() != 0:
        raise InvalidInput.at("week_start", _("A bulletin's week starts on a Monday."))
    if week_window(week_start)[1] > now:
        raise InvalidInput.at("week_start", _("That week has not ended yet."))
    return week_start


def figure_conditions(week_start: dt.date) -> dict[str, Q]:
    """What each figure counts, as conditions on problems (the drill-down lists reuse them).

    - new: registered during the week; closed: closed out (销号) during the week;
    - accepted: accepted (验收) during the week; on_time: of those, submitted by the end of
      the due day;
    - overdue: at the week's end, registered, not yet accepted, and its due day over.
    """
    start, end = week_window(week_start)
    sunday = week_start + dt.timedelta(days=6)
    accepted = Q(accepted_at__gte=start, accepted_at__lt=end)
    return {
        "new": Q(item__opened_at__gte=start, item__opened_at__lt=end),
        "closed": Q(item__closed_at__gte=start, item__closed_at__lt=end),
        "accepted": accepted,
        "on_time": accepted & Q(on_time=True),
        "overdue": Q(item__opened_at__lt=end, due_on__lte=sunday)
        & (Q(accepted_at__isnull=True) | Q(accepted_at__gte=end))
        & (Q(item__closed_at__isnull=True) | Q(item__closed_at__gte=end)),
    }


def problems_in(path: str) -> QuerySet[Problem]:
    """Problems whose responsible unit lies in the subtree at ``path``."""
    return Problem.objects.filter(subtree_q("item__unit_path", path), item__kind=KIND)


def on_time_rate(on_time: int, accepted: int, overdue: int) -> float | None:
    """Accepted on time over everything that had to be done: accepted plus overdue (%)."""
    due = accepted + overdue
    if not due:
        return None
    rate = Decimal(100 * on_time) / Decimal(due)
    return float(rate.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


# ------------------------------------------------------------------ the figures


def _rows(unit: OrgUnit, week_start: dt.date) -> list[dict[str, Any]]:
    """One row per child unit and one for the unit's own problems, in one statement."""
    conditions = figure_conditions(week_start)
    sunday = week_start + dt.timedelta(days=6)
    children = list(
        OrgUnit.objects.filter(parent=unit)
        .order_by("code", "pk")
        .annotate(
            in_force=Q(valid_from__lte=sunday)
            & (Q(valid_to__isnull=True) | Q(valid_to__gt=week_start))
        )
        .values_list("pk", "path", "name", "in_force")
    )
    flagged = problems_in(unit.path).annotate(
        **{
            f"n_{name}": Case(When(condition, then=Value(1)), default=Value(0))
            for name, condition in conditions.items()
        }
    )
    sums = sums_by_child(
        flagged,
        "item__unit_path",
        unit.path,
        [f"n_{name}" for name in COUNTS],
        child_paths=[path for _pk, path, _name, _in_force in children],
    )
    rows = []
    for pk, path, name, own, in_force in [(unit.pk, unit.path, unit.name, True, True)] + [
        (pk, path, name, False, in_force) for pk, path, name, in_force in children
    ]:
        counts = dict(zip(COUNTS, sums.get(path, [0] * len(COUNTS)), strict=True))
        if not in_force and not any(counts.values()):
            continue  # a unit closed before the week, with nothing in it, says nothing
        rows.append(
            {
                "unit_id": pk,
                "name": name,
                "own": own,
                **counts,
                "rate": on_time_rate(counts["on_time"], counts["accepted"], counts["overdue"]),
            }
        )
    return rows


def _totals(rows: Iterable[dict[str, Any]]) -> dict[str, Any]:
    totals: dict[str, Any] = dict.fromkeys(COUNTS, 0)
    for row in rows:
        for name in COUNTS:
            totals[name] += row[name]
    totals["rate"] = on_time_rate(totals["on_time"], totals["accepted"], totals["overdue"])
    return totals


def _red_list(unit: OrgUnit, now: dt.datetime) -> list[dict[str, Any]]:
    """Open problems past their due day at ``now`` (red beats every other colour), by unit."""
    today = now.astimezone(calendar.LOCAL_TZ).date()
    rows = (
        problems_in(unit.path)
        .filter(item__is_open=True, item__state__in=COLOURED_STATES, due_on__lt=today)
        .select_related(place_related("item__unit"))
        .order_by("item__unit_path", "due_on", "pk")
        .only("pk", "title", "due_on", "responsible_name", "item__unit_path", "item__unit_id")
    )
    places: dict[int, str] = {}
    red = []
    for problem in rows:
        item_unit = problem.item.unit  # type: ignore[union-attr]
        if item_unit.pk not in places:
            places[item_unit.pk] = item_unit.place
        red.append(
            {
                "problem_id": problem.pk,
                "item_id": problem.item_id,
                "unit_id": item_unit.pk,
                "unit": places[item_unit.pk],
                "title": problem.title,
                "due_on": problem.due_on.isoformat(),
                "days_overdue": (today - problem.due_on).days,
                "responsible": problem.responsible_name,
            }
        )
    return red


def _ranking(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Units by on-time completion, best first; ties go to fewer overdue. Units with
    nothing due (no rate) are not ranked; equal rate and overdue share a rank."""
    rated = [row for row in rows if row["rate"] is not None]
    rated.sort(key=lambda row: (-row["rate"], row["overdue"], row["name"]))
    ranking, previous, rank = [], None, 0
    for position, row in enumerate(rated, start=1):
        key = (row["rate"], row["overdue"])
        if key != previous:
            rank, previous = position, key
        ranking.append({"rank": rank, **row})
    return ranking


def bulletin_figures(unit: OrgUnit, week_start: dt.date, now: dt.datetime) -> dict[str, Any]:
    """The bulletin's figures as stored in its JSON (no labels: the pages translate)."""
    rows = _rows(unit, week_start)
    return {
        "week_start": week_start.isoformat(),
        "week_end": (week_start + dt.timedelta(days=6)).isoformat(),
        "as_of": now.isoformat(),
        "rows": rows,
        "totals": _totals(rows),
        "red": _red_list(unit, now),
        "ranking": _ranking(row for row in rows if not row["own"]),
    }


# ------------------------------------------------------------------ the files


def _rate_text(rate: float | None) -> str:
    return "—" if rate is None else f"{rate:.1f}%"


def _red_by_unit(red: list[dict[str, Any]]) -> list[tuple[str, list[dict[str, Any]]]]:
    groups: list[tuple[str, list[dict[str, Any]]]] = []
    for entry in red:
        if not groups or groups[-1][0] != entry["unit"]:
            groups.append((entry["unit"], []))
        groups[-1][1].append(entry)
    return groups


def _red_lines(entries: list[dict[str, Any]]) -> str:
    """A unit's red problems as lines of text: the paper draws a line of text much faster
    than a table row (thousands of red problems stay a few seconds of layout)."""
    return "\n".join(
        _("%(n)d. %(title)s — due %(due)s, %(days)d days overdue, responsible: %(person)s")
        % {
            "n": position,
            "title": entry["title"],
            "due": entry["due_on"],
            "days": entry["days_overdue"],
            "person": entry["responsible"] or "—",
        }
        for position, entry in enumerate(entries, start=1)
    )


def row_label(row: dict[str, Any]) -> str:
    if row["own"]:
        return _("%(name)s (its own problems)") % {"name": row["name"]}
    return str(row["name"])


def pdf_bytes(bulletin: Bulletin) -> bytes:
    """The bulletin as PDF, in Chinese: a table per section, the red list by unit."""
    from weasyprint import HTML  # imported here: loading Pango takes a moment

    with translation.override(BULLETIN_LANGUAGE):
        html = render_to_string("rectification/bulletin_pdf.html", paper_context(bulletin))
    return bytes(HTML(string=html).write_pdf())


def paper_context(bulletin: Bulletin) -> dict[str, Any]:
    figures = bulletin.figures
    rows = [{**row, "label": row_label(row), "rate_text": _rate_text(row["rate"])} for row in
            figures["rows"]]  # fmt: skip
    return {
        "bulletin": bulletin,
        "week_start": dt.date.fromisoformat(figures["week_start"]),
        "week_end": dt.date.fromisoformat(figures["week_end"]),
        "rows": rows,
        "totals": {**figures["totals"], "rate_text": _rate_text(figures["totals"]["rate"])},
        "red_groups": _red_by_unit(figures["red"]),
        "red_lines": [
            (unit, _red_lines(entries)) for unit, entries in _red_by_unit(figures["red"])
        ],
        "red_count": len(figures["red"]),
        "ranking": [{**row, "rate_text": _rate_text(row["rate"])} for row in figures["ranking"]],
        "signer": _signer(bulletin),
    }


def _signer(bulletin: Bulletin) -> str:
    user = bulletin.signed_by
    if user is None:
        return _("the office") if bulletin.signed_at else ""
    return str(user)  # the display name, else the username


def xlsx_data(bulletin: Bulletin) -> bytes:
    """The workbook: 汇总 (by unit, with totals), 红色清单, 排名."""
    figures = bulletin.figures
    with translation.override(BULLETIN_LANGUAGE):
        count_headers = [
            _("New"),
            _("Closed out"),
            _("Accepted"),
            _("Accepted on time"),
            _("Overdue at the week's end"),
            _("On-time completion rate (%)"),
        ]

        def counts(row: dict[str, Any]) -> list[Any]:
            return [*(row[name] for name in COUNTS), row["rate"]]

        summary = [[row_label(row), *counts(row)] for row in figures["rows"]]
        summary.append([_("Total"), *counts(figures["totals"])])
        red = (
            [e["unit"], e["title"], dt.date.fromisoformat(e["due_on"]), e["days_overdue"],
             e["responsible"]]
            for e in figures["red"]
        )  # fmt: skip
        ranking = (
            [row["rank"], row["name"], row["rate"], row["overdue"], row["on_time"],
             row["accepted"]]
            for row in figures["ranking"]
        )  # fmt: skip
        return xlsx_book(
            [
                (_("Summary"), [_("Unit"), *count_headers], summary),
                (
                    _("Red list"),
                    [_("Unit"), _("Problem"), _("Due on"), _("Days overdue"), _("Responsible")],
                    red,
                ),
                (
                    _("Ranking"),
                    [
                        _("Rank"),
                        _("Unit"),
                        _("On-time completion rate (%)"),
                        _("Overdue at the week's end"),
                        _("Accepted on time"),
                        _("Accepted"),
                    ],
                    ranking,
                ),
            ]
        )


def file_stem(bulletin: Bulletin) -> str:
    return f"bulletin-{bulletin.unit_id}-{bulletin.week_start:%Y%m%d}-v{bulletin.version}"


def _render_files(bulletin: Bulletin) -> None:
    """Draw the PDF and the workbook again from the stored figures and save both."""
    stem = file_stem(bulletin)
    for field, data in (("pdf", pdf_bytes(bulletin)), ("xlsx", xlsx_data(bulletin))):
        stored = getattr(bulletin, field)
        if stored:
            stored.delete(save=False)
        stored.save(f"{stem}.{field}", ContentFile(data), save=False)


# ------------------------------------------------------------------ reads


def bulletins_visible(user: Actor) -> QuerySet[Bulletin]:
    """The bulletins of the subtrees where the user sees problems, newest week first."""
    rows = Bulletin.objects.select_related("unit").order_by("-week_start", "unit_path", "-version")
    if user is None:
        return rows
    return scope_for(user, Perm.VIEW_PROBLEMS).filter(rows, "unit_path")


class _ArrayLength(Func):
    """The length of a JSON array (SQLite's json_array_length, PostgreSQL's for jsonb)."""

    function = "JSON_ARRAY_LENGTH"
    output_field = IntegerField()

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(compiler, connection, function="JSONB_ARRAY_LENGTH", **extra)


def with_red_counts(rows: QuerySet[Bulletin]) -> QuerySet[Bulletin]:
    """The archive's rows: each one's red-list length, without reading its figures (a
    bulletin of 10,000 problems holds them all)."""
    return rows.defer("figures").annotate(red_count=_ArrayLength(F("figures__red")))


def bulletin_get(user: Actor, bulletin_id: Any) -> Bulletin:
    """One bulletin the user may read (404 outside the scope)."""
    bulletin = Bulletin.objects.select_related("unit", "signed_by").filter(pk=bulletin_id).first()
    if bulletin is None:
        raise NotFound()
    require_perm(user, Perm.VIEW_PROBLEMS, bulletin.unit_path, seen_with=Perm.VIEW_PROBLEMS)
    return bulletin


def versions_of(bulletin: Bulletin) -> QuerySet[Bulletin]:
    return Bulletin.objects.filter(unit=bulletin.unit_id, week_start=bulletin.week_start).order_by(
        "-version"
    )


def counted_problems(bulletin: Bulletin, unit: OrgUnit, figure: str) -> QuerySet[Problem]:
    """The problems behind one figure of one row (the row's unit: a child, or the
    bulletin's unit for its own problems); ``red`` is the red list of that unit."""
    if unit.pk == bulletin.unit_id:
        rows = problems_in(unit.path).filter(item__unit_path=unit.path)
    elif unit.parent_id == bulletin.unit_id:
        rows = problems_in(unit.path)
    else:
        raise NotFound()
    rows = rows.select_related(place_related("item__unit")).order_by("due_on", "pk")
    if figure == "red":
        figures = bulletin.figures
        return rows.filter(pk__in=[e["problem_id"] for e in figures.get("red", [])])
    conditions = figure_conditions(bulletin.week_start)
    if figure not in conditions:
        raise NotFound()
    return rows.filter(conditions[figure])


# ------------------------------------------------------------------ writes


def _audit(actor: Actor, bulletin: Bulletin, action: str, before: Any, after: Any) -> None:
    audit_record(
        actor=actor,
        action=action,
        obj=bulletin,
        object_repr=f"bulletin {bulletin.unit.name} {bulletin.week_start} v{bulletin.version}",
        scope_path=bulletin.unit_path,
        before=before,
        after=after,
    )


def _require_office(actor: Actor, bulletin_or_unit_path: str) -> None:
    require_perm(actor, Perm.SUPERVISE, bulletin_or_unit_path, seen_with=Perm.VIEW_PROBLEMS)


@transaction.atomic
def bulletin_generate(
    *, actor: Actor, unit: OrgUnit, week_start: Any, now: dt.datetime | None = None
) -> Bulletin:
    """Write the next version of ``unit``'s bulletin for the week from ``week_start`` (a
    Monday), with the figures as of ``now`` and both files. The draft keeps the office's
    paragraph from the version before."""
    now = now or timezone.now()
    _require_office(actor, unit.path)
    week_start = check_week(week_start, now)
    OrgUnit.objects.select_for_update().filter(pk=unit.pk).first()  # one version at a time
    versions = Bulletin.objects.filter(unit=unit, week_start=week_start)
    last = versions.order_by("-version").first()
    bulletin = Bulletin(
        unit=unit,
        unit_path=unit.path,
        week_start=week_start,
        version=(versions.aggregate(n=Max("version"))["n"] or 0) + 1,
        preface=last.preface if last else "",
        figures=bulletin_figures(unit, week_start, now),
        generated_at=now,
        generated_by=acting_user(actor),
    )
    _render_files(bulletin)
    bulletin.save()
    _audit(actor, bulletin, AuditLog.Action.CREATE, None, _facts(bulletin))
    return bulletin


def _require_draft(bulletin: Bulletin) -> None:
    if bulletin.status != Bulletin.Status.DRAFT:
        raise Conflict(_("This version is signed off and cannot be changed; generate a new one."))


@transaction.atomic
def bulletin_preface_set(*, actor: Actor, bulletin: Bulletin, preface: str) -> Bulletin:
    """Write the office's paragraph on a draft; the files are drawn again."""
    _require_office(actor, bulletin.unit_path)
    bulletin = Bulletin.objects.select_for_update().select_related("unit").get(pk=bulletin.pk)
    _require_draft(bulletin)
    preface = (preface or "").strip()
    if len(preface) > MAX_PREFACE:
        raise InvalidInput.at(
            "preface", _("Keep the paragraph to %(n)d characters or fewer.") % {"n": MAX_PREFACE}
        )
    before = bulletin.preface
    bulletin.preface = preface
    _render_files(bulletin)
    bulletin.save(update_fields=["preface", "pdf", "xlsx"])
    _audit(actor, bulletin, AuditLog.Action.UPDATE, {"preface": before}, {"preface": preface})
    return bulletin


@transaction.atomic
def bulletin_sign_off(
    *, actor: Actor, bulletin: Bulletin, now: dt.datetime | None = None
) -> Bulletin:
    """Sign the latest draft off (签发): it can no longer change, and it may be sent."""
    _require_office(actor, bulletin.unit_path)
    bulletin = Bulletin.objects.select_for_update().select_related("unit").get(pk=bulletin.pk)
    _require_draft(bulletin)
    if versions_of(bulletin).filter(version__gt=bulletin.version).exists():
        raise Conflict(_("A newer version of this bulletin exists; sign that one off."))
    bulletin.status = Bulletin.Status.SIGNED
    bulletin.signed_by = acting_user(actor)
    bulletin.signed_at = now or timezone.now()
    _render_files(bulletin)  # the paper carries who signed it off
    bulletin.save(update_fields=["status", "signed_by", "signed_at", "pdf", "xlsx"])
    _audit(actor, bulletin, AuditLog.Action.UPDATE, {"status": "draft"}, _facts(bulletin))
    return bulletin


def recipient_units(bulletin: Bulletin) -> list[OrgUnit]:
    """The units the bulletin names: its own unit and the child units of its rows."""
    ids = [row["unit_id"] for row in bulletin.figures.get("rows", [])] or [bulletin.unit_id]
    units = {u.pk: u for u in OrgUnit.objects.filter(pk__in=ids)}
    return [units[pk] for pk in ids if pk in units]


@transaction.atomic
def bulletin_send(*, actor: Actor, bulletin: Bulletin, now: dt.datetime | None = None) -> int:
    """Send a signed-off bulletin to the heads (unit administrators and service heads) of
    every unit it names, with a link to the PDF; return the notifications written."""
    _require_office(actor, bulletin.unit_path)
    bulletin = Bulletin.objects.select_for_update().select_related("unit").get(pk=bulletin.pk)
    if bulletin.status == Bulletin.Status.DRAFT:
        raise Conflict(_("Sign the bulletin off before sending it."))
    if bulletin.status == Bulletin.Status.SENT:
        raise Conflict(_("This bulletin was sent already."))
    link = reverse("rectification:bulletin_pdf", args=[bulletin.pk])
    subject, body = _sent_notice(bulletin)
    units = recipient_units(bulletin)
    for unit in units:
        notify(
            event=Event.WEEKLY_BULLETIN,
            unit=unit,
            subject=subject,
            body=body,
            link=link,
            to_roles=HEAD_ROLES,
        )
    bulletin.status = Bulletin.Status.SENT
    bulletin.sent_at = now or timezone.now()
    bulletin.save(update_fields=["status", "sent_at"])
    _audit(
        actor,
        bulletin,
        AuditLog.Action.UPDATE,
        {"status": "signed"},
        {**_facts(bulletin), "units": [u.pk for u in units]},
    )
    return len(units)


def _sent_notice(bulletin: Bulletin) -> tuple[str, str]:
    """The notice's subject and body, in the site's language (not the sender's): the
    heads read it in their inbox and group chats, as every other notice."""
    totals = bulletin.figures.get("totals", {})
    with translation.override(settings.LANGUAGE_CODE):
        subject = _("Weekly rectification bulletin: %(unit)s, week of %(day)s") % {
            "unit": bulletin.unit.name,
            "day": bulletin.week_start.isoformat(),
        }
        body = _(
            "New %(new)d, closed out %(closed)d, overdue %(overdue)d, red list %(red)d. "
            "The PDF is attached by link."
        ) % {
            "new": totals.get("new", 0),
            "closed": totals.get("closed", 0),
            "overdue": totals.get("overdue", 0),
            "red": len(bulletin.figures.get("red", [])),
        }
    return subject, body


def bulletin_download_audit(actor: Actor, bulletin: Bulletin, file_format: str) -> None:
    """One ``export`` audit row per download of the PDF or the workbook."""
    audit_record(
        actor=actor,
        action=AuditLog.Action.EXPORT,
        obj=bulletin,
        object_repr=f"bulletin {bulletin.week_start} v{bulletin.version} ({file_format})",
        scope_path=bulletin.unit_path,
        after={"format": file_format, "version": bulletin.version},
    )


def _facts(bulletin: Bulletin) -> dict[str, Any]:
    return {
        "week_start": bulletin.week_start.isoformat(),
        "version": bulletin.version,
        "status": bulletin.status,
        "red": len(bulletin.figures.get("red", [])),
        "totals": bulletin.figures.get("totals", {}),
    }


# ------------------------------------------------------------------ Monday's drafts


def draft_units(week_start: dt.date) -> list[OrgUnit]:
    """The units that get Monday's draft: every root unit, and every unit that assigned a
    problem open at some time during the week (its office follows what it assigned)."""
    start, end = week_window(week_start)
    assigning = (
        Problem.objects.filter(item__kind=KIND, item__opened_at__lt=end)
        .filter(Q(item__closed_at__isnull=True) | Q(item__closed_at__gte=start))
        .values("assigning_unit_id")
        .distinct()
    )
    return list(
        OrgUnit.objects.filter(Q(parent__isnull=True) | Q(pk__in=assigning))
        .exclude(bulletins__week_start=week_start)
        .order_by("path")
    )


def weekly_drafts(now: dt.datetime | None = None) -> list[int]:
    """The scheduled job (every few minutes): from Monday 07:00 on, write the draft of the
    week before for each unit that has none yet, and tell its office it waits for sign-off.

    Before 07:00 on a Monday it does nothing; later in the week it catches up on units a
    stopped queue missed. Each unit's draft is its own transaction. Returns the new ids.
    """
    now = now or timezone.now()
    local = now.astimezone(calendar.LOCAL_TZ)
    if local.weekday() == 0 and local.time() < DRAFTS_AT:
        return []
    week_start = last_week_start(now)
    return [_draft_for(unit, week_start, now).pk for unit in draft_units(week_start)]


@transaction.atomic
def _draft_for(unit: OrgUnit, week_start: dt.date, now: dt.datetime) -> Bulletin:
    bulletin = bulletin_generate(actor=None, unit=unit, week_start=week_start, now=now)
    notify(
        event=Event.WEEKLY_BULLETIN,
        unit=unit,
        subject=_("The weekly bulletin of %(unit)s for the week of %(day)s waits for sign-off")
        % {"unit": unit.name, "day": week_start.isoformat()},
        body=_("Add the office's paragraph if needed, check the figures, then sign it off."),
        link=reverse("rectification:bulletin", args=[bulletin.pk]),
        to_roles=OFFICE_ROLES,
    )
    return bulletin
