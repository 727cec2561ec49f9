"""The bad-review pages: the list with its filters, clocks and export; one bad review with
its callback, outcome and appeal forms (a refusal keeps what was typed); the 追评 link;
a window-staff member's own ratings; scope (404 outside, 403 without the permission)."""

import datetime as dt
import io
import re

import openpyxl
import pytest
from django.utils import timezone

from fangkong.evaluation import selectors, services
from fangkong.evaluation.ledger_kind import APPEALED, AWAITING_REVIEW, HANDLING
from fangkong.evaluation.models import BadReview, Level, Rating
from fangkong.ledger.services.sweep import overdue_sweep

from .helpers import build_centre, rated, travel

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _wednesday_morning():
    """Each test stands at 10:00 on Wednesday 18 November 2026 unless it says otherwise."""
    with travel("2026-11-18", "10:00"):
        yield


def bad_now(c, level=Level.VERY_DISSATISFIED, tags=("态度不好",)):
    case = services.case_register(actor=c.clerk, service=c.social)
    rating = services.rate(case=case, new=services.NewRating(level=level, tags=list(tags)))
    return BadReview.objects.get(rating=rating)


def test_the_list_shows_bad_reviews_with_their_clocks_and_filters_them(client, org):
    c = build_centre(org)
    # In March, read in November: both clocks long past.
    very = BadReview.objects.get(
        rating=rated(c, Level.VERY_DISSATISFIED, when="2026-03-10", tags=["态度不好"])
    )
    rated(c, Level.DISSATISFIED, when="2026-03-09")
    rated(c, Level.VERY_SATISFIED, when="2026-03-10")  # a good rating is no bad review
    client.force_login(c.head)
    page = client.get("/evaluation/reviews/")
    assert page.status_code == 200
    html = page.content.decode()
    assert page.context["page_obj"].paginator.count == 2
    assert f"/evaluation/reviews/{very.pk}/" in html
    assert "overdue" in html  # the clocks of March are long past: shown red
    only_very = client.get("/evaluation/reviews/?level=1")
    assert [row["bad"].pk for row in only_very.context["rows"]] == [very.pk]
    one_day = client.get("/evaluation/reviews/?from=2026-03-09&to=2026-03-09")
    assert one_day.context["page_obj"].paginator.count == 1
    at_station = client.get(f"/evaluation/reviews/?unit={c.station.pk}&state=callback_pending")
    assert at_station.context["page_obj"].paginator.count == 2
    overdue_sweep()  # the ledger's sweep marks the late items, as every few minutes
    assert client.get("/evaluation/reviews/?overdue=1").context["page_obj"].paginator.count == 2


def test_bad_filter_values_answer_422_with_the_field_never_500(client, org):
    c = build_centre(org)
    client.force_login(c.head)
    for query in ("unit=abc", "unit=99999999", "level=5", "state=nope", "from=2026-13-01"):
        response = client.get(f"/evaluation/reviews/?{query}")
        assert response.status_code == 422, query
    backwards = client.get("/evaluation/reviews/?from=2026-09-30&to=2026-09-01")
    assert backwards.status_code == 422
    # The list's own page comes back, the problem under its filter and no rows; the level
    # is the rating's (评价等级), not a supervision order's (督办级别).
    level = client.get("/evaluation/reviews/?level=3").content.decode()
    assert 'id="review-filters"' in level and 'id="review-count"' in level
    assert re.search(
        r'<select id="f-level" name="level" aria-invalid="true">.*?</select>'
        r'<p class="errors" role="alert">请从列表中选择评价等级。</p>',
        level,
    )
    assert "督办级别" not in level
    window = client.get("/evaluation/reviews/?window=abc").content.decode()
    assert re.search(r'id="f-window" name="window" aria-invalid="true"', window)
    backwards = client.get(
        "/evaluation/reviews/?from=2026-09-30&to=2026-09-01&figure=called&counted=1"
    ).content.decode()
    assert 'value="2026-09-30"' in backwards  # what was typed stays, the figure's list too
    assert '<input type="hidden" name="figure" value="called">' in backwards
    assert '<input type="hidden" name="counted" value="1">' in backwards
    figure = client.get("/evaluation/reviews/?figure=nope").content.decode()
    assert 'id="review-filters"' in figure and '<p class="errors" role="alert">' in figure


