"""What a walk through the pages as their users found: each mended, each kept."""

import csv
import datetime as dt
import io

import pytest
from django.urls import reverse

from fangkong.accounts.roles import Role
from fangkong.ledger.models import Item
from fangkong.rectification import supervision

from .helpers import register, travel

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _tuesday_morning():
    with travel("2026-11-03", "10:00"):
        yield


def test_an_order_the_system_issued_shows_its_issuer_as_the_system(client, org, login_as):
    """The demo's order has no issuing user (nor has one whose account was deleted): the
    page answered 500."""
    problem = register(org, opened="2026-11-03", due="2027-01-04")
    order = supervision.order_issue(
        actor=None,
        item=Item.objects.get(pk=problem.item_id),
        supervising_unit=org.ent_a,
        level="key",
        due_on=dt.date(2026, 12, 3),
    )
    login_as(Role.SUPERVISOR, org.ent_a)
    page = client.get(reverse("rectification:supervision_order", args=[order.pk]))
    assert page.status_code == 200
    assert "系统" in page.content.decode()


def test_the_export_writes_quantities_as_people_write_them(client, org, login_as):
    """300 of 698 lamps, not 3E+2/698."""
    from fangkong.rectification.models import Target

    problem = register(org, opened="2026-11-03", due="2027-01-04", target=698)
    Target.objects.filter(problem=problem).update(done=300)
    login_as(Role.SUPERVISOR, org.ent_a)
    answer = client.get(reverse("rectification:export"), {"format": "csv"})
    [row] = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"))))[1:]
    assert "修复路灯 300/698盏" in row


def test_a_unit_code_in_lower_case_filters_and_an_unknown_one_is_refused_at_the_field(
    client, org, login_as
):
    """sdly-p1 replaced the page with 未找到 (404) and lost the filters."""
    register(org, opened="2026-11-03", due="2027-01-04")
    login_as(Role.SUPERVISOR, org.ent_a)
    lower = client.get(reverse("rectification:problems"), {"unit": org.plant_a.code.lower()})
    assert lower.status_code == 200 and 'id="problem-count">1 ' in lower.content.decode()
    unknown = client.get(reverse("rectification:problems"), {"unit": "NO-SUCH", "q": "路灯"})
    page = unknown.content.decode()
    assert unknown.status_code == 200
    assert "您管辖的单位中没有这个代码。" in page
    assert 'value="路灯"' in page and 'value="NO-SUCH"' in page  # what was typed stays
    assert 'id="problem-count">0 ' in page
    figures = client.get(reverse("rectification:figures"), {"unit": "NO-SUCH"})
    assert figures.status_code == 200 and 'class="errors"' in figures.content.decode()
    export = client.get(reverse("rectification:export"), {"unit": "NO-SUCH", "format": "csv"})
    assert export.status_code == 422


def test_the_ledger_page_of_a_problem_sends_to_the_problem_page_and_offers_no_generic_step(
    client, org, login_as
):
    """It offered a 随访 in ℃, a 销号 that then failed, and 由我负责 to the supervisor
    (who, an owner then, could no longer accept the work)."""
    problem = register(org, opened="2026-11-03", due="2027-01-04")
    supervisor = login_as(Role.SUPERVISOR, org.ent_a)
    item_url = reverse("ledger:item", args=[problem.item_id])
    page = client.get(item_url).content.decode()
    assert f'href="{reverse("rectification:problem", args=[problem.pk])}"' in page
    for generic in ("take", "follow_up", "request_close"):
        assert reverse("ledger:item_action", args=[problem.item_id, generic]) not in page
    taken = client.post(reverse("ledger:item_action", args=[problem.item_id, "take"]))
    assert taken.status_code == 302
    item = Item.objects.get(pk=problem.item_id)
    assert supervisor not in item.owners.all()
    # nor through the ledger's API: the same refusal
    api = f"/api/v1/ledger/items/{problem.item_id}/"
    follow_up = client.post(api + "follow-ups", {"text": "看过"}, content_type="application/json")
    closing = client.post(api + "close", {"reason": "完成"}, content_type="application/json")
    assert follow_up.status_code == closing.status_code == 409
    assert not item.entries.filter(text="看过").exists() and item.is_open


def test_the_form_refuses_a_milestone_after_the_due_day_at_its_row_with_the_rest(
    client, org, login_as
):
    """A long-term problem due 2026-12-20 was saved with a milestone in May 2027 (the
    import refused it), and a bad unit code showed only after the other errors were put
    right."""
    from fangkong.rectification.models import Problem

    login_as(Role.SUPERVISOR, org.ent_a)
    new = reverse("rectification:new")
    data = {
        "source": "audit",
        "title": "停车位不足",
        "severity": "serious",
        "problem_class": "long_term",
        "unit_code": "NO-SUCH",
        "assigning_unit": str(org.ent_a.pk),
        "due_on": "2026-12-20",
        "target_0_label": "停车位",  # without its quantity
        "milestone_0_title": "完成招标",
        "milestone_0_due": "2026-11-20",
        "milestone_2_title": "完成施工",  # row 1 left blank
        "milestone_2_due": "2027-05-01",
    }
    first = client.post(new, data)
    assert first.status_code == 422
    errors = first.context["form"].errors
    assert errors["target_0_qty"] and errors["unit_code"] and errors["milestone_2_due"]
    data.update(target_0_label="")  # the form's own errors mended: the unit and milestone
    second = client.post(new, data)
    assert second.status_code == 422
    errors = second.context["form"].errors
    assert errors["unit_code"]
    assert errors["milestone_2_due"] == ["2027-05-01 的里程碑晚于完成时限 2026-12-20。"]
    data.update(unit_code="A1W1")
    third = client.post(new, data)
    assert third.status_code == 422
    assert third.context["form"].errors["milestone_2_due"] == [
        "2027-05-01 的里程碑晚于完成时限 2026-12-20。"
    ]
    assert 'value="完成施工"' in third.content.decode()
    data["milestone_2_due"] = "2026-12-15"
    assert client.post(new, data).status_code == 302
    assert Problem.objects.get(title="停车位不足").milestones.count() == 2


