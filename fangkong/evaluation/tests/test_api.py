"""/api/v1/evaluation: services offered, registering a case (its rating link), one's own
cases, bad reviews listed and followed through callback, outcome and appeal."""

import pytest

from fangkong.evaluation import services
from fangkong.evaluation.models import Case, Level, Rating

from .helpers import build_centre

pytestmark = pytest.mark.django_db


def test_window_staff_register_a_case_and_get_its_rating_link(client, org):
    c = build_centre(org)
    client.force_login(c.clerk)
    offered = client.get(f"/api/v1/evaluation/services?unit_id={c.station.pk}").json()
    assert {s["code"] for s in offered} == {"SB001", "BDC01"}
    response = client.post(
        "/api/v1/evaluation/cases",
        {"service_id": c.social.pk, "person_name": "李四", "person_phone": "13800001234"},
        content_type="application/json",
    )
    assert response.status_code == 201
    body = response.json()
    case = Case.objects.get(pk=body["id"])
    assert case.window == c.window and case.staff == c.staff
    assert body["person_name"] == "李*" and body["person_phone"] == "138****1234"
    assert services.case_token(case) in body["rating_url"]
    mine = client.get("/api/v1/evaluation/cases").json()
    assert [row["id"] for row in mine["items"]] == [case.pk]
    bad_phone = client.post(
        "/api/v1/evaluation/cases",
        {"service_id": c.social.pk, "person_phone": "phone"},
        content_type="application/json",
    )
    assert bad_phone.status_code == 422 and "person_phone" in bad_phone.json()["detail"]


def test_a_bad_review_is_followed_through_the_api(client, org):
    c = build_centre(org)
    case = services.case_register(actor=c.clerk, service=c.social)
    rating = services.rate(case=case, new=services.NewRating(level=Level.DISSATISFIED))
    client.force_login(c.head)
    listed = client.get("/api/v1/evaluation/bad-reviews?state=callback_pending").json()
    assert listed["count"] == 1
    pk = listed["items"][0]["id"]
    assert listed["items"][0]["staff_name"] == "王晓红"
    assert client.get("/api/v1/evaluation/bad-reviews?state=nope").status_code == 422
    called = client.post(
        f"/api/v1/evaluation/bad-reviews/{pk}/callbacks",
        {"how": "phone", "reached": True, "said": "已致歉"},
        content_type="application/json",
    )
    assert called.status_code == 201 and called.json()["state"] == "handling"
    assert len(called.json()["callbacks"]) == 1
    appealed = client.post(
        f"/api/v1/evaluation/bad-reviews/{pk}/outcome",
        {"outcome": "appeal", "text": "录像显示服务规范"},
        content_type="application/json",
    )
    assert appealed.json()["state"] == "appealed"
    by_head = client.post(
        f"/api/v1/evaluation/bad-reviews/{pk}/appeal",
        {"upheld": True, "note": "同意"},
        content_type="application/json",
    )
    assert by_head.status_code == 403
    client.force_login(c.supervisor)
    detail = client.get(f"/api/v1/evaluation/bad-reviews/{pk}").json()
    assert detail["staff_name"] == "王*红"
    decided = client.post(
        f"/api/v1/evaluation/bad-reviews/{pk}/appeal",
        {"upheld": True, "note": "核实属误评"},
        content_type="application/json",
    )
    assert decided.status_code == 200 and decided.json()["excluded"] is True
    assert Rating.objects.get(pk=rating.pk).excluded
    client.force_login(org.user("service_head", org.ent_b))
    assert client.get(f"/api/v1/evaluation/bad-reviews/{pk}").status_code == 404
    assert client.get("/api/v1/evaluation/bad-reviews").json()["count"] == 0
