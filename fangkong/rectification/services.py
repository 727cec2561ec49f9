"""Every write of a problem: registration, assignment, progress with evidence, submission,
acceptance by the assigning unit, the effectiveness check, close-out and recurrence.

Each service is keyword-only and atomic, checks the actor's permission with
``require_perm`` (404 outside the scope, 403 inside it), and works the problem's ledger
item through the ledger's services, so the history, the audit rows, the clocks and the
owners' notices are the ledger's. The colour is recomputed at every change.
"""

import datetime as dt
import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.accounts.actors import Actor, acting_user
from fangkong.accounts.models import User
from fangkong.accounts.roles import Perm
from fangkong.accounts.selectors import require_perm, scope_for
from fangkong.core import calendar
from fangkong.core.audit import audit_record
from fangkong.core.errors import Conflict, InvalidInput, PermissionDenied
from fangkong.core.models import AuditLog
from fangkong.core.numbers import plain_decimal, to_decimal
from fangkong.ledger import services as ledger
from fangkong.ledger.models import Item
from fangkong.orgs.models import OrgUnit

from . import colours, signals
from .ledger_kind import (
    ACCEPTED,
    ASSIGNED,
    CHECKED,
    DUE_CLOCK,
    IN_PROGRESS,
    KIND,
    REGISTERED,
    SUBMITTED,
)
from .models import Colour, Evidence, Milestone, Problem, ProblemClass, Saving, Source, Target

MAX_EVIDENCE_BYTES = 10 * 1024 * 1024
MAX_WORKING_DAYS = 250
# Work before acceptance carries a colour; accepted work is done on time or not.
COLOURED_STATES = frozenset({REGISTERED, ASSIGNED, IN_PROGRESS, SUBMITTED})


def _number(value: Any) -> Decimal | None:
    """A quantity of at most two decimals that fits its column, else None."""
    try:
        number = to_decimal(value, places=2)
    except ValueError:
        return None
    return number if abs(number) < Decimal("1e12") else None


# ------------------------------------------------------------------ registration


@dataclass
class NewProblem:
    """A problem to register; ``unit`` is the responsible unit (责任单位)."""

    title: str
    unit: OrgUnit
    assigning_unit: OrgUnit
    source: str = Source.SELF_FOUND
    problem_class: str = ProblemClass.DEADLINE
    due_on: dt.date | None = None
    due_working_days: int | None = None
    source_ref: str = ""
    description: str = ""
    category: str = ""
    severity: str = "general"
    responsible_name: str = ""
    leader_name: str = ""
    effect_check_days: int | None = None
    targets: Sequence[tuple[str, str, Decimal]] = ()  # (label, unit of measure, quantity)
    milestones: Sequence[tuple[str, dt.date]] = ()
    import_key: str = ""
    data: dict[str, Any] = field(default_factory=dict)


def due_date(new: NewProblem, today: dt.date) -> dt.date:
    """The due day: given, or n working days counted from the next working day.

    Fixing at once (立行立改) is due by the end of the next working day unless a day is
    given; a long-term problem needs its final day.
    """
    if new.due_on is not None and new.due_working_days is not None:
        raise InvalidInput.at("due_on", _("Give a due date or a number of working days, not both."))
    if new.due_working_days is not None:
        if not 1 <= new.due_working_days <= MAX_WORKING_DAYS:
            raise InvalidInput.at(
                "due_working_days",
                _("Give between 1 and %(n)d working days.") % {"n": MAX_WORKING_DAYS},
            )
        return calendar.add_working_days(today, new.due_working_days)
    if new.due_on is not None:
        if new.due_on < today:
            raise InvalidInput.at("due_on", _("The due date cannot be in the past."))
        return new.due_on
    if new.problem_class == ProblemClass.IMMEDIATE:
        return calendar.add_working_days(today, 1)
    raise InvalidInput.at("due_on", _("Give a due date or a number of working days."))


def _check_new(new: NewProblem) -> None:
    if not (new.title or "").strip():
        raise InvalidInput.at("title", _("Give the problem a title."))
    if new.source not in Source.values:
        raise InvalidInput.at("source", _("Choose a source from the list."))
    if new.problem_class not in ProblemClass.values:
        raise InvalidInput.at("problem_class", _("Choose a class from the list."))
    if not new.unit.path.startswith(new.assigning_unit.path):
        raise InvalidInput.at(
            "unit", _("The responsible unit must be the assigning unit or a unit below it.")
        )
    if new.problem_class == ProblemClass.LONG_TERM and new.due_on is None:
        raise InvalidInput.at("due_on", _("A long-term problem needs its final due date."))
    for label, _unit, quantity in new.targets:
        if not label.strip() or quantity <= 0:
            raise InvalidInput.at("targets", _("A target needs a name and a quantity above zero."))