def test_a_targets_share_is_rounded_and_the_closed_state_is_offered_once(client, org, login_as):
    from fangkong.rectification.models import Target

    problem = register(org, opened="2026-11-03", due="2027-01-04", target=698)
    Target.objects.filter(problem=problem).update(done=300)
    login_as(Role.SUPERVISOR, org.ent_a)
    page = client.get(reverse("rectification:problems")).content.decode()
    assert "43%" in page and "42%" not in page  # 300 / 698 = 42.98 %
    assert page.count(">已销号<") == 1


@pytest.mark.parametrize("day", ["2026-11-30", "2027-03-15"])
def test_the_templates_example_imports_as_it_stands_on_any_day(client, org, login_as, day):
    """Its dates were fixed: from 2026-12-01 its milestone was refused as past."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    with travel(day, "10:00"):
        login_as(Role.SUPERVISOR, org.ent_a)
        template = client.get(reverse("rectification:import_template")).content
        answer = client.post(
            reverse("rectification:import"),
            {
                "assigning_unit": org.ent_a.pk,
                "source": "audit",
                "file": SimpleUploadedFile("模板.xlsx", template),
            },
        )
        assert answer.status_code == 302
        preview = client.get(answer["Location"]).content.decode()
        assert 'id="commit-import"' in preview, preview[preview.find("<main") :][:2000]


def test_a_refused_step_opens_at_its_form_and_a_done_one_at_the_message(client, org, login_as):
    """A refused step reloaded the page at its top; on a phone its error was 1,700 px down."""
    problem = register(org, opened="2026-11-03", due="2027-01-04")
    login_as(Role.SUPERVISOR, org.ent_a)
    page = client.get(reverse("rectification:problem", args=[problem.pk])).content.decode()
    assign = reverse("rectification:action", args=[problem.pk, "assign"])
    assert f'action="{assign}#form-assign"' in page and 'id="form-assign"' in page
    refused = client.post(assign, {})
    assert refused.status_code == 422 and 'id="form-assign"' in refused.content.decode()


def test_the_supervision_list_searches_the_items_title(client, org, login_as):
    lamps = register(org, opened="2026-11-03", due="2027-01-04", title="路灯修复")
    parking = register(org, opened="2026-11-03", due="2027-01-04", title="停车位不足")
    for problem in (lamps, parking):
        supervision.order_issue(
            actor=None,
            item=Item.objects.get(pk=problem.item_id),
            supervising_unit=org.ent_a,
            level="key",
            due_on=dt.date(2026, 12, 3),
        )
    login_as(Role.SUPERVISOR, org.ent_a)
    page = client.get(reverse("rectification:supervision_list"), {"q": "停车"}).content.decode()
    assert "停车位不足" in page and "路灯修复" not in page and 'value="停车"' in page


def test_the_bulletin_archive_counts_each_red_list_without_reading_the_figures(
    client, org, login_as
):
    import time_machine

    from fangkong.rectification import bulletin

    from .bulletin_helpers import MONDAY_MORNING, WEEK, week_of_problems

    week_of_problems(org)
    with time_machine.travel(MONDAY_MORNING, tick=False):
        made = bulletin.bulletin_generate(
            actor=org.user("supervisor", org.ent_a), unit=org.ent_a, week_start=WEEK
        )
        login_as(Role.SUPERVISOR, org.ent_a)
        archive = client.get(reverse("rectification:bulletins")).content.decode()
    red = len(made.figures["red"])
    assert red > 0 and f'#red">{red}</a>' in archive


def test_the_targets_and_milestones_inputs_are_named_on_the_phone_and_for_screen_readers(
    client, org, login_as
):
    """The rows' inputs had only the table's header, which a phone hides: the first of each
    row showed with no name, and a screen reader named none of them."""
    login_as(Role.SUPERVISOR, org.ent_a)
    page = client.get(reverse("rectification:new")).content.decode()
    assert '<td data-label="目标">' in page and '<td data-label="节点">' in page
    assert 'aria-label="数量 2"' in page and 'aria-label="节点 3"' in page
    assert 'aria-label="完成时限 1"' in page


def test_a_progress_report_shows_in_the_ledger_history_as_one(client, org, login_as):
    """The ledger's history called a problem's progress report a 随访 (a tracker's visit)."""
    from fangkong.rectification import services

    from .helpers import assign

    problem = register(org, opened="2026-11-03", due="2026-12-04")
    assign(org, problem, day="2026-11-03")
    owner = org.user("unit_admin", org.plant_a)
    services.problem_progress(actor=owner, problem=problem, note="更换灯具20盏")
    client.force_login(owner)
    page = client.get(f"/ledger/item/{problem.item_id}/").content.decode()
    assert " · 整改进展 · " in page and " · 随访 · " not in page  # the history line's kind
