"""Daily reports: zero reports, lateness, corrections, the deadline sweep and the roll-up."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from fangkong.core.errors import InvalidInput, NotFound, PermissionDenied
from fangkong.core.models import AuditLog
from fangkong.health.models import Declaration
from fangkong.health.services import declarations_submit
from fangkong.health.tests.factories import raw_declaration
from fangkong.notify.models import InboxItem, Notification
from fangkong.orgs.models import Person
from fangkong.orgs.services import (
    person_create,
    person_update,
    unit_close,
    unit_create,
    unit_move,
)
from fangkong.reports import figures as live_figures
from fangkong.reports import selectors, services
from fangkong.reports.models import ReportAlarm, ReportPlan, UnitReport
from fangkong.reports.plans import reporting_units
from fangkong.testing import valid_resident_id

from .conftest import declare
from .test_quarantine_figures import place

pytestmark = pytest.mark.django_db


def test_default_plan_makes_enterprises_plants_and_communities_report(org, today):
    codes = set(reporting_units(today).values_list("code", flat=True))
    assert codes == {"A", "A1", "B", "B1", "C"}


def test_a_zero_report_counts_as_reported(org, today, at):
    reporter = org.user("reporter", org.plant_a)
    declare(org.person_a)
    report = services.report_attest(
        actor=reporter, unit=org.plant_a, day=today, zero=True, now=at("09:00")
    )
    assert report.is_zero and not report.is_late and report.declared == 1
    assert AuditLog.objects.filter(object_type="reports.unitreport").count() == 1
    group = selectors.rollup(
        user=org.user("group_admin", org.group), unit=org.group, day=today, now=at("10:30")
    )
    assert group.total.reports.as_dict() == {
        "expected": 5,
        "reported": 1,
        "on_time": 1,
        "late": 0,
        "missing": 4,
        "pending": 0,
        "zero": 1,
    }
    ent_a = next(row for row in group.children if row.unit == org.ent_a)
    assert (ent_a.reports.reported, ent_a.reports.missing, ent_a.reports.zero) == (1, 1, 1)


def test_a_zero_report_with_abnormal_cases_is_refused(org, today, at):
    declare(org.person_a, temperature="38.2")
    with pytest.raises(InvalidInput) as refused:
        services.report_attest(
            actor=org.user("reporter", org.plant_a),
            unit=org.plant_a,
            day=today,
            zero=True,
            now=at("09:00"),
        )
    assert "zero" in refused.value.detail
    assert not UnitReport.objects.exists()


def test_someone_in_quarantine_also_rules_out_a_zero_report(org, today, at):
    place(org, org.person_a, start=today)  # a placement, not a declared whereabouts
    with pytest.raises(InvalidInput):
        services.report_attest(actor=None, unit=org.plant_a, day=today, zero=True, now=at("09:00"))
    report = services.report_attest(actor=None, unit=org.plant_a, day=today, now=at("09:00"))
    assert report.quarantine == 1 and not report.is_zero


def test_a_report_after_the_deadline_is_late_and_a_correction_keeps_it(org, today, at):
    late = services.report_attest(actor=None, unit=org.plant_a, day=today, now=at("10:01"))
    assert late.is_late
    fixed = services.report_attest(actor=None, unit=org.plant_a, day=today, now=at("10:05"))
    assert fixed.is_late and fixed.version == 2


def test_a_correction_is_version_two_and_the_roll_up_uses_it(org, today, at):
    admin = org.user("group_admin", org.group)
    first = services.report_attest(
        actor=admin, unit=org.plant_a, day=today, zero=True, now=at("08:00")
    )
    declare(org.person_a, symptoms=["cough"])
    second = services.report_attest(
        actor=admin, unit=org.plant_a, day=today, note="咳嗽一人", now=at("09:00")
    )
    first.refresh_from_db()
    assert (first.version, first.is_current) == (1, False)
    assert (second.version, second.is_current, second.symptom, second.abnormal) == (2, True, 1, 1)
    rows = selectors.rollup(user=admin, unit=org.ent_a, day=today, now=at("09:30"))
    assert rows.total.reports.zero == 0 and rows.total.reports.on_time == 1
    history = selectors.report_history(admin, org.plant_a, today)
    assert [r.version for r in history] == [2, 1]


def test_retrying_with_the_same_client_uuid_returns_the_same_report(org, today, at):
    import uuid

    key = uuid.uuid4()
    one = services.report_attest(
        actor=None, unit=org.plant_a, day=today, client_uuid=key, now=at("09:00")
    )
    two = services.report_attest(
        actor=None, unit=org.plant_a, day=today, client_uuid=key, now=at("09:01")
    )
    assert one.pk == two.pk and UnitReport.objects.count() == 1


def test_the_same_client_uuid_for_another_report_is_refused(org, today, at):
    import uuid

    from fangkong.core.errors import KeyReused

    key = uuid.uuid4()
    services.report_attest(
        actor=None, unit=org.plant_a, day=today, client_uuid=key, now=at("09:00")
    )
    for other in ({"unit": org.plant_b}, {"unit": org.plant_a, "zero": True}):
        with pytest.raises(KeyReused):
            services.report_attest(actor=None, day=today, client_uuid=key, now=at("09:01"), **other)
    assert UnitReport.objects.count() == 1


def test_units_outside_a_plan_and_future_days_are_refused(org, today, at):
    import datetime as dt

    with pytest.raises(InvalidInput):
        services.report_attest(actor=None, unit=org.shop_a, day=today, now=at("09:00"))
    with pytest.raises(InvalidInput):
        services.report_attest(
            actor=None, unit=org.plant_a, day=today + dt.timedelta(days=1), now=at("09:00")
        )


def test_attesting_needs_the_permission_on_the_unit(org, today, at):
    with pytest.raises(PermissionDenied):
        services.report_attest(
            actor=org.user("viewer", org.ent_a), unit=org.plant_a, day=today, now=at("09:00")
        )
    with pytest.raises(NotFound):
        services.report_attest(
            actor=org.user("reporter", org.ent_a), unit=org.plant_b, day=today, now=at("09:00")
        )


# ------------------------------------------------------------------ the sweep


def alarms() -> set[tuple[str, str]]:
    return set(ReportAlarm.objects.values_list("unit__code", "kind"))


def test_missing_reports_are_reminded_at_the_deadline_and_escalated_after_grace(org, at):
    services.report_attest(actor=None, unit=org.ent_a, day=at("00:00").date(), now=at("09:00"))
    assert services.deadline_sweep(now=at("09:59"))["new"] == 0
    assert services.deadline_sweep(now=at("10:01"))["new"] == 4
    assert alarms() == {(c, "reminder") for c in ("A1", "B", "B1", "C")}
    assert services.deadline_sweep(now=at("10:06"))["new"] == 0  # not twice
    services.report_attest(actor=None, unit=org.plant_b, day=at("00:00").date(), now=at("11:00"))
    assert services.deadline_sweep(now=at("11:59"))["new"] == 0
    assert services.deadline_sweep(now=at("12:01"))["new"] == 3
    assert {a for a in alarms() if a[1] == "escalation"} == {
        (c, "escalation") for c in ("A1", "B", "C")
    }
    assert services.deadline_sweep(now=at("12:06"))["new"] == 0
    assert ReportAlarm.objects.filter(sent_at__isnull=True).count() == 0


def inbox(user) -> list[tuple[str, str]]:
    return sorted(
        InboxItem.objects.filter(user=user).values_list(
            "notification__event", "notification__unit__code"
        )
    )


def test_the_reminder_and_the_escalation_reach_the_right_inboxes_at_the_right_times(org, at):
    reporter = org.user("reporter", org.community)
    parent_admin = org.user("unit_admin", org.ent_b)
    own_admin = org.user("unit_admin", org.community)
    services.deadline_sweep(now=at("09:59"))
    assert inbox(reporter) == [] and inbox(parent_admin) == []
    services.deadline_sweep(now=at("10:01"))
    assert inbox(reporter) == [("report_reminder", "C")]
    assert inbox(parent_admin) == []  # the parent's admins hear nothing during the grace
    services.deadline_sweep(now=at("11:59"))
    assert inbox(parent_admin) == []
    services.deadline_sweep(now=at("12:01"))
    escalations = [item for item in inbox(parent_admin) if item[0] == "report_escalation"]
    assert ("report_escalation", "B") in escalations  # about C, told on its parent B
    assert Notification.objects.filter(event="report_escalation", subject__contains="翠溪北区")
    assert inbox(reporter) == [("report_reminder", "C")]
    assert not [item for item in inbox(own_admin) if item[0] == "report_escalation"]
    services.deadline_sweep(now=at("12:06"))
    services.deadline_sweep(now=at("15:00"))
    assert inbox(reporter) == [("report_reminder", "C")]  # never twice
    assert len(escalations) == len(
        [item for item in inbox(parent_admin) if item[0] == "report_escalation"]
    )


def test_a_sweep_that_starts_late_raises_both_alarms_at_once(org, at):
    assert services.deadline_sweep(now=at("13:00"))["new"] == 10
    assert services.deadline_sweep(now=at("13:05"))["new"] == 0


# ------------------------------------------------------------------ the roll-up


def figures(rollup_row):
    data = rollup_row.figures.as_dict()
    return data["expected"], data["declared"], data["completeness"]


def test_a_fever_shows_at_unit_enterprise_and_group_at_once(org, today, at):
    admin = org.user("group_admin", org.group)
    declare(org.person_b)
    declarations_submit(actor=admin, items=[raw_declaration(org.person_a, temperature="38.5")])
    for unit in (org.shop_a, org.plant_a, org.ent_a, org.group):
        total = selectors.rollup(user=admin, unit=unit, day=today, now=at("09:00")).total
        assert (total.figures.abnormal, total.figures.fever) == (1, 1), unit.code
    group = selectors.rollup(user=admin, unit=org.group, day=today, now=at("09:00"))
    assert figures(group.total) == (2, 2, 100.0)
    assert [(r.unit.code, r.figures.fever) for r in group.children] == [("A", 1), ("B", 0)]


def test_completeness_stays_within_100_percent_when_people_move_and_units_close(org, today, at):
    admin = org.user("group_admin", org.group)
    declare(org.person_a)
    person_update(actor=admin, person=org.person_a, unit=org.plant_b)
    ent_a = selectors.rollup(user=admin, unit=org.ent_a, day=today, now=at("09:00"))
    ent_b = selectors.rollup(user=admin, unit=org.ent_b, day=today, now=at("09:00"))
    assert figures(ent_a.total) == (0, 0, 0.0)
    assert figures(ent_b.total) == (2, 1, 50.0)
    # A unit whose people declared, then moved out, then closed: its figures go with them.
    lab = unit_create(actor=admin, code="A9", name="化验室", kind="plant", parent=org.ent_a)
    chemist = person_create(actor=admin, unit=lab, name="赵强", id_number=valid_resident_id(77))
    declare(chemist)
    person_update(actor=admin, person=chemist, unit=org.plant_a)
    unit_close(actor=admin, unit=lab, on=today)
    group = selectors.rollup(user=admin, unit=org.group, day=today, now=at("09:00"))
    assert all(row.figures.completeness <= 100 for row in [group.total, *group.children])
    ent_a = selectors.rollup(user=admin, unit=org.ent_a, day=today, now=at("09:00"))
    assert [r.unit.code for r in ent_a.children] == ["A1"]
    assert figures(ent_a.total) == (1, 1, 100.0)
    assert ent_a.total.reports.expected == 2  # A and A1; the closed unit no longer reports


def test_people_who_join_after_the_day_are_not_expected(org, today, at):
    import datetime as dt

    Person.objects.filter(pk=org.person_a.pk).update(joined_on=today + dt.timedelta(days=3))
    admin = org.user("group_admin", org.group)
    total = selectors.rollup(user=admin, unit=org.group, day=today, now=at("09:00")).total
    assert total.figures.expected == 1


def test_roll_up_query_count_does_not_grow_with_many_children(
    org, today, at, django_assert_max_num_queries
):
    admin = org.user("group_admin", org.group)
    declare(org.person_a, temperature="38.0")
    for i in range(30):
        unit_create(actor=admin, code=f"AX{i}", name=f"车间{i}", kind="plant", parent=org.ent_a)
        if i in (13, 29):
            with django_assert_max_num_queries(10):
                rows = selectors.rollup(user=admin, unit=org.ent_a, day=today, now=at("09:00"))
            assert len(rows.children) == i + 2
            assert figures(rows.total) == (1, 1, 100.0)
            plant = next(row for row in rows.children if row.unit == org.plant_a)
            assert (plant.figures.expected, plant.figures.fever) == (1, 1)


def test_roll_up_outside_the_scope_is_not_found(org, today):
    with pytest.raises(NotFound):
        selectors.rollup(user=org.user("viewer", org.ent_a), unit=org.ent_b, day=today)


def test_trend_has_one_row_per_day_with_todays_figures(org, today, at):
    admin = org.user("group_admin", org.group)
    declare(org.person_a, temperature="37.5")
    services.report_attest(actor=None, unit=org.plant_a, day=today, now=at("09:00"))
    rows = selectors.trend(user=admin, unit=org.group, days=30, today=today)
    assert len(rows) == 30 and rows[-1]["day"] == today
    assert {k: rows[-1][k] for k in ("expected", "declared", "abnormal", "reported")} == {
        "expected": 2,
        "declared": 1,
        "abnormal": 1,
        "reported": 1,
    }
    assert rows[-1]["reports_expected"] == 5 and rows[0]["reports_expected"] == 0


def test_the_roll_up_applies_each_units_earliest_plan_deadline(org, today, at):
    # Plants (also under the default 10:00 plan) and workshops report by 08:00.
    ReportPlan.objects.create(
        name="early",
        unit_kinds=["plant", "workshop"],
        valid_from=dt.date(2020, 1, 1),
        deadline=dt.time(8, 0),
    )
    services.report_attest(actor=None, unit=org.plant_a, day=today, now=at("09:00"))
    admin = org.user("group_admin", org.group)
    rows = selectors.rollup(user=admin, unit=org.group, day=today, now=at("09:00"))
    counts = {row.unit.code: row.reports.as_dict() for row in [rows.total, *rows.children]}
    assert counts["G"] == {
        "expected": 6,
        "reported": 1,
        "on_time": 0,
        "late": 1,  # A1 after 08:00
        "missing": 2,  # A1W1 and B1: 08:00 has passed
        "pending": 3,  # A, B and C: due at 10:00
        "zero": 0,
    }
    assert (counts["A"]["late"], counts["A"]["missing"], counts["A"]["pending"]) == (1, 1, 1)
    assert (counts["B"]["late"], counts["B"]["missing"], counts["B"]["pending"]) == (0, 1, 2)


def test_many_subtrees_sum_the_same_through_one_covering_range(org, monkeypatch, today):
    declare(org.person_a, temperature="38.2")
    declare(org.person_b, whereabouts="travelling")
    paths = [org.shop_a.path, org.plant_b.path, org.community.path, org.ent_a.path]
    paths += [f"/{n}/" for n in range(900, 915)]  # more subtrees than the per-subtree limit
    exact = live_figures.figures_by_subtree(paths, today)
    monkeypatch.setattr(live_figures, "RANGES_LIMIT", 1)
    assert live_figures.figures_by_subtree(paths, today) == exact
    assert exact[org.ent_a.path].fever == 1 and exact[org.plant_b.path].returnees == 1


def test_expected_people_and_declarations_equal_a_count_one_by_one(org, today, at):
    """The trend's and the roll-up's head-counts, from kept counts, against a brute force."""
    admin = org.user("group_admin", org.group)
    for n, days_ago in enumerate([-2, 0, 1, 5, 29, 40]):  # one joins in two days' time
        person_create(
            actor=None,
            unit=org.plant_b if n % 2 else org.shop_a,
            name=f"新人{n}",
            id_number=valid_resident_id(300 + n),
            joined_on=today - dt.timedelta(days=days_ago),
        )
    left = person_create(actor=None, unit=org.shop_a, name="离职", id_number=valid_resident_id(399))
    declare(left)
    declare(org.person_a)
    Person.objects.filter(pk=left.pk).update(is_active=False)
    people = list(Person.objects.all())

    def expected(unit, day):
        return sum(
            1
            for p in people
            if p.is_active
            and p.unit_path.startswith(unit.path)
            and (p.joined_on is None or p.joined_on <= day)
        )

    for unit in (org.group, org.ent_a, org.ent_b, org.shop_a):
        rows = selectors.trend(user=admin, unit=unit, days=31, today=today)
        assert [row["expected"] for row in rows] == [expected(unit, row["day"]) for row in rows]
        rollup = selectors.rollup(user=admin, unit=unit, day=today, now=at("09:00"))
        # The page hands the day's figures to the trend instead of counting them again.
        given = selectors.trend(
            user=admin, unit=unit, days=31, today=today, last=rollup.total.figures
        )
        assert given == rows
        for row in [rollup.total, *rollup.children]:
            figures = row.figures
            assert figures.expected == expected(row.unit, today)
            # the person who left declared, but is neither expected nor counted as missing
            declared = 1 if org.person_a.unit_path.startswith(row.unit.path) else 0
            assert figures.not_declared == figures.expected - declared


def test_the_roll_up_and_its_trend_read_no_person_but_the_few_not_expected(org, today, at):
    """Head-counts come from the kept per-unit counts: scanning every person is what made
    the group's page slow (178,000 rows twice per view at seeds scale)."""
    admin = org.user("group_admin", org.group)
    with CaptureQueriesContext(connection) as queries:
        selectors.rollup(user=admin, unit=org.group, day=today, now=at("09:00"))
        selectors.trend(user=admin, unit=org.group, days=30, today=today)
    reading_people = [q["sql"] for q in queries if '"orgs_person"' in q["sql"]]
    assert reading_people  # the people who joined later, those who left
    for sql in reading_people:
        assert '"joined_on" >' in sql or 'NOT U0."is_active"' in sql, sql