def test_export_holds_the_filtered_rows_without_personal_data(client, org):
    c = build_centre(org)
    case = services.case_register(
        actor=c.clerk, service=c.social, person_name="李四", person_phone="13800001234"
    )
    services.rate(case=case, new=services.NewRating(level=1, tags=["态度不好"], text="排队太久"))
    client.force_login(c.head)
    response = client.get("/evaluation/reviews/export/?format=xlsx")
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert len(rows) == 2
    assert "社保参保登记" in rows[1] and "排队太久" in rows[1] and "王晓红" in rows[1]
    flat = " ".join(str(v) for v in rows[1])
    assert "李四" not in flat and "13800001234" not in flat


def test_scope_hides_other_centres_and_window_staff_get_403(client, org):
    c = build_centre(org)
    bad = bad_now(c)
    client.force_login(org.user("service_head", org.ent_b))
    assert client.get(f"/evaluation/reviews/{bad.pk}/").status_code == 404
    assert client.get("/evaluation/reviews/").context["page_obj"].paginator.count == 0
    client.force_login(c.clerk)
    assert client.get("/evaluation/reviews/").status_code == 403
    assert client.get(f"/evaluation/reviews/{bad.pk}/").status_code == 404


def test_the_staff_name_is_masked_unless_the_viewer_manages_the_unit(client, org):
    c = build_centre(org)
    bad = bad_now(c)
    client.force_login(c.head)
    assert "王晓红" in client.get(f"/evaluation/reviews/{bad.pk}/").content.decode()
    client.force_login(c.supervisor)
    html = client.get(f"/evaluation/reviews/{bad.pk}/").content.decode()
    assert "王晓红" not in html and "王*红" in html


def test_a_refused_callback_keeps_what_was_typed_and_names_the_field(client, org):
    c = build_centre(org)
    bad = bad_now(c)
    client.force_login(c.head)
    url = f"/evaluation/reviews/{bad.pk}/"
    refused = client.post(url, {"form": "callback", "how": "phone", "said": "已解释流程"})
    assert refused.status_code == 422
    html = refused.content.decode()
    assert "已解释流程" in html and 'role="alert"' in html
    empty = client.post(url, {"form": "callback", "how": "phone", "reached": "1", "said": ""})
    assert empty.status_code == 422
    assert (
        'name="said" rows="3" maxlength="500" autofocus aria-invalid="true"'
        in empty.content.decode()
    )
    assert not bad.callbacks.exists()
    done = client.post(
        url, {"form": "callback", "how": "phone", "reached": "1", "said": "已联系，表示理解"}
    )
    assert done.status_code == 302
    page = client.get(url).content.decode()
    assert "已联系，表示理解" in page and 'id="form-outcome"' in page
    bad.refresh_from_db()
    assert bad.item.state == HANDLING


def test_fixed_at_once_shows_the_follow_up_link_with_its_qr_and_copy_button(client, org):
    c = build_centre(org)
    bad = bad_now(c)
    services.callback_record(actor=c.head, bad_review=bad, how="phone", reached=True, said="好")
    client.force_login(c.head)
    url = f"/evaluation/reviews/{bad.pk}/"
    refused = client.post(url, {"form": "outcome", "outcome": "fixed", "reply": "已致歉"})
    assert refused.status_code == 422 and "已致歉" in refused.content.decode()
    done = client.post(
        url, {"form": "outcome", "outcome": "fixed", "text": "当场补办", "reply": "已致歉"}
    )
    assert done.status_code == 302
    html = client.get(url).content.decode()
    bad.refresh_from_db()
    assert bad.item.state == AWAITING_REVIEW
    assert services.follow_up_token(bad) in html
    assert 'id="follow-up-qr"' in html and 'data-copy="follow-up-url"' in html


