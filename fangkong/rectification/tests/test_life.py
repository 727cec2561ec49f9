"""A problem's life: registered, assigned, worked with evidence, accepted by the assigning
unit, checked for effect, closed out, and reopened when it recurs.

Every step stands still at a fixed instant in November 2026 (``travel``), so the suite's
runs at other instants do not move the schedule."""

import datetime as dt
import hashlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from fangkong.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from fangkong.ledger.models import Entry
from fangkong.rectification import services
from fangkong.rectification.ledger_kind import ACCEPTED, CHECKED, IN_PROGRESS, SUBMITTED
from fangkong.rectification.models import Colour, Evidence, Target

from .helpers import assign, at, register, travel

pytestmark = pytest.mark.django_db


def _submitted(org, problem, when="2026-11-10"):
    owner = org.user("unit_admin", org.plant_a)
    assign(org, problem, owner)
    with travel(when):
        services.problem_progress(actor=owner, problem=problem, note="已更换灯具")
    with travel(when, "10:00"):
        services.problem_submit(actor=owner, problem=problem, measures="更换灯具，建立巡检制度")
    return owner


def _accepted_and_checked(org, problem):
    supervisor = org.user("supervisor", org.ent_a)
    with travel("2026-11-11"):
        services.problem_accept(actor=supervisor, problem=problem)
    with travel("2026-12-11"):
        services.problem_check_effect(
            actor=supervisor, problem=problem, effective=True, note="回头看无反弹"
        )
    return supervisor


def test_acceptance_by_the_owner_is_refused_the_assigning_unit_accepts(org):
    problem = register(org)
    owner = _submitted(org, problem)
    with travel("2026-11-11"), pytest.raises(PermissionDenied) as refused:
        services.problem_accept(actor=owner, problem=problem)
    assert "交办单位" in str(refused.value.message)
    # A group admin who owns the problem may not accept their own work either.
    admin = org.user("group_admin", org.group)
    problem.item.owners.add(admin)
    with travel("2026-11-11"), pytest.raises(PermissionDenied):
        services.problem_accept(actor=admin, problem=problem)

    with travel("2026-11-11"):
        services.problem_accept(actor=org.user("supervisor", org.ent_a), problem=problem)
    problem.refresh_from_db()
    problem.item.refresh_from_db()
    assert problem.item.state == ACCEPTED
    assert problem.on_time is True  # submitted on 10 November, due on the 20th
    assert problem.item.clocks.get(key="due").met_at == at("2026-11-10", "10:00")


def test_close_out_before_the_effectiveness_check_is_refused(org):
    problem = register(org)
    _submitted(org, problem)
    supervisor = org.user("supervisor", org.ent_a)
    with travel("2026-11-11"):
        services.problem_accept(actor=supervisor, problem=problem)
        with pytest.raises(Conflict):
            services.problem_close_out(actor=supervisor, problem=problem, reason="已整改")
    # The check itself waits N days after the acceptance (30 by default).
    with travel("2026-11-20"), pytest.raises(Conflict) as early:
        services.problem_check_effect(actor=supervisor, problem=problem, effective=True)
    assert "2026-12-11" in str(early.value.message)

    with travel("2026-12-11"):
        services.problem_check_effect(
            actor=supervisor, problem=problem, effective=True, note="回头看无反弹"
        )
        problem.item.refresh_from_db()
        assert problem.item.state == CHECKED
        services.problem_close_out(actor=supervisor, problem=problem, reason="整改到位，予以销号")
    problem.item.refresh_from_db()
    assert problem.item.is_open is False and problem.item.state == "closed"


