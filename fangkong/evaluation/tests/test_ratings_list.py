"""The ratings' list: every rating (good and bad) that the figures page counts, with the
filters of the bad reviews' list, paging and export; each count of ratings on the figures
page opens it, and shows as many rows as the number said."""

import io
import re

import openpyxl
import pytest

from fangkong.core.models import AuditLog
from fangkong.evaluation.models import Level

from .helpers import build_centre, rated, rows_behind

pytestmark = pytest.mark.django_db


def test_every_count_of_ratings_on_the_figures_page_opens_its_ratings(client, org):
    c = build_centre(org)
    for day, level in (("05", 5), ("06", 5), ("08", 4), ("09", 3), ("10", 1), ("11", 2)):
        rated(c, level, when=f"2026-06-{day}")
    rated(c, Level.VERY_SATISFIED, when="2026-07-02")  # outside the period
    client.force_login(c.head)
    html = client.get(
        f"/evaluation/figures/?unit={c.centre.pk}&from=2026-06-01&to=2026-06-30"
    ).content.decode()
    total = re.search(r'id="total-ratings"><a href="([^"]+)">(\d+)</a>', html)
    assert total is not None and total.group(2) == "6"
    assert rows_behind(client, total.group(1), "rating-count") == 6
    levels = re.findall(r'<a href="(/evaluation/ratings/\?[^"]+level=\d)">(\d+)</a>', html)
    assert len(levels) == 5
    for url, number in levels:
        assert rows_behind(client, url, "rating-count") == int(number), url
    assert sorted(int(n) for _url, n in levels) == [1, 1, 1, 1, 2]


def test_the_ratings_list_filters_exports_masks_and_keeps_to_its_scope(client, org):
    c = build_centre(org)
    rated(c, 5, when="2026-06-05")
    bad = rated(c, 1, when="2026-06-06", tags=["态度不好"])
    client.force_login(c.head)
    page = client.get("/evaluation/ratings/?level=1").content.decode()
    assert re.search(r'id="rating-count">1\b', page)
    assert f'href="/evaluation/reviews/{bad.bad_review.pk}/"' in page  # a bad one opens it
    assert "王晓红" in page  # the staff member, in full for the centre's head
    refused = client.get("/evaluation/ratings/?level=7&from=2026-06-01")
    assert refused.status_code == 422
    refused_page = refused.content.decode()
    assert '<p class="errors" role="alert">请从列表中选择评价等级。</p>' in refused_page
    assert re.search(r'id="rating-count">0\b', refused_page)  # no rows under a refusal
    assert 'value="2026-06-01"' in refused_page  # the other filters as typed
    export = client.get("/evaluation/ratings/export/?from=2026-06-01&to=2026-06-30&format=xlsx")
    rows = list(
        openpyxl.load_workbook(io.BytesIO(export.content)).active.iter_rows(values_only=True)
    )
    assert rows[0][:6] == ("评价时间", "服务中心或站点", "窗口", "工作人员", "事项", "评价等级")
    assert [row[5] for row in rows[1:]] == ["非常不满意", "非常满意"]  # newest first
    assert rows[1][6] == "态度不好"
    assert AuditLog.objects.filter(object_type="evaluation.rating", action="export").exists()
    # A supervisor sees the staff member's name masked, in the list and in the file.
    client.force_login(c.supervisor)
    masked = client.get("/evaluation/ratings/").content.decode()
    assert "王*红" in masked and "王晓红" not in masked
    exported = client.get("/evaluation/ratings/export/?format=xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(exported.content)).active
    assert {row[3] for row in sheet.iter_rows(min_row=2, values_only=True)} == {"王*红"}
    client.force_login(c.head)
    # Another enterprise's head sees none of them; window staff have no such list.
    client.force_login(org.user("service_head", org.ent_b))
    assert re.search(r'id="rating-count">0\b', client.get("/evaluation/ratings/").content.decode())
    client.force_login(c.clerk)
    assert client.get("/evaluation/ratings/").status_code == 403
