"""Supervision pages and API: from the ledger item's page to an order, the list, the end."""

import pytest
from django.urls import reverse

from fangkong.accounts.roles import Role
from fangkong.core.models import AuditLog
from fangkong.rectification.models import SupervisionOrder

from .helpers import register, travel

pytestmark = pytest.mark.django_db

IN_A_MONTH = "2026-12-03"
IN_TWO_DAYS = "2026-11-05"  # Thursday: 2 working days left, blue


@pytest.fixture(autouse=True)
def _tuesday_morning():
    """The pages are used at 10:00 on Tuesday 3 November 2026."""
    with travel("2026-11-03", "10:00"):
        yield


def _problem(org):
    """Registered at 09:00 today, due in two months."""
    return register(org, opened="2026-11-03", due="2027-01-04")


def test_the_item_page_offers_supervision_and_the_form_issues_an_order(client, org, login_as):
    problem = _problem(org)
    login_as(Role.SUPERVISOR, org.ent_a)
    page = client.get(reverse("ledger:item", args=[problem.item_id])).content.decode()
    issue_url = reverse("rectification:supervision_issue", args=[problem.item_id])
    assert issue_url in page
    form = client.get(issue_url).content.decode()
    assert org.ent_a.name in form and org.group.name not in form.split("<form")[1]
    response = client.post(
        issue_url,
        {"supervising_unit": org.ent_a.pk, "level": "key", "due_on": IN_A_MONTH, "note": "周报"},
        follow=True,
    )
    order = SupervisionOrder.objects.get()
    assert response.redirect_chain[-1][0] == reverse(
        "rectification:supervision_order", args=[order.pk]
    )
    assert "周报" in response.content.decode()
    # The item page now links to the order instead of offering a second one.
    page = client.get(reverse("ledger:item", args=[problem.item_id])).content.decode()
    assert issue_url not in page
    assert reverse("rectification:supervision_order", args=[order.pk]) in page


def test_a_reporter_sees_no_supervision_action(client, org, login_as):
    problem = _problem(org)
    login_as(Role.REPORTER, org.ent_a)
    issue_url = reverse("rectification:supervision_issue", args=[problem.item_id])
    assert (
        issue_url not in client.get(reverse("ledger:item", args=[problem.item_id])).content.decode()
    )
    assert client.get(issue_url).status_code == 403


def test_a_bad_due_day_is_refused_in_the_form_not_a_500(client, org, login_as):
    problem = _problem(org)
    login_as(Role.SUPERVISOR, org.ent_a)
    issue_url = reverse("rectification:supervision_issue", args=[problem.item_id])
    past = client.post(
        issue_url, {"supervising_unit": org.ent_a.pk, "level": "key", "due_on": "2020-01-01"}
    )
    assert past.status_code == 422 and "errors" in past.content.decode()
    junk = client.post(issue_url, {"supervising_unit": "x", "level": "?", "due_on": "99999-1-1"})
    assert junk.status_code == 400
    assert not SupervisionOrder.objects.exists()


def test_the_list_filters_links_and_exports(client, org, login_as):
    problem = _problem(org)
    login_as(Role.SUPERVISOR, org.ent_a)
    client.post(
        "/api/v1/rectification/supervision/orders",
        {"item_id": problem.item_id, "supervising_unit_id": org.ent_a.pk, "due_on": IN_TWO_DAYS},
        content_type="application/json",
    )
    order = SupervisionOrder.objects.get()
    listing = client.get(reverse("rectification:supervision_list")).content.decode()
    assert problem.title in listing and f"?unit={org.plant_a.pk}" in listing
    assert (
        client.get(reverse("rectification:supervision_list"), {"colour": "red"})
        .context["page_obj"]
        .paginator.count
        == 0
    )
    by_unit = client.get(reverse("rectification:supervision_list"), {"unit": org.plant_a.pk})
    assert by_unit.context["page_obj"].paginator.count == 1
    export = client.get(reverse("rectification:supervision_export"), {"format": "csv"})
    assert export.status_code == 200 and problem.title in export.content.decode("utf-8-sig")
    assert AuditLog.objects.filter(action="export").exists()
    assert order.colour == "blue"  # due on Thursday: two working days left
    blue = client.get(reverse("rectification:supervision_list"), {"colour": "blue"})
    assert blue.context["page_obj"].paginator.count == 1


def test_the_api_answers_409_for_a_second_order_and_ends_one_with_a_reason(client, org, login_as):
    problem = _problem(org)
    login_as(Role.SUPERVISOR, org.ent_a)
    body = {"item_id": problem.item_id, "supervising_unit_id": org.ent_a.pk, "due_on": IN_A_MONTH}
    url = "/api/v1/rectification/supervision/orders"
    first = client.post(url, body, content_type="application/json")
    assert first.status_code == 201 and first.json()["level"] == "general"
    second = client.post(url, body, content_type="application/json")
    assert second.status_code == 409 and second.json()["code"] == "conflict"
    order_id = first.json()["id"]
    no_reason = client.post(
        f"{url}/{order_id}/end", {"reason": ""}, content_type="application/json"
    )
    assert no_reason.status_code == 422 and "reason" in no_reason.json()["detail"]
    ended = client.post(
        f"{url}/{order_id}/end", {"reason": "已整改"}, content_type="application/json"
    )
    assert ended.status_code == 200 and ended.json()["is_active"] is False
    assert client.get(url, {"status": "ended"}).json()["count"] == 1
    assert client.get(url, {"colour": "purple"}).status_code == 422


def test_ending_from_the_order_page(client, org, login_as):
    problem = _problem(org)
    login_as(Role.SUPERVISOR, org.ent_a)
    client.post(
        "/api/v1/rectification/supervision/orders",
        {"item_id": problem.item_id, "supervising_unit_id": org.ent_a.pk, "due_on": IN_A_MONTH},
        content_type="application/json",
    )
    order = SupervisionOrder.objects.get()
    page = reverse("rectification:supervision_order", args=[order.pk])
    assert "confirm(" in client.get(page).content.decode()
    end = reverse("rectification:supervision_end", args=[order.pk])
    refused = client.post(end, {"reason": ""}, follow=True)
    assert refused.status_code == 200 and SupervisionOrder.objects.get().is_active
    done = client.post(end, {"reason": "已纳入考核"}, follow=True).content.decode()
    assert not SupervisionOrder.objects.get().is_active
    assert (
        "已纳入考核" in client.get(reverse("ledger:item", args=[problem.item_id])).content.decode()
    )
    assert "confirm(" not in done.split("<main")[-1] or "end-reason" not in done


def test_the_export_shows_when_an_order_ended_in_local_time(client, org, login_as):
    from fangkong.rectification import supervision

    problem = _problem(org)
    login_as(Role.SUPERVISOR, org.ent_a)
    client.post(
        "/api/v1/rectification/supervision/orders",
        {"item_id": problem.item_id, "supervising_unit_id": org.ent_a.pk, "due_on": IN_TWO_DAYS},
        content_type="application/json",
    )
    supervisor = org.user(Role.SUPERVISOR, org.ent_a)
    order = SupervisionOrder.objects.get()
    with travel("2026-11-04", "08:30"):  # 00:30 UTC
        supervision.order_end(actor=supervisor, order=order, reason="已整改")
        export = client.get(
            reverse("rectification:supervision_export"), {"format": "csv", "status": "ended"}
        )
    assert "2026-11-04 08:30" in export.content.decode("utf-8-sig")
