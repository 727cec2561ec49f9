"""What a walk through the pages as their users found: each mended, each kept."""

import pytest

from .helpers import build_centre

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
