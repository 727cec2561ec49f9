"""A bad review followed to the end: clocks from the jurisdiction profile, the alert, the
callback, the outcome (with a rectification problem), the appeal and the 追评."""

import pytest

from fangkong.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from fangkong.evaluation import services
from fangkong.evaluation.ledger_kind import APPEALED, AWAITING_REVIEW, HANDLING, RECTIFYING
from fangkong.evaluation.models import BadReview, Level, Outcome, Profile, Rating
from fangkong.ledger.models import Item
from fangkong.notify.models import Event, InboxItem
from fangkong.rectification import services as rectification

from .helpers import at, build_centre, rated, travel

pytestmark = pytest.mark.django_db


def test_a_bad_review_on_the_eve_of_national_day_gets_the_seeds_clocks(org):
    c = build_centre(org)
    rating = rated(c, Level.VERY_DISSATISFIED, tags=["态度不好", "多次跑腿"])
    bad = BadReview.objects.get(rating=rating)
    assert bad.callback_due_at == at("2026-10-01", "10:00")  # 24 natural hours
    # 7 working days from the next working day: 1–7 October are off, Saturday 10 October is
    # a make-up working day: 8, 9, 10, 12, 13, 14, 15.
    assert bad.rectify_due_at == at("2026-10-15", "23:59").replace(second=59)
    item = Item.objects.get(pk=bad.item_id)
    assert item.kind == "bad_review" and list(item.owners.all()) == [c.head]
    assert item.clocks.get(key="callback").due_at == bad.callback_due_at


def test_with_the_zhejiang_preset_the_deadlines_change(org):
    c = build_centre(org)
    services.profile_activate(
        actor=org.user("group_admin", org.group), profile=Profile.objects.get(name="浙江省")
    )
    bad = BadReview.objects.get(rating=rated(c, Level.DISSATISFIED))
    assert bad.profile_name == "浙江省"
    assert bad.callback_due_at == at("2026-10-01", "10:00")
    # 15 working days: 8, 9, 10, 12–16, 19–23, 26, 27 October.
    assert bad.rectify_due_at.date() == at("2026-10-27").date()


def test_the_centres_head_and_supervisor_are_alerted_with_what_happened(
    org, django_capture_on_commit_callbacks
):
    c = build_centre(org)
    with django_capture_on_commit_callbacks(execute=True):
        rated(c, Level.VERY_DISSATISFIED, tags=["态度不好"])
    alerts = InboxItem.objects.filter(notification__event=Event.BAD_REVIEW)
    assert {row.user for row in alerts} == {c.head, c.supervisor}
    body = alerts.first().notification.body
    assert "社保参保登记" in body and "3 综合窗口" in body and "态度不好" in body
    assert "王晓红" not in body  # the staff member's full name stays off group chats


def test_one_rating_per_case_and_a_good_rating_opens_nothing(org):
    c = build_centre(org)
    rating = rated(c, Level.VERY_SATISFIED)
    with pytest.raises(Conflict):
        services.rate(case=rating.case, new=services.NewRating(level=Level.DISSATISFIED))
    assert Rating.objects.filter(case=rating.case).count() == 1
    assert not BadReview.objects.exists()


def test_tags_must_be_those_offered_at_the_level(org):
    c = build_centre(org)
    case = services.case_register(actor=c.clerk, service=c.social)
    with pytest.raises(InvalidInput) as refused:
        services.rate(case=case, new=services.NewRating(level=5, tags=["态度不好"]))
    assert "tags" in refused.value.detail
    assert not Rating.objects.exists()


def test_callback_then_rectification_problem_then_follow_up_review_closes_it(org):
    c = build_centre(org)
    bad = BadReview.objects.get(rating=rated(c, Level.DISSATISFIED))
    with travel("2026-09-30", "15:00"):
        services.callback_record(
            actor=c.head, bad_review=bad, how="phone", reached=True, said="等候时间太长"
        )
    item = Item.objects.get(pk=bad.item_id)
    assert item.state == HANDLING
    assert item.clocks.get(key="callback").met_at == at("2026-09-30", "15:00")

    with travel("2026-09-30", "16:00"):
        services.outcome_set(
            actor=c.head, bad_review=bad, outcome=Outcome.RECTIFY, text="增设取号机"
        )
    bad.refresh_from_db()
    item.refresh_from_db()
    assert item.state == RECTIFYING and bad.problem is not None
    problem = bad.problem
    assert problem.due_on.isoformat() == "2026-10-15" and problem.source == "bad_review"

    # The bad review moves on only when the problem is accepted (by someone other than its owner).
    owner = org.user("unit_admin", c.station)
    with travel("2026-10-09"):
        rectification.problem_assign(actor=c.supervisor, problem=problem, owners=[owner])
        rectification.problem_submit(actor=owner, problem=problem, measures="增设两台取号机")
    item.refresh_from_db()
    assert item.state == RECTIFYING
    # recorded the evening before with its own time: the review follows the acceptance's
    with travel("2026-10-09", "18:00"):
        rectification.problem_accept(actor=c.supervisor, problem=problem, now=at("2026-10-10"))
    item.refresh_from_db()
    assert item.state == AWAITING_REVIEW
    bad.refresh_from_db()
    assert item.clocks.get(key="rectify").met_at == bad.rectified_at == at("2026-10-10")

    with travel("2026-10-11"):
        services.follow_up_review(bad_review=bad, level=Level.SATISFIED, text="改进了")
    item.refresh_from_db()
    assert not item.is_open and "满意" in item.close_reason
    with travel("2026-10-12"), pytest.raises(Conflict):
        services.follow_up_review(bad_review=bad, level=Level.VERY_SATISFIED)