def test_returned_for_rework_needs_a_reason_and_goes_back_to_work(org):
    problem = register(org)
    _submitted(org, problem)
    supervisor = org.user("supervisor", org.ent_a)
    with travel("2026-11-11"):
        with pytest.raises(InvalidInput):
            services.problem_return(actor=supervisor, problem=problem, reason=" ")
        services.problem_return(actor=supervisor, problem=problem, reason="照片不清晰，补充证据")
    problem.item.refresh_from_db()
    assert problem.item.state == IN_PROGRESS
    entry = problem.item.entries.filter(kind=Entry.Kind.TRANSITION).last()
    assert entry.text == "照片不清晰，补充证据"
    assert entry.data == {"from": SUBMITTED, "to": IN_PROGRESS}


def test_a_recurrence_reopens_the_problem_with_its_link_kept(org):
    problem = register(org)
    _submitted(org, problem)
    supervisor = _accepted_and_checked(org, problem)
    with travel("2026-12-11", "10:00"):
        services.problem_close_out(actor=supervisor, problem=problem, reason="销号")
    item_pk = problem.item_id

    with travel("2027-01-05"):
        services.problem_recur(actor=supervisor, problem=problem, reason="复查发现路灯又坏")
    problem.refresh_from_db()
    problem.item.refresh_from_db()
    assert problem.item_id == item_pk  # the same ledger item: its history and source kept
    assert problem.item.is_open and problem.item.state == IN_PROGRESS
    assert problem.recurrences == 1 and problem.source_ref == "审计报告〔2026〕3号"
    assert problem.item.entries.filter(kind=Entry.Kind.REOPEN, text="复查发现路灯又坏").exists()
    assert problem.due_on == dt.date(2027, 1, 23)  # as long as the first time: 18 days
    assert problem.item.clocks.get(key="due").met_at is None


def test_progress_keeps_quantities_and_evidence_with_its_hash(org):
    problem = register(org, target=698)
    owner = org.user("unit_admin", org.plant_a)
    assign(org, problem, owner)
    target = problem.targets.get()
    photo = SimpleUploadedFile("lamp.jpg", b"\xff\xd8lamp photo", content_type="image/jpeg")
    with travel("2026-11-05"):
        services.problem_progress(
            actor=owner, problem=problem, done={target.pk: "300"}, files=[photo]
        )
    target.refresh_from_db()
    assert target.done == 300
    evidence = Evidence.objects.get(problem=problem)
    assert evidence.sha256 == hashlib.sha256(b"\xff\xd8lamp photo").hexdigest()
    problem.item.refresh_from_db()
    assert problem.item.state == IN_PROGRESS  # the first report starts the work

    # More than the target, or a negative count, is refused at the field; nothing changes.
    for bad in ("699", "-1", "三百"):
        with travel("2026-11-06"), pytest.raises(InvalidInput) as refused:
            services.problem_progress(actor=owner, problem=problem, done={target.pk: bad})
        assert "done" in refused.value.detail
    assert Target.objects.get(pk=target.pk).done == 300


def test_someone_outside_the_scope_does_not_see_the_problem(org):
    problem = register(org)
    with pytest.raises(NotFound):
        services.problem_accept(actor=org.user("supervisor", org.ent_b), problem=problem)


def test_the_responsible_unit_lies_below_the_assigning_unit(org):
    with pytest.raises(InvalidInput) as refused:
        register(org, unit=org.plant_b)
    assert "unit" in refused.value.detail


def test_colours_at_every_change(org):
    problem = register(org, target=698)
    assert problem.colour == Colour.NONE
    owner = org.user("unit_admin", org.plant_a)
    assign(org, problem, owner)
    target = problem.targets.get()
    # By 13 November 11 of the 19 days to 20 November (58 %) are gone; 300 of 698 lamps
    # (43 %) is behind the schedule, 450 (64 %) ahead of it.
    with travel("2026-11-13", "12:00"):
        services.problem_progress(actor=owner, problem=problem, done={target.pk: 300})
    assert problem.colour == Colour.YELLOW
    with travel("2026-11-13", "12:30"):
        services.problem_progress(actor=owner, problem=problem, done={target.pk: 450})
    assert problem.colour == Colour.NONE
