"""The home page (今日工作): every role lands on today's work, and every count opens the
list it counts, with as many rows."""

import datetime as dt
import re
from html import unescape

import pytest
import time_machine
from django.urls import reverse

from fangkong.accounts.roles import Role
from fangkong.ledger.models import Item
from fangkong.orgs.services import person_create
from fangkong.testing import PASSWORD, valid_resident_id
from fangkong.tracking.tests.helpers import open_card_for

from .conftest import declare

ROLES = [
    (Role.GROUP_ADMIN, "group"),
    (Role.UNIT_ADMIN, "ent_a"),
    (Role.REPORTER, "plant_a"),
    (Role.GRID_WORKER, "community"),
    (Role.TRACKER, "ent_a"),
    (Role.GUARD, "ent_a"),
    (Role.SERVICE_HEAD, "ent_a"),
    (Role.SUPERVISOR, "ent_a"),
    (Role.WINDOW_STAFF, "ent_a"),
    (Role.VIEWER, "group"),
]
COUNT = re.compile(r'<a class="count[^"]*" href="([^"]+)" data-count="(\d+)">')
LINK = re.compile(r'<a [^>]*href="(/[^"#]*)"')


def main_part(response) -> str:
    html = response.content.decode()
    return html[html.index("<main>") :]


def counts_on(response) -> list[tuple[str, int]]:
    return [(unescape(url), int(n)) for url, n in COUNT.findall(main_part(response))]


def rows_behind(response) -> int | None:
    """The rows the list page shows in all (every page), or None for a page without a list."""
    context = response.context
    if "page_obj" in context:
        return context["page_obj"].paginator.count
    if "rows" in context:
        return len(context["rows"])
    if "history" in context:  # the report page a single unit's list redirects to
        return 1
    return None


@pytest.fixture
def busy_day(org, at):
    """A day with something in every list: abnormal declarations and cards, one of them
    overdue and one awaiting approval, a resident of the household not declared, and the
    reports' deadline passed with no report in.
    """
    with time_machine.travel(at("15:00"), tick=False):
        resident = person_create(
            actor=None,
            unit=org.plant_b,  # works at the plant, lives in the community's household
            name="王芳",
            id_number=valid_resident_id(3),
            household=org.household,
        )
        declare(org.person_a, temperature="38.6")
        declare(org.person_b, symptoms=["cough"])
        overdue = open_card_for(org.person_a)
        Item.objects.filter(pk=overdue.pk).update(is_overdue=True)  # as the sweep marks it
        closing = open_card_for(org.person_b)
        Item.objects.filter(pk=closing.pk).update(state="closing")
        yield resident


def test_logging_in_lands_on_the_home_page_and_the_tree_has_its_own_address(client, org):
    user = org.user(Role.REPORTER, org.plant_a)
    response = client.post(
        reverse("accounts:login"), {"username": user.username, "password": PASSWORD}
    )
    assert response.status_code == 302 and response.url == "/"
    home = client.get("/")
    assert home.status_code == 200 and home.templates[0].name == "reports/home.html"
    assert 'class="brand" href="/"' in home.content.decode()
    assert reverse("orgs:tree") == "/units/"
    assert client.get("/units/").templates[0].name == "orgs/tree.html"


@pytest.mark.parametrize(("role", "unit"), ROLES)
def test_every_link_on_each_roles_home_answers_and_every_count_matches_its_list(
    client, org, busy_day, at, role, unit
):
    client.force_login(org.user(role, getattr(org, unit)))
    with time_machine.travel(at("15:00"), tick=False):
        home = client.get("/")
        assert home.status_code == 200
        body = main_part(home)
        assert "<section" in body  # no role lands on an empty page
        for url in {unescape(u) for u in LINK.findall(body)}:
            assert client.get(url, follow=True).status_code == 200, (role, url)
        for url, n in counts_on(home):
            rows = rows_behind(client.get(url, follow=True))
            assert rows is None or rows == n, (role, url, n, rows)


def test_the_admins_see_what_broke_a_rule_with_the_numbers_of_their_lists(
    client, org, busy_day, at
):
    client.force_login(org.user(Role.GROUP_ADMIN, org.group))
    with time_machine.travel(at("15:00"), tick=False):
        counts = dict(counts_on(client.get("/")))
    today = dt.date.fromisoformat(at("15:00").date().isoformat())
    assert counts["/ledger/abnormal/?overdue=1"] == 1
    assert counts["/ledger/abnormal/?state=closing"] == 1
    declared = (f"/health/declarations/?day={today}&status={c}" for c in ("red", "yellow"))
    assert sum(counts[url] for url in declared) == 2  # the fever and the cough
    # A, A1, B, B1 and C report daily; none has, and the 10:00 deadline has passed.
    assert counts[f"/reports/?state=overdue&day={today}"] == 5
    with time_machine.travel(at("09:00"), tick=False):
        morning = dict(counts_on(client.get("/")))
    assert morning[f"/reports/?state=overdue&day={today}"] == 0  # not missing before the deadline