def test_an_upheld_appeal_removes_the_rating_from_the_figures_and_keeps_it(org):
    c = build_centre(org)
    bad = BadReview.objects.get(rating=rated(c, Level.VERY_DISSATISFIED))
    with travel("2026-09-30", "11:00"):
        services.callback_record(
            actor=c.head, bad_review=bad, how="phone", reached=True, said="误点"
        )
        services.outcome_set(
            actor=c.head, bad_review=bad, outcome=Outcome.APPEAL, text="群众误操作，已确认"
        )
    assert Item.objects.get(pk=bad.item_id).state == APPEALED
    # The head who appealed may not decide it.
    with travel("2026-09-30", "14:00"), pytest.raises(PermissionDenied):
        services.appeal_decide(actor=c.head, bad_review=bad, upheld=True, note="同意")
    with travel("2026-09-30", "14:00"):
        services.appeal_decide(actor=c.supervisor, bad_review=bad, upheld=True, note="核实为误评")
    rating = Rating.objects.get(pk=bad.rating_id)
    assert rating.excluded is True
    assert Rating.objects.filter(excluded=False).count() == 0 and Rating.objects.count() == 1
    assert not Item.objects.get(pk=bad.item_id).is_open


def test_no_follow_up_review_within_the_wait_closes_with_that_noted(org):
    c = build_centre(org)
    bad = BadReview.objects.get(rating=rated(c, Level.DISSATISFIED))
    with travel("2026-10-08"):
        services.callback_record(
            actor=c.head, bad_review=bad, how="visit", reached=True, said="态度问题"
        )
        services.outcome_set(
            actor=c.head, bad_review=bad, outcome=Outcome.FIXED_AT_ONCE, text="当面致歉"
        )
    with travel("2026-10-15", "08:59"):
        assert services.follow_ups_expire() == 0
    with travel("2026-10-15", "09:01"):
        assert services.follow_ups_expire() == 1
    item = Item.objects.get(pk=bad.item_id)
    assert not item.is_open and "7" in item.close_reason


def test_badge_codes_are_signed_and_revocable(org):
    c = build_centre(org)
    badge = services.badge_issue(actor=c.head, unit=c.station, staff=c.staff)
    token = services.badge_token(badge)
    assert services.badge_from_token(token) == badge
    with pytest.raises(NotFound):
        services.badge_from_token(token[:-1] + ("A" if token[-1] != "A" else "B"))
    services.badge_revoke(actor=c.head, badge=badge)
    with pytest.raises(NotFound):
        services.badge_from_token(token)


def test_a_badge_scan_makes_one_face_to_face_case_per_request(org):
    import uuid

    c = build_centre(org)
    badge = services.badge_issue(actor=c.head, unit=c.station, staff=c.staff)
    request_id = uuid.uuid4()
    first = services.case_from_badge(badge=badge, service=c.housing, request_id=request_id)
    again = services.case_from_badge(badge=badge, service=c.housing, request_id=request_id)
    assert first == again and first.staff == c.staff and first.channel == "badge"
    other = services.badge_issue(actor=c.head, unit=c.centre)
    with pytest.raises(InvalidInput):  # 不动产 is offered at the station, not the centre
        services.case_from_badge(badge=other, service=c.housing, request_id=uuid.uuid4())


def test_the_appeals_to_decide_are_only_those_in_the_deciders_units(org):
    """Seeing a centre's bad reviews is not deciding its appeals: someone who reads the
    whole group but supervises another enterprise has none of the centre's to decide."""
    from fangkong.accounts.models import RoleAssignment
    from fangkong.accounts.roles import Role
    from fangkong.evaluation import selectors

    c = build_centre(org)
    bad = BadReview.objects.get(rating=rated(c, Level.VERY_DISSATISFIED))
    with travel("2026-09-30", "11:00"):
        services.callback_record(
            actor=c.head, bad_review=bad, how="phone", reached=True, said="误点"
        )
        services.outcome_set(actor=c.head, bad_review=bad, outcome=Outcome.APPEAL, text="误点")
    elsewhere = org.user(Role.SUPERVISOR, org.ent_b)
    RoleAssignment.objects.create(user=elsewhere, role=Role.VIEWER, unit=org.group)
    assert list(selectors.appeals_to_decide(c.supervisor)) == [bad]
    assert list(selectors.appeals_to_decide(elsewhere)) == []


def test_a_callback_shows_in_the_ledger_history_as_a_callback(client, org):
    # The ledger's history named every follow-up 随访 (a tracker's visit), a bad review's
    # callback too; it is a 回访.
    c = build_centre(org)
    bad = BadReview.objects.get(rating=rated(c, Level.VERY_DISSATISFIED))
    services.callback_record(actor=c.head, bad_review=bad, how="phone", reached=True, said="好")
    client.force_login(c.head)
    page = client.get(f"/ledger/item/{bad.item_id}/").content.decode()
    assert " · 回访 · " in page and " · 随访 · " not in page  # the history line's kind