def milestone_refusal(day: dt.date, *, today: dt.date, due_on: dt.date | None) -> str:
    """Why a milestone cannot fall on ``day`` ("" when it can): not in the past and not
    after the problem's due day. The form and the import ask here."""
    if day < today:
        return _("The milestone of %(day)s is in the past.") % {"day": day.isoformat()}
    if due_on is not None and day > due_on:
        return _("The milestone of %(day)s falls after the due date %(due)s.") % {
            "day": day.isoformat(),
            "due": due_on.isoformat(),
        }
    return ""


@transaction.atomic
def problem_register(*, actor: Actor, new: NewProblem, now: dt.datetime | None = None) -> Problem:
    """Register a problem and open its ledger item (state "registered").

    The actor registers for the assigning unit: they need the rectification permission
    there, and the responsible unit lies in its subtree.
    """
    now = now or timezone.now()
    _check_new(new)
    require_perm(actor, Perm.RECTIFY, new.assigning_unit.path)
    today = now.astimezone(calendar.LOCAL_TZ).date()
    due_on = due_date(new, today)
    for index, (_title, day) in enumerate(new.milestones):
        refusal = milestone_refusal(day, today=today, due_on=due_on)
        if refusal:  # "milestones.N": the form puts it at its Nth milestone
            raise InvalidInput(refusal, detail={f"milestones.{index}": [refusal]})
    problem = Problem.objects.create(
        source=new.source,
        source_ref=new.source_ref.strip(),
        title=new.title.strip(),
        description=new.description.strip(),
        category=new.category.strip(),
        severity=new.severity,
        problem_class=new.problem_class,
        assigning_unit=new.assigning_unit,
        assigning_path=new.assigning_unit.path,
        responsible_name=new.responsible_name.strip(),
        leader_name=new.leader_name.strip(),
        starts_on=today,
        due_on=due_on,
        due_estimated=not calendar.year_is_official(due_on.year),
        effect_check_days=new.effect_check_days or 30,
        import_key=new.import_key,
        created_by=acting_user(actor),
    )
    Target.objects.bulk_create(
        Target(problem=problem, label=label.strip(), unit_of_measure=uom.strip(), target=qty)
        for label, uom, qty in new.targets
    )
    Milestone.objects.bulk_create(
        Milestone(problem=problem, title=title.strip(), due_on=day) for title, day in new.milestones
    )
    item, _created = ledger.item_open(
        actor=actor,
        kind=KIND,
        subject=problem,
        unit=new.unit,
        title=problem.title,
        open_key=f"problem:{problem.pk}",
        opened_at=now,
        data={"source": problem.source, **new.data},
        clock_starts={DUE_CLOCK: calendar.end_of_day(due_on)},
    )
    problem.item = item
    problem.save(update_fields=["item"])
    recolour(problem, now=now)
    return problem


# ------------------------------------------------------------------ checks


def _item(problem: Problem) -> Item:
    if problem.item_id is None:
        raise Conflict(_("This problem has no ledger item."))
    return Item.objects.get(pk=problem.item_id)


def _require_rectifier(actor: Actor, problem: Problem) -> Item:
    item = _item(problem)
    require_perm(actor, Perm.RECTIFY, item.unit_path, seen_with=Perm.VIEW_PROBLEMS)
    return item


def _require_assigning_unit(actor: Actor, problem: Problem) -> Item:
    """The assigning unit accepts, checks and closes out — never the problem's owners."""
    item = _item(problem)
    require_perm(actor, Perm.VIEW_PROBLEMS, item.unit_path, seen_with=Perm.VIEW_PROBLEMS)
    if actor is not None and not scope_for(actor, Perm.ACCEPT_PROBLEMS).covers(
        problem.assigning_path
    ):  # who sees the problem learns why, though the assigning unit may be above them
        raise PermissionDenied(_("Only the assigning unit accepts and closes out this problem."))
    user = acting_user(actor)
    if user is not None and item.owners.filter(pk=user.pk).exists():
        raise PermissionDenied(
            _("You own this problem: the assigning unit accepts it, not its owners.")
        )
    return item


def _require_state(item: Item, *states: str) -> None:
    if item.state not in states:
        raise Conflict(_("The problem is not at the step this action needs."))


