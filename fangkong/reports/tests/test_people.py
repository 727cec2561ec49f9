"""The people behind every roll-up figure: each number opens the list of whom it counts."""

import csv
import io

import pytest
from django.urls import reverse
from django.utils.html import escape

from fangkong.core.models import AuditLog
from fangkong.orgs.models import Person
from fangkong.orgs.services import person_create, unit_create
from fangkong.reports.people import FIGURES
from fangkong.testing import valid_resident_id

from .conftest import declare
from .test_quarantine_figures import place

pytestmark = pytest.mark.django_db


@pytest.fixture
def day_of_declarations(org, today):
    """Two levels of units with every figure non-zero somewhere, and a declarant who left."""
    team = unit_create(actor=None, code="A1W1T1", name="甲班", kind="team", parent=org.shop_a)
    other_team = unit_create(actor=None, code="B1T1", name="甲班", kind="team", parent=org.plant_b)

    def person(unit, n):
        return person_create(
            actor=None, unit=unit, name=f"员工{n}", id_number=valid_resident_id(100 + n)
        )

    declare(org.person_a, temperature="38.4", symptoms=["cough"])  # fever and symptoms
    declare(person(team, 1))  # green
    declare(person(team, 2), contact="confirmed")
    person(team, 3)  # has not declared
    declare(person(other_team, 4), test_result="positive")
    person(other_team, 5)  # has not declared
    declare(org.person_b)
    left = person(org.plant_a, 6)
    declare(left)
    Person.objects.filter(pk=left.pk).update(is_active=False)  # declared, then left
    place(org, person(team, 7), start=today)  # in quarantine, not declared
    return team


def _people(client, unit, figure, day, **more):
    return client.get(
        reverse("reports:people"), {"unit": unit.pk, "day": day, "figure": figure, **more}
    )


def test_every_figure_lists_as_many_people_as_it_shows(
    client, org, login_as, today, day_of_declarations
):
    login_as("group_admin", org.group)
    checked = 0
    for unit in (org.group, org.ent_a, org.plant_a, org.ent_b):
        page = client.get(reverse("reports:rollup"), {"unit": unit.pk, "day": today})
        data = page.context["data"]
        for row in [data.total, *data.children]:
            for key in FIGURES:
                shown = row.cells[key]["value"]
                assert escape(row.cells[key]["url"]) in page.content.decode()
                listed = _people(client, row.unit, key, today)
                assert listed.status_code == 200
                assert listed.context["page_obj"].paginator.count == shown, (row.unit, key)
                checked += shown
    assert checked > 0
    total = client.get(reverse("reports:rollup"), {"unit": org.group.pk}).context["data"].total
    assert total.figures.declared == 6 and total.figures.expected == 8
    assert total.figures.not_declared == 3  # the leaver declared but is not expected


def test_not_declared_names_whom_to_phone(client, org, login_as, today, day_of_declarations):
    login_as("group_admin", org.group)
    listed = _people(client, org.group, "not_declared", today)
    names = {row["person"].name for row in listed.context["rows"]}
    assert names == {"员工3", "员工5", "员工7"}
    html = listed.content.decode()
    assert (
        html.count('class="badge bad"') == 3
        and reverse("orgs:person", args=[listed.context["rows"][0]["person"].pk]) in html
    )
    # Two teams named 甲班 are told apart by their path below the list's unit.
    labels = {row["unit_label"] for row in listed.context["rows"]}
    assert labels == {
        "山东铝业有限公司 › 电解铝厂 › 一车间 › 甲班",
        "山西铝业有限公司 › 氧化铝厂 › 甲班",
    }


def test_the_list_searches_and_the_abnormal_lists_show_the_reason(
    client, org, login_as, today, day_of_declarations
):
    login_as("group_admin", org.group)
    fever = _people(client, org.group, "fever", today)
    [row] = fever.context["rows"]
    assert row["person"] == org.person_a and row["status"] in ("yellow", "red")
    assert "发热" in fever.content.decode()
    found = _people(client, org.group, "expected", today, q="员工5")
    assert [r["person"].name for r in found.context["rows"]] == ["员工5"]


