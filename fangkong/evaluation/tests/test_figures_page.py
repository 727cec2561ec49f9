"""The figures page: what the head, the supervisor and window staff see, the links behind
the numbers, the Excel export with its audit row, and clear answers to bad input."""

import io
import re

import openpyxl
import pytest

from fangkong.core.models import AuditLog
from fangkong.evaluation import services
from fangkong.evaluation.models import Level

from .helpers import at, build_centre, rated, travel

pytestmark = pytest.mark.django_db


def _june(c):
    rated(c, Level.VERY_SATISFIED, when="2026-06-05")
    rated(c, Level.DISSATISFIED, when="2026-06-06")
    other = services.window_create(actor=c.head, unit=c.station, number="4", name="社保窗口")
    case = services.case_register(
        actor=c.head, service=c.social, window=other, now=at("2026-06-07")
    )
    services.rate(case=case, new=services.NewRating(level=5), now=at("2026-06-07"))
    return other


def test_the_head_sees_the_centre_by_station_with_links_to_the_lists(client, org):
    c = build_centre(org)
    _june(c)
    client.force_login(c.head)
    response = client.get(f"/evaluation/figures/?unit={c.centre.pk}&from=2026-06-01&to=2026-06-30")
    assert response.status_code == 200
    html = response.content.decode()
    assert re.search(r'id="total-ratings"><a href="/evaluation/ratings/\?[^"]+">3</a>', html)
    assert 'id="total-good-rate">66.7%<' in html
    # the bad review count opens the bad-review list with the same filters
    assert f"/evaluation/reviews/?unit={c.centre.pk}&amp;from=2026-06-01&amp;to=2026-06-30" in html
    # the station's row drills down to its windows
    assert f"?unit={c.station.pk}&amp;from=2026-06-01&amp;to=2026-06-30&amp;group=window" in html
    assert "社保参保登记" in html  # the coverage grid
    by_window = client.get(
        f"/evaluation/figures/?unit={c.station.pk}&from=2026-06-01&to=2026-06-30&group=window"
    ).content.decode()
    ranking = by_window[by_window.index('id="ranking"') :]
    assert ranking.index("社保窗口") < ranking.index("综合窗口")  # 100 % before 50 %
    assert f"window={c.window.pk}" in by_window


def test_window_staff_see_their_own_figures_only(client, org):
    c = build_centre(org)
    other = _june(c)
    client.force_login(c.clerk)
    html = client.get(
        f"/evaluation/figures/?from=2026-06-01&to=2026-06-30&window={other.pk}&group=window"
    ).content.decode()
    assert 'id="total-ratings">2<' in html  # the clerk's two, not the other window's one
    assert "format=xlsx" not in html
    assert client.get("/evaluation/figures/?format=xlsx").status_code == 403


def test_the_excel_export_is_audited(client, org):
    c = build_centre(org)
    _june(c)
    client.force_login(c.head)
    response = client.get(
        f"/evaluation/figures/?unit={c.station.pk}&from=2026-06-01&to=2026-06-30&group=window&format=xlsx"
    )
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == 4 and rows[1][1] == 3  # header, total, two windows
    assert AuditLog.objects.filter(
        action=AuditLog.Action.EXPORT, object_type="evaluation.figures"
    ).exists()


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ("from=2026-02-30", 422),
        ("from=2026-07-01&to=2026-06-01", 422),
        ("group=everything", 422),
        ("window=abc", 422),
        ("window=99999999", 404),
        ("unit=99999999", 404),
        ("from=3000-01-01", 422),
    ],
)
def test_bad_input_is_a_clear_error_never_a_500(client, org, query, status):
    c = build_centre(org)
    client.force_login(c.head)
    assert client.get(f"/evaluation/figures/?{query}").status_code == status


def test_someone_without_evaluation_rights_is_refused(client, org):
    build_centre(org)
    client.force_login(org.user("guard", org.ent_a))
    assert client.get("/evaluation/figures/").status_code == 403


@pytest.fixture
def first_of_december():
    """10 past midnight on 1 December (still 30 November in UTC), from the org's making on:
    a unit made later would not be open yet."""
    with travel("2026-12-01", "00:10"):
        yield


def test_this_month_so_far_by_default(first_of_december, client, org):
    c = build_centre(org)
    client.force_login(c.supervisor)
    html = client.get("/evaluation/figures/").content.decode()
    assert 'name="from" value="2026-12-01"' in html
    assert 'name="to" value="2026-12-01"' in html
    assert c.centre.name in html


def test_the_bad_review_count_is_the_number_of_rows_behind_its_link(client, org):
    """The figure and the list count the same bad reviews, an upheld appeal left out of both."""
    import re

    from fangkong.evaluation.models import BadReview, Outcome

    c = build_centre(org)
    rated(c, Level.DISSATISFIED, when="2026-06-05")
    rated(c, Level.VERY_DISSATISFIED, when="2026-06-06")
    appealed = BadReview.objects.get(rating=rated(c, Level.DISSATISFIED, when="2026-06-07"))
    with travel("2026-06-07", "15:00"):
        services.callback_record(
            actor=c.head, bad_review=appealed, how="phone", reached=True, said="点错了"
        )
        services.outcome_set(
            actor=c.head, bad_review=appealed, outcome=Outcome.APPEAL, text="群众误操作"
        )
        services.appeal_decide(actor=c.supervisor, bad_review=appealed, upheld=True, note="误评")
    client.force_login(c.supervisor)
    html = client.get(
        f"/evaluation/figures/?unit={c.centre.pk}&from=2026-06-01&to=2026-06-30"
    ).content.decode()
    found = re.search(r'id="total-bad"><a href="([^"]+)">(\d+)<', html)
    assert found is not None
    link, count = found.group(1).replace("&amp;", "&"), int(found.group(2))
    assert count == 2
    listed = client.get(link)
    assert listed.status_code == 200
    assert listed.context["page_obj"].paginator.count == count