def _audit(actor: Actor, problem: Problem, before: Any, after: Any) -> None:
    audit_record(
        actor=actor,
        action=AuditLog.Action.UPDATE,
        obj=problem,
        object_repr=f"problem #{problem.pk} {problem.title}",
        scope_path=problem.item.unit_path if problem.item else problem.assigning_path,
        before=before,
        after=after,
    )


# ------------------------------------------------------------------ the life


@transaction.atomic
def problem_assign(
    *, actor: Actor, problem: Problem, owners: Iterable[User], responsible_name: str = ""
) -> Problem:
    """Assign the problem to its responsible people (责任到人): registered → assigned."""
    item = _require_assigning_unit(actor, problem)
    _require_state(item, REGISTERED, ASSIGNED)
    owners = list(owners)
    if not owners:
        raise InvalidInput.at("owners", _("Choose at least one person responsible."))
    ledger.item_assign(actor=actor, item=item, owners=owners)
    if responsible_name.strip():
        problem.responsible_name = responsible_name.strip()
        problem.save(update_fields=["responsible_name", "updated_at"])
    if item.state == REGISTERED:
        ledger.item_transition(actor=actor, item=item, target=ASSIGNED, by_hand=False)
    return problem


def _start_work(actor: Actor, item: Item) -> None:
    """The first report or a submission starts the work: assigned → in progress."""
    if item.state == ASSIGNED:
        ledger.item_transition(actor=actor, item=item, target=IN_PROGRESS)
        item.refresh_from_db()


def _target_updates(problem: Problem, done: Mapping[int, Any]) -> list[Target]:
    targets = {target.pk: target for target in problem.targets.all()}
    changed = []
    for pk, value in done.items():
        target = targets.get(int(pk))
        if target is None:
            raise InvalidInput.at("done", _("That target does not belong to this problem."))
        quantity = _number(value)
        if quantity is None or quantity < 0 or quantity > target.target:
            raise InvalidInput.at(
                "done",
                _("Give a quantity between 0 and %(n)s for “%(label)s”.")
                % {"n": plain_decimal(target.target), "label": target.label},
            )
        target.done = quantity
        changed.append(target)
    return changed


def _store_evidence(
    actor: Actor, problem: Problem, files: Sequence[UploadedFile], now: dt.datetime
) -> list[Evidence]:
    stored = []
    for upload in files:
        if upload.size is None or upload.size > MAX_EVIDENCE_BYTES:
            raise InvalidInput.at("files", _("A file may be at most 10 MB."))
        digest = hashlib.sha256()
        for chunk in upload.chunks():
            digest.update(chunk)
        upload.seek(0)
        stored.append(
            Evidence.objects.create(
                problem=problem,
                file=upload,
                name=(upload.name or "")[:200],
                sha256=digest.hexdigest(),
                size=upload.size,
                uploaded_by=acting_user(actor),
                uploaded_at=now,
            )
        )
    return stored


@transaction.atomic
def problem_progress(
    *,
    actor: Actor,
    problem: Problem,
    note: str = "",
    done: Mapping[int, Any] | None = None,
    files: Sequence[UploadedFile] = (),
    milestones_done: Iterable[int] = (),
    now: dt.datetime | None = None,
) -> Problem:
    """Report progress: a note, quantities done, evidence, milestones reached.

    The first report starts the work (assigned → in progress), as the ledger's first
    follow-up does. Each report is one history entry listing what it changed.
    """
    now = now or timezone.now()
    item = _require_rectifier(actor, problem)
    _require_state(item, ASSIGNED, IN_PROGRESS)
    targets = _target_updates(problem, done or {})
    milestone_ids = [int(pk) for pk in milestones_done]
    if not (note or "").strip() and not targets and not files and not milestone_ids:
        raise InvalidInput.at("note", _("Write what was done, or give a quantity or a file."))
    Target.objects.bulk_update(targets, ["done"])
    reached = problem.milestones.filter(pk__in=milestone_ids, done_at__isnull=True)
    reached_ids = list(reached.values_list("pk", flat=True))
    reached.update(done_at=now)
    evidence = _store_evidence(actor, problem, files, now)
    summary = {
        "targets": {str(t.pk): str(t.done) for t in targets},
        "milestones": reached_ids,
        "evidence": [{"id": e.pk, "name": e.name, "sha256": e.sha256} for e in evidence],
    }
    text = (note or "").strip() or _("Progress reported.")
    _start_work(actor, item)
    ledger.item_follow_up(actor=actor, item=item, text=text, at=now, data=summary)
    recolour(problem, now=now)
    return problem