def test_a_plant_user_reaches_no_other_plants_people_through_any_figure(
    client, org, login_as, today, day_of_declarations
):
    login_as("unit_admin", org.plant_a)
    for key in FIGURES:
        for unit in (org.plant_b, org.ent_b, org.group):
            assert _people(client, unit, key, today).status_code == 404, (unit, key)
            export = client.get(
                reverse("reports:people_export"),
                {"unit": unit.pk, "day": today, "figure": key, "format": "csv"},
            )
            assert export.status_code == 404
        own = _people(client, org.plant_a, key, today)
        assert all(
            row["person"].unit_path.startswith(org.plant_a.path) for row in own.context["rows"]
        )
    assert not AuditLog.objects.filter(action=AuditLog.Action.EXPORT).exists()


def test_numbers_stay_masked_without_view_sensitive_on_screen_and_in_the_export(
    client, org, login_as, today, day_of_declarations
):
    login_as("reporter", org.ent_a)  # health data and export, but not full numbers
    listed = _people(client, org.ent_a, "abnormal", today)
    html = listed.content.decode()
    assert org.person_a.id_number not in html and "13800138001" not in html
    assert "138****8001" in html
    export = client.get(
        reverse("reports:people_export"),
        {"unit": org.ent_a.pk, "day": today, "figure": "abnormal", "format": "csv"},
    )
    assert export.status_code == 200
    text = export.content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert len(rows) == 1 + listed.context["page_obj"].paginator.count
    assert org.person_a.id_number not in text and "138****8001" in text
    audit = AuditLog.objects.get(action=AuditLog.Action.EXPORT)
    assert audit.scope_path == org.ent_a.path
    assert not AuditLog.objects.filter(action=AuditLog.Action.VIEW_SENSITIVE).exists()


def test_full_numbers_are_shown_and_logged_for_view_sensitive(
    client, org, login_as, today, day_of_declarations
):
    login_as("unit_admin", org.ent_a)
    html = _people(client, org.ent_a, "fever", today).content.decode()
    assert org.person_a.id_number in html
    assert AuditLog.objects.filter(action=AuditLog.Action.VIEW_SENSITIVE).count() == 1


@pytest.mark.parametrize("role", ["viewer", "supervisor", "service_head"])
def test_roll_up_readers_without_health_get_names_but_no_health_data(
    client, org, login_as, today, day_of_declarations, role
):
    login_as(role, org.ent_a)
    page = client.get(reverse("reports:rollup"), {"unit": org.ent_a.pk})
    cells = page.context["data"].total.cells
    assert cells["abnormal"]["value"] == 2 and cells["abnormal"]["url"] == ""
    assert cells["quarantine"]["url"] == "" and cells["not_declared"]["url"]
    html = page.content.decode()
    assert "figure=abnormal" not in html and "figure=fever" not in html
    assert reverse("ledger:list", args=["abnormal"]) not in html  # cards need health data
    assert _people(client, org.ent_a, "abnormal", today).status_code == 403
    listed = _people(client, org.ent_a, "not_declared", today)
    assert listed.status_code == 200
    assert all("status" not in row for row in listed.context["rows"])
    assert "badge red" not in listed.content.decode()
    declared = _people(client, org.ent_a, "declared", today)
    assert "badge yellow" not in declared.content.decode()
    assert "badge red" not in declared.content.decode()


def test_a_team_shows_its_people_with_their_day(client, org, login_as, today, day_of_declarations):
    login_as("reporter", org.ent_a)
    page = client.get(reverse("reports:rollup"), {"unit": day_of_declarations.pk})
    html = page.content.decode()
    assert "无下级单位" not in html
    rows = {row["person"].name: row for row in page.context["team"]["rows"]}
    assert set(rows) == {"员工1", "员工2", "员工3", "员工7"}
    assert rows["员工2"]["status"] != "green" and "status" not in rows["员工3"]
    assert rows["员工3"]["declared_at"] is None
    assert reverse("orgs:person", args=[rows["员工3"]["person"].pk]) in html


def test_an_unknown_figure_or_date_is_refused_in_the_users_language(client, org, login_as, today):
    login_as("group_admin", org.group)
    assert _people(client, org.group, "salary", today).status_code == 422
    wrong_day = _people(client, org.group, "expected", "2020-02-31")
    assert wrong_day.status_code == 422 and "YYYY-MM-DD" in wrong_day.content.decode()
