"""/api/v1/evaluation: services offered, registering a case (its rating link), one's own
cases, bad reviews listed and followed through callback, outcome and appeal."""

import threading

import pytest
from django.db import connection, transaction

from fangkong.core.models import AuditLog
from fangkong.core.tests.parallel import deployed_database, in_parallel
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


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's writers' queue")
def test_a_write_that_finds_the_database_busy_answers_503_with_retry_after(
    tmp_path, settings, client, reference_data, org
):
    # Another writer holds SQLite's write lock past the wait: the API answers 503 "busy"
    # with Retry-After, in the caller's language, and stores nothing (it answered 500).
    settings.SQLITE_BUSY_SECONDS = 0.2
    c = build_centre(org)
    client.force_login(c.clerk)
    client.raise_request_exception = False
    held, answered = threading.Event(), threading.Event()
    answers = []

    def hold() -> None:
        with transaction.atomic():
            AuditLog.objects.create(action="held", object_type="x")
            held.set()
            answered.wait(5)

    def register() -> None:
        held.wait(5)
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA busy_timeout=0")  # no wait in SQLite's own handler either
        answers.append(
            client.post(
                "/api/v1/evaluation/cases",
                {"service_id": c.social.pk},
                content_type="application/json",
            )
        )
        answered.set()

    with deployed_database(tmp_path):
        in_parallel(2, lambda n: hold() if n == 0 else register())
        [answer] = answers
        assert answer.status_code == 503 and answer["Retry-After"] == "2"
        assert answer.json()["code"] == "busy"
        assert answer.json()["message"] == "系统繁忙，请稍后再试。"
        assert not Case.objects.exists()