@transaction.atomic
def problem_submit(
    *,
    actor: Actor,
    problem: Problem,
    measures: str = "",
    root_cause: str = "",
    preventive: str = "",
    note: str = "",
    now: dt.datetime | None = None,
) -> Problem:
    """Submit the work for acceptance by the assigning unit, with its measures (措施)."""
    now = now or timezone.now()
    item = _require_rectifier(actor, problem)
    _require_state(item, ASSIGNED, IN_PROGRESS)
    before = _facts(problem)
    problem.measures = (measures or "").strip() or problem.measures
    problem.root_cause = (root_cause or "").strip() or problem.root_cause
    problem.preventive = (preventive or "").strip() or problem.preventive
    if not problem.measures:
        raise InvalidInput.at("measures", _("Say what measures were taken."))
    problem.submitted_at = now
    problem.save(
        update_fields=["measures", "root_cause", "preventive", "submitted_at", "updated_at"]
    )
    _start_work(actor, item)
    ledger.item_transition(
        actor=actor, item=item, target=SUBMITTED, note=(note or "").strip(), by_hand=False
    )
    _audit(actor, problem, before, _facts(problem))
    recolour(problem, now=now)
    return problem


@transaction.atomic
def problem_accept(
    *, actor: Actor, problem: Problem, note: str = "", now: dt.datetime | None = None
) -> Problem:
    """Accept the work (验收): the assigning unit, never an owner. Meets the deadline clock
    at the submission, so "on time" means submitted by the end of the due day."""
    now = now or timezone.now()
    item = _require_assigning_unit(actor, problem)
    _require_state(item, SUBMITTED)
    submitted_at = problem.submitted_at or now
    problem.accepted_at = now
    problem.on_time = submitted_at <= calendar.end_of_day(problem.due_on)
    problem.save(update_fields=["accepted_at", "on_time", "updated_at"])
    ledger.item_transition(
        actor=actor, item=item, target=ACCEPTED, note=(note or "").strip(), by_hand=False
    )
    ledger.item_clock_meet(item=item, key=DUE_CLOCK, at=submitted_at)
    recolour(problem, now=now)
    return problem


@transaction.atomic
def problem_return(
    *, actor: Actor, problem: Problem, reason: str, now: dt.datetime | None = None
) -> Problem:
    """Return submitted work for rework, with the reason: back to in progress."""
    now = now or timezone.now()
    item = _require_assigning_unit(actor, problem)
    _require_state(item, SUBMITTED)
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput.at("reason", _("Give a reason."))
    problem.submitted_at = None
    problem.save(update_fields=["submitted_at", "updated_at"])
    ledger.item_transition(actor=actor, item=item, target=IN_PROGRESS, note=reason, by_hand=False)
    recolour(problem, now=now)
    return problem


def effect_check_day(problem: Problem) -> dt.date | None:
    """The first day the effectiveness can be checked: N days after the acceptance."""
    if problem.accepted_at is None:
        return None
    accepted = problem.accepted_at.astimezone(calendar.LOCAL_TZ).date()
    return accepted + dt.timedelta(days=problem.effect_check_days)


@transaction.atomic
def problem_check_effect(
    *,
    actor: Actor,
    problem: Problem,
    effective: bool,
    note: str = "",
    now: dt.datetime | None = None,
) -> Problem:
    """Check, N days after acceptance, that the fix holds (成效核查).

    Effective: the problem may be closed out. Not effective: back to work, with the
    deadline clock running again.
    """
    now = now or timezone.now()
    item = _require_assigning_unit(actor, problem)
    _require_state(item, ACCEPTED)
    check_day = effect_check_day(problem)
    if check_day and now.astimezone(calendar.LOCAL_TZ).date() < check_day:
        raise Conflict(
            _("The effectiveness can be checked from %(day)s.") % {"day": check_day.isoformat()}
        )
    note = (note or "").strip()
    if effective:
        problem.effect_checked_at = now
        problem.save(update_fields=["effect_checked_at", "updated_at"])
        ledger.item_transition(actor=actor, item=item, target=CHECKED, note=note, by_hand=False)
        return problem
    if not note:
        raise InvalidInput.at("note", _("Say why the fix does not hold."))
    problem.accepted_at = problem.submitted_at = problem.on_time = None
    problem.save(update_fields=["accepted_at", "submitted_at", "on_time", "updated_at"])
    ledger.item_transition(actor=actor, item=item, target=IN_PROGRESS, note=note, by_hand=False)
    ledger.item_clock_set(item=item, key=DUE_CLOCK, due_at=calendar.end_of_day(problem.due_on))
    recolour(problem, now=now)
    return problem