def test_a_grid_worker_sees_each_household_with_its_declared_count(client, org, busy_day, at):
    client.force_login(org.user(Role.GRID_WORKER, org.community))
    with time_machine.travel(at("15:00"), tick=False):
        home = client.get("/")
        body = main_part(home)
        assert "1单元101室" in body and reverse("health:proxy", args=[org.household.pk]) in body
        assert dict(counts_on(home))["/health/declare/?pending=1"] == 1
        listed = client.get(reverse("health:proxy_units"))
        units = list(listed.context["page_obj"])
        assert [(u.code, u.declared, u.expected) for u in units] == [("CH1", 0, 1)]
        declare(busy_day)
        assert (
            client.get(reverse("health:proxy_units"), {"pending": "1"})
            .context["page_obj"]
            .paginator.count
            == 0
        )
        assert dict(counts_on(client.get("/")))["/health/declare/?pending=1"] == 0


def test_the_proxy_list_is_searchable_and_lists_units_with_people_of_their_own(client, org):
    client.force_login(org.user(Role.REPORTER, org.group))
    declare(org.person_b)
    listed = client.get(reverse("health:proxy_units"))
    # 张伟 works in the workshop, 李娜 (declared) in plant B; the household is empty.
    rows = [(u.code, u.declared, u.expected) for u in listed.context["page_obj"]]
    assert rows == [("A1W1", 0, 1), ("B1", 1, 1), ("CH1", 0, 0)]  # the work left first
    assert (
        client.get(reverse("health:proxy_units"), {"q": "zz"}).context["page_obj"].paginator.count
        == 0
    )


def test_a_tracker_sees_the_cards_opened_since_the_previous_log_in(client, org, at):
    tracker = org.user(Role.TRACKER, org.ent_a)
    with time_machine.travel(at("08:00"), tick=False):
        client.post(reverse("accounts:login"), {"username": tracker.username, "password": PASSWORD})
    with time_machine.travel(at("09:00"), tick=False):
        declare(org.person_a, temperature="38.6")  # opens a card the tracker owns
    with time_machine.travel(at("10:00"), tick=False):
        client.post(reverse("accounts:logout"))
        client.post(reverse("accounts:login"), {"username": tracker.username, "password": PASSWORD})
        home = client.get("/")
        new = [(url, n) for url, n in counts_on(home) if "opened_after" in url and n]
        assert len(new) == 1 and new[0][1] == 1
        assert "opened_after=" + at("08:00").strftime("%Y-%m-%dT%H") in new[0][0].replace(
            "%3A", ":"
        )
        assert client.get(new[0][0]).context["page_obj"].paginator.count == 1
        due = dict(counts_on(home))[reverse("ledger:today")]
        assert due == len(client.get(reverse("ledger:today")).context["rows"]) == 1


def test_a_reporter_attests_from_the_home_page_in_one_tap(client, org, at):
    reporter = org.user(Role.REPORTER, org.plant_a)
    client.force_login(reporter)
    with time_machine.travel(at("09:00"), tick=False):
        body = main_part(client.get("/"))
        assert 'name="zero" value="1"' in body  # nothing abnormal: a zero report
        uuid = re.search(r'name="client_uuid" value="([^"]+)"', body).group(1)
        response = client.post(
            reverse("reports:attest"),
            {"unit": org.plant_a.pk, "day": at("09:00").date(), "zero": "1", "client_uuid": uuid},
            follow=True,
        )
        assert response.status_code == 200
        assert org.plant_a.daily_reports.get().is_zero
        assert "state on_time" in main_part(client.get("/"))


def test_the_home_page_stays_a_handful_of_queries(
    client, org, busy_day, at, django_assert_max_num_queries
):
    user = org.user(Role.GROUP_ADMIN, org.group)
    # One user holding every role: ten sections at once (the service head's and the
    # supervisor's evaluation work, the supervisor's problems among them), a few queries each.
    for role, unit in ROLES[1:]:
        user.role_assignments.create(role=role, unit=getattr(org, unit))
    client.force_login(user)
    with time_machine.travel(at("15:00"), tick=False), django_assert_max_num_queries(70):
        response = client.get("/")
    # rectification: the supervisor accepts problems; evaluation: the head and the supervisor
    assert len(response.context["sections"]) == 10


def test_with_no_report_plan_in_force_the_admins_home_and_board_still_answer(client, org):
    # A new deployment (or a plan that ended): nothing reports, nothing is overdue.
    from fangkong.reports.models import ReportPlan

    ReportPlan.objects.all().delete()
    client.force_login(org.user(Role.GROUP_ADMIN, org.group))
    assert client.get("/").status_code == 200
    board = client.get(reverse("reports:board"), {"state": "overdue"})
    assert board.status_code == 200