def test_declaration_figures_equal_a_count_of_the_declarations_at_every_level(org, today, at):
    """Above the enterprises' level the roll-up and the trend sum a row per subtree
    (health.subtree_tally), below it a row per unit: both equal a count one by one."""
    admin = org.user("group_admin", org.group)
    yesterday = today - dt.timedelta(days=1)
    declare(org.person_a, day=yesterday, temperature="38.2")
    declare(org.person_a, temperature="38.6", symptoms=["cough"])
    declare(org.person_b, whereabouts="travelling")
    current = list(Declaration.objects.filter(is_current=True))

    def count(unit, day, **flags):
        return sum(
            1
            for d in current
            if d.day == day
            and d.unit_path.startswith(unit.path)
            and all(getattr(d, name) == value for name, value in flags.items())
        )

    units = [org.group, org.ent_a, org.ent_b, org.plant_a, org.shop_a, org.plant_b]
    for unit in units:
        trend = selectors.trend(user=admin, unit=unit, days=2, today=today)
        assert [row["declared"] for row in trend] == [count(unit, yesterday), count(unit, today)]
        rollup = selectors.rollup(user=admin, unit=unit, day=today, now=at("09:00"))
        for row in [rollup.total, *rollup.children]:
            f = row.figures
            assert f.declared == count(row.unit, today)
            assert f.fever == count(row.unit, today, flag_fever=True)
            assert f.symptom == count(row.unit, today, flag_symptom=True)
            assert f.returnees == count(row.unit, today, whereabouts="travelling")


def test_the_trend_counts_a_moved_units_reports_under_its_new_parent(org, today, at):
    admin = org.user("group_admin", org.group)
    services.report_attest(actor=admin, unit=org.plant_a, day=today, now=at("11:00"))

    def reported(unit):
        return selectors.trend(user=admin, unit=unit, days=1, today=today)[-1]["reported"]

    assert (reported(org.ent_a), reported(org.ent_b), reported(org.group)) == (1, 0, 1)
    unit_move(actor=admin, unit=org.plant_a, new_parent=org.ent_b)
    assert (reported(org.ent_a), reported(org.ent_b), reported(org.group)) == (0, 1, 1)
    late = selectors.trend(user=admin, unit=org.ent_b, days=1, today=today)[-1]["late"]
    assert late == 1  # attested after the 10:00 deadline