@transaction.atomic
def problem_close_out(*, actor: Actor, problem: Problem, reason: str) -> Problem:
    """Close the problem out (销号) after the effectiveness check: the assigning unit."""
    item = _require_assigning_unit(actor, problem)
    ledger.item_request_close(actor=actor, item=item, reason=reason)
    return problem


@transaction.atomic
def problem_recur(
    *,
    actor: Actor,
    problem: Problem,
    reason: str,
    due_on: dt.date | None = None,
    now: dt.datetime | None = None,
) -> Problem:
    """The problem came back: reopen the same item (history, source and links kept).

    The new deadline is ``due_on``, else as long from today as the first one was.
    """
    now = now or timezone.now()
    item = _require_assigning_unit(actor, problem)
    today = now.astimezone(calendar.LOCAL_TZ).date()
    if due_on is None:
        due_on = today + max(problem.due_on - problem.starts_on, dt.timedelta(days=1))
    elif due_on < today:
        raise InvalidInput.at("due_on", _("The due date cannot be in the past."))
    if item.is_open:
        raise Conflict(_("The problem is still open; a recurrence reopens a closed one."))
    ledger.item_reopen(actor=actor, item=item, reason=reason)
    before = _facts(problem)
    problem.recurrences += 1
    problem.starts_on, problem.due_on = today, due_on
    problem.submitted_at = problem.accepted_at = problem.effect_checked_at = None
    problem.on_time = None
    problem.save()
    ledger.item_clock_set(item=item, key=DUE_CLOCK, due_at=calendar.end_of_day(due_on))
    _audit(actor, problem, before, {**_facts(problem), "recurrence": problem.recurrences})
    recolour(problem, now=now)
    return problem


@transaction.atomic
def saving_record(
    *,
    actor: Actor,
    problem: Problem,
    label: str,
    baseline: Any,
    current: Any,
    unit_of_measure: str = "",
    now: dt.datetime | None = None,
) -> Saving:
    """Record a saving against its baseline (e.g. vehicle costs 40 % lower)."""
    _require_rectifier(actor, problem)
    base, value = _number(baseline), _number(current)
    if not (label or "").strip():
        raise InvalidInput.at("label", _("Say what is measured."))
    if base is None or base <= 0:
        raise InvalidInput.at("baseline", _("Give a baseline above zero."))
    if value is None or value < 0:
        raise InvalidInput.at("current", _("Give the current figure (zero or more)."))
    saving = Saving.objects.create(
        problem=problem,
        label=label.strip(),
        unit_of_measure=(unit_of_measure or "").strip(),
        baseline=base,
        current=value,
        recorded_at=now or timezone.now(),
    )
    _audit(actor, problem, None, {"saving": saving.label, "baseline": str(base), "now": str(value)})
    return saving


def _facts(problem: Problem) -> dict[str, Any]:
    return {
        "due_on": problem.due_on.isoformat(),
        "measures": problem.measures,
        "root_cause": problem.root_cause,
    }


# ------------------------------------------------------------------ colour


def progress_of(problem: Problem, today: dt.date) -> colours.Progress:
    pairs = [(t.done, t.target) for t in problem.targets.all()]
    late = problem.milestones.filter(done_at__isnull=True, due_on__lt=today).exists()
    return colours.Progress(share_done=colours.share_done(pairs), milestone_late=late)


def colour_now(problem: Problem, item: Item, now: dt.datetime) -> str:
    """The problem's colour at ``now``: none once accepted or closed."""
    if not item.is_open or item.state not in COLOURED_STATES:
        return Colour.NONE
    today = now.astimezone(calendar.LOCAL_TZ).date()
    return colours.colour_of(
        now=now,
        starts_on=problem.starts_on,
        due_on=problem.due_on,
        progress=progress_of(problem, today),
    )


def recolour(problem: Problem, *, now: dt.datetime | None = None) -> bool:
    """Recompute and store the problem's colour; True when it changed."""
    now = now or timezone.now()
    colour = colour_now(problem, _item(problem), now)
    if colour == problem.colour:
        return False
    previous = problem.colour
    Problem.objects.filter(pk=problem.pk).update(colour=colour, colour_since=now)
    problem.colour, problem.colour_since = colour, now
    signals.problem_recoloured.send(sender=Problem, problem=problem, previous=previous, now=now)
    return True
