"""What a walk through the pages as their users found: each mended, each kept."""

import pytest

from .helpers import build_centre, rows_behind

pytestmark = pytest.mark.django_db


def test_a_refused_query_shows_its_problem_in_words_not_python(client, org):
    """The citizens' page with a month that does not exist: the problem under the
    message, never the error's detail as Python prints a dict."""
    c = build_centre(org)
    page = client.get(f"/e/p/{c.centre.code}/?month=2026-13")
    main = page.content.decode().split("<main", 1)[1]
    assert page.status_code == 422
    assert "请按“年-月”填写月份" in main
    assert "{" not in main and "month" not in main  # no dict, no field name


def test_a_windows_code_links_to_its_tablet_page_and_a_staff_code_does_not(client, org):
    """The window's tablet (kiosk) page could only be reached by typing its address."""
    from fangkong.evaluation import services

    c = build_centre(org)
    window_code = services.badge_issue(actor=c.head, unit=c.station, window=c.window)
    services.badge_issue(actor=c.head, unit=c.station, staff=c.staff)
    client.force_login(c.head)
    page = client.get(f"/evaluation/admin/badges/?unit={c.station.pk}").content.decode()
    token = services.badge_token(window_code)
    assert page.count("data-kiosk") == 1 and f"/e/k/{token}/" in page
    assert client.get(f"/e/k/{token}/").status_code == 200


def test_each_bad_review_number_opens_the_list_of_what_it_counts(client, org):
    """Called back, rectified, follow-ups, appeals upheld: each opened the same unfiltered
    list; the windows' rows answered 422; window staff got 403."""
    import re

    from fangkong.evaluation import services
    from fangkong.evaluation.models import Level
    from fangkong.orgs.models import UnitKind
    from fangkong.orgs.services import unit_create

    from .helpers import rated, travel

    c = build_centre(org)
    for day in ("2026-06-05", "2026-06-06", "2026-06-08"):
        rated(c, Level.DISSATISFIED, when=day)
    rated(c, Level.VERY_SATISFIED, when="2026-06-09")
    with travel("2026-06-10", "10:00"):  # one at the centre itself: its own row counts it
        case = services.case_register(actor=c.head, service=c.social, unit=c.centre)
        services.rate(case=case, new=services.NewRating(level=Level.VERY_DISSATISFIED))
    # a child of another kind than centre or station (a window unit): its row links too
    unit_create(actor=None, code="ZBW1", name="综合窗口1", kind=UnitKind.WINDOW, parent=c.centre)
    client.force_login(c.head)
    for unit, group in ((c.centre, "unit"), (c.station, "window")):
        html = client.get(
            f"/evaluation/figures/?unit={unit.pk}&from=2026-06-01&to=2026-06-30&group={group}"
        ).content.decode()
        links = re.findall(r'<a href="(/evaluation/reviews/\?[^"]+)">(\d+)</a>', html)
        assert len(links) >= 8, links  # the totals' and every row's
        for url, number in links:
            assert rows_behind(client, url, "review-count") == int(number), url
        assert "figure=called" in html and "figure=upheld" in html
        assert html.count("figure=follow_up") >= 2  # the totals' and each row's 追评
    client.force_login(c.clerk)
    own = client.get("/evaluation/figures/?from=2026-06-01&to=2026-06-30").content.decode()
    assert "/evaluation/reviews/?" not in own  # their figures, not a list they cannot open


def test_the_import_preview_says_which_rows_rename_a_service(client, org):
    """An existing code with a new name renamed the service group-wide at the commit, and
    the preview did not say so."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from .test_back_office import workbook

    c = build_centre(org)
    client.force_login(c.head)
    renamed = [c.social.code, "社保参保登记（个人）", "社保", "", ""]
    upload = workbook([renamed, ["MZ001", "低保申请", "民政", "", ""]])
    preview = client.post(
        "/evaluation/admin/import/", {"file": SimpleUploadedFile("s.xlsx", upload)}
    )
    html = preview.content.decode()
    assert html.count("data-renames") == 1 and c.social.name in html


def test_a_rectify_outcome_names_the_problem_and_the_problem_links_back(client, org):
    """The review showed "整改问题 #22"; the problem's source said "差评 #11" and did not
    lead back to it."""
    from fangkong.evaluation import services

    from .test_review_pages import bad_now

    c = build_centre(org)
    bad = bad_now(c)
    services.callback_record(actor=c.head, bad_review=bad, how="visit", reached=True, said="好")
    client.force_login(c.head)
    review_url = f"/evaluation/reviews/{bad.pk}/"
    client.post(review_url, {"form": "outcome", "outcome": "rectify", "text": "优化取号流程"})
    bad.refresh_from_db()
    review = client.get(review_url).content.decode()
    problem = bad.problem
    assert f">{problem.title}</a>" in review and "#" + str(problem.pk) not in review
    assert problem.source_ref.startswith("差评 ") and c.social.name in problem.source_ref
    page = client.get(f"/rectification/{problem.pk}/").content.decode()
    assert f'id="origin-link">{problem.source_ref}' in page and review_url in page


def test_the_gaps_page_counts_the_gaps_the_figures_page_shows(client, org):
    """The gaps page said every service had a rating while the figures page showed 38.9 %
    coverage: one counted only a unit's own offerings, the other a centre's too."""
    from fangkong.evaluation import services
    from fangkong.evaluation.models import Level

    from .helpers import travel

    with travel("2026-06-01", "08:00"):
        c = build_centre(org)
    with travel("2026-06-05", "10:00"):  # the station's own service; the centre's is not
        case = services.case_register(actor=c.clerk, service=c.housing)
        services.rate(case=case, new=services.NewRating(level=Level.SATISFIED))
    with travel("2026-06-20", "10:00"):
        client.force_login(c.head)
        figures = client.get(f"/evaluation/figures/?unit={c.centre.pk}")
        cover = figures.context["coverage"]
        gaps = client.get("/evaluation/reviews/coverage-gaps/").content.decode()
    expected = cover.offered_count - cover.covered_count
    assert expected == 2  # the centre's service, at the centre and at its station
    assert gaps.count('data-label="事项"') == expected
    assert f"有 {expected} 项可办事项没有评价" in gaps


def test_the_services_import_commits_in_the_same_statements_however_many_rows(client, org):
    """It read and wrote each row on its own: one or two statements a row."""
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from fangkong.evaluation.models import Offering, Service

    from .test_back_office import workbook

    c = build_centre(org)
    client.force_login(c.head)
    counts = []
    for first, n in ((100, 3), (200, 30)):
        rows = [[f"MZ{first + i}", f"事项{first + i}", "民政", "ZB", ""] for i in range(n)]
        rows.append([c.social.code, f"社保参保登记（{n}）", "社保", "ZB01", "3"])
        preview = client.post(
            "/evaluation/admin/import/", {"file": SimpleUploadedFile("s.xlsx", workbook(rows))}
        )
        with CaptureQueriesContext(connection) as queries:
            done = client.post("/evaluation/admin/import/", {"token": preview.context["token"]})
        assert done.status_code == 302
        counts.append(len(queries))
    assert counts[0] == counts[1], counts
    assert Service.objects.filter(category="民政").count() == 33
    assert Offering.objects.filter(service__category="民政", unit=c.centre).count() == 33
    assert Service.objects.get(pk=c.social.pk).name == "社保参保登记(30)"  # NFKC, as typed text
    assert Offering.objects.filter(service=c.social, window=c.window).count() == 1