def test_rectify_links_the_rectification_problem(client, org):
    c = build_centre(org)
    bad = bad_now(c)
    services.callback_record(actor=c.head, bad_review=bad, how="visit", reached=True, said="好")
    client.force_login(c.head)
    url = f"/evaluation/reviews/{bad.pk}/"
    client.post(url, {"form": "outcome", "outcome": "rectify", "text": "优化取号流程"})
    bad.refresh_from_db()
    assert bad.problem_id is not None
    html = client.get(url).content.decode()
    assert 'id="problem-link"' in html


def test_the_appeal_is_decided_by_the_supervisor_not_the_head(client, org):
    c = build_centre(org)
    bad = bad_now(c)
    services.callback_record(actor=c.head, bad_review=bad, how="phone", reached=True, said="恶意")
    services.outcome_set(actor=c.head, bad_review=bad, outcome="appeal", text="录像显示服务规范")
    url = f"/evaluation/reviews/{bad.pk}/"
    client.force_login(c.head)
    assert 'id="form-appeal"' not in client.get(url).content.decode()
    assert client.post(url, {"form": "appeal", "upheld": "1", "note": "同意"}).status_code == 403
    client.force_login(c.supervisor)
    assert 'id="form-appeal"' in client.get(url).content.decode()
    refused = client.post(url, {"form": "appeal", "note": "核实录像"})
    assert refused.status_code == 422 and "核实录像" in refused.content.decode()
    assert (
        client.post(url, {"form": "appeal", "upheld": "1", "note": "核实录像"}).status_code == 302
    )
    assert Rating.objects.get(pk=bad.rating_id).excluded
    assert 'id="excluded"' in client.get(url).content.decode()


def test_an_unknown_form_or_a_step_out_of_turn_is_a_clear_refusal(client, org):
    c = build_centre(org)
    bad = bad_now(c)
    client.force_login(c.head)
    url = f"/evaluation/reviews/{bad.pk}/"
    assert client.post(url, {"form": "nope"}).status_code == 422
    out_of_turn = client.post(url, {"form": "outcome", "outcome": "fixed", "text": "x"})
    assert out_of_turn.status_code == 409 and 'role="alert"' in out_of_turn.content.decode()


def test_window_staff_see_their_own_ratings_and_open_bad_reviews(client, org):
    c = build_centre(org)
    last_month = timezone.localtime(selectors.month_start() - dt.timedelta(minutes=30))
    rated(c, Level.VERY_SATISFIED, when=f"{last_month:%Y-%m-%d}", hhmm=f"{last_month:%H:%M}")
    services.rate(
        case=services.case_register(actor=c.clerk, service=c.social),
        new=services.NewRating(level=5),
    )
    bad_now(c)
    client.force_login(c.clerk)
    month = client.get("/evaluation/reviews/mine/")
    assert month.status_code == 200 and month.context["page_obj"].paginator.count == 2
    # The month's rate reads the same here, on the home page and on the figures page (the
    # home page said 89 % where the figures said 89.1 %).
    assert "好评率 50.0%" in month.content.decode()
    assert "本月好评率：50.0%" in client.get("/").content.decode()
    assert 'id="total-good-rate">50.0%<' in client.get("/evaluation/figures/").content.decode()
    open_bad = client.get("/evaluation/reviews/mine/?open_bad=1")
    assert open_bad.context["page_obj"].paginator.count == 1
    # Their menu offers their own ratings; the head's does not (the head has every list).
    assert 'href="/evaluation/reviews/mine/"' in month.content.decode()
    client.force_login(c.head)
    assert 'href="/evaluation/reviews/mine/"' not in client.get("/").content.decode()
    client.force_login(c.supervisor)  # no window of their own: not their page
    assert client.get("/evaluation/reviews/mine/").status_code == 403


def test_states_shown_match_the_ledger(client, org):
    c = build_centre(org)
    bad = bad_now(c)
    services.callback_record(actor=c.head, bad_review=bad, how="phone", reached=True, said="好")
    services.outcome_set(actor=c.head, bad_review=bad, outcome="appeal", text="误评")
    client.force_login(c.supervisor)
    listed = client.get(f"/evaluation/reviews/?state={APPEALED}")
    assert [row["bad"].pk for row in listed.context["rows"]] == [bad.pk]
