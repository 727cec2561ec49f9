"""Personal data has a lifetime: closing an outbreak, and erasing its data N days later.

One outbreak is lived through on fixed days (time-machine): declarations with a fever that
opens a card, a follow-up, a close contact, an itinerary, a quarantine with its checks.
The cards are closed out and the person released, the outbreak is closed, and the next
outbreak starts the day after. Then the clock jumps past the retention period.
"""

import datetime as dt
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django_q.tasks import async_task

from fangkong.core import retention as core_retention
from fangkong.core.models import AuditLog
from fangkong.core.schedules import PERIODIC_JOBS
from fangkong.health import services
from fangkong.health.models import Declaration, OutbreakProfile
from fangkong.health.retention import PURGE_OBJECT_TYPE, outbreak_close, purge_personal_data
from fangkong.ledger import services as ledger
from fangkong.ledger.models import Entry, Item
from fangkong.quarantine import services as quarantine
from fangkong.quarantine.ledger_kind import KIND as QUARANTINE
from fangkong.quarantine.models import Mode, Placement
from fangkong.quarantine.tests.factories import make_site
from fangkong.reports.selectors import rollup, trend
from fangkong.tracking import services as tracking
from fangkong.tracking.kinds import ABNORMAL, CONTACT
from fangkong.tracking.models import CloseContact
from fangkong.travel import services as travel
from fangkong.travel.models import Decision, Itinerary, ReturneeCard
from fangkong.travel.tests.test_decisions import card_raw

from .factories import raw_declaration

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
URL = "/health/outbreak/"
FIRST = dt.date(2026, 3, 2)  # the outbreak's first day with data (a Monday)
CLOSE = FIRST + dt.timedelta(days=3)  # cards closed out, person released, outbreak closed
NEXT = CLOSE + dt.timedelta(days=1)  # the next outbreak's first day
DAYS = 180


def at(day: dt.date, hour: int = 10) -> time_machine.travel:
    return time_machine.travel(dt.datetime(day.year, day.month, day.day, hour, tzinfo=SHANGHAI))


def declare(org, *items):
    return services.declarations_submit(actor=org.user("grid_worker", org.group), items=list(items))


def figures(org, day):
    """What the roll-up and the trend show for ``day``: the numbers, no names."""
    admin = org.user("group_admin", org.group)
    result = rollup(user=admin, unit=org.group, day=day)
    rows = [result.total, *result.children]
    series = trend(user=admin, unit=org.group, days=7, today=day)
    return [row.figures.as_dict() for row in rows], series


@pytest.fixture
def lived(org):
    """One outbreak lived through and closed on CLOSE; the next outbreak's first day NEXT."""
    admin, tracker = org.user("group_admin", org.group), org.user("tracker", org.group)
    with at(FIRST):
        declare(
            org,
            raw_declaration(org.person_a, temperature="38.5"),
            raw_declaration(org.person_b),
        )
        card = Item.objects.get(kind=ABNORMAL, person=org.person_a)
        ledger.item_follow_up(actor=tracker, item=card, text="张伟：已电话随访，体温38.5")
        travel.itinerary_add(
            actor=org.user("grid_worker", org.group),
            person=org.person_b,
            raw={"division": "420102", "from_day": "2026-02-20", "to_day": "2026-02-27"},
        )
        tracking.contact_record(
            actor=tracker, person=org.person_b, case=org.person_a, last_contact_day=FIRST
        )
        returnee = travel.card_file(
            actor=org.user("grid_worker", org.group), person=org.person_b, raw=card_raw()
        )
        _site, rooms = make_site(org.ent_a, rooms={"101": 1})
        placement = quarantine.placement_start(
            actor=admin,
            person=org.person_a,
            mode=Mode.CENTRALISED,
            level="other",
            days=3,
            room=rooms["101"],
            site=rooms["101"].site,
            reason="发热待排查",
        )
        quarantine.placement_check(actor=tracker, placement=placement, temperature="37.9")
    with at(CLOSE):
        declare(
            org,
            *(
                raw_declaration(org.person_a, day=(FIRST + dt.timedelta(days=n)).isoformat())
                for n in (1, 2, 3)
            ),
        )
        tracking.card_request_close(actor=tracker, item=card, reason="连续三天正常")
        ledger.item_approve_close(actor=admin, item=card)
        quarantine.placement_release_request(actor=tracker, placement=placement, reason="期满")
        quarantine.placement_release_approve(actor=admin, placement=placement)
        travel.card_close(actor=admin, card=returnee, reason="已返岗")
        outbreak_close(actor=admin, outbreak_id=OutbreakProfile.current().pk, purge_after_days=DAYS)
    with at(NEXT):  # the next outbreak: none of this may be erased with the first
        declare(org, raw_declaration(org.person_b, temperature="38.2"))
        travel.itinerary_add(
            actor=org.user("grid_worker", org.group),
            person=org.person_a,
            raw={"division": "420102", "from_day": NEXT.isoformat(), "to_day": NEXT.isoformat()},
        )
    return card, placement


def personal_rows():
    """Count what the first outbreak left that names or describes a person."""
    return {
        "declarations": Declaration.objects.filter(day__lte=CLOSE).count(),
        "card_entries": Entry.objects.filter(item__kind=ABNORMAL, item__opened_at__date__lte=CLOSE)
        .exclude(item__person__isnull=True)
        .count(),
        "itineraries": Itinerary.objects.filter(to_day__lte=CLOSE).count(),
        "returnee_cards": ReturneeCard.objects.count() + Decision.objects.count(),
        "checks": Entry.objects.filter(item__kind=QUARANTINE, kind=Entry.Kind.MEASUREMENT).count(),
        "contacts": CloseContact.objects.count(),
    }


# ------------------------------------------------------------------ the purge


def test_before_the_retention_is_over_nothing_is_erased(org, lived):
    before = personal_rows()
    with at(CLOSE + dt.timedelta(days=DAYS - 1), hour=23):
        report = purge_personal_data()
    assert report.outbreaks == [] and report.total == 0
    assert personal_rows() == before and all(before.values())


def test_after_the_retention_the_personal_rows_go_and_the_figures_stay(org, lived, client):
    card, placement = lived
    with at(CLOSE):
        shown = {day: figures(org, day) for day in (FIRST, CLOSE)}
    assert shown[FIRST][0][0]["declared"] == 2 and shown[FIRST][0][0]["abnormal"] == 1

    with at(CLOSE + dt.timedelta(days=DAYS)):
        report = purge_personal_data()
        assert {day: figures(org, day) for day in (FIRST, CLOSE)} == shown

    assert report.counts["health.declarations"] == 5
    assert report.counts["tracking.cards.entries"] >= 2  # the follow-up, the close-out
    assert report.counts["quarantine.placements.entries"] >= 1
    assert report.counts["travel.itineraries"] == 2  # declared by hand, and on the card
    assert report.counts["travel.returnee_cards"] == 1
    assert not ReturneeCard.objects.exists() and not Decision.objects.exists()
    assert report.counts["tracking.close_contacts"] == 1
    assert not Declaration.objects.filter(day__lte=CLOSE).exists()
    assert not Itinerary.objects.filter(to_day__lte=CLOSE).exists()
    assert not CloseContact.objects.exists()
    # The cards stay, anonymised, for the counts; their history is gone.
    card.refresh_from_db()
    assert (card.person_id, card.object_id, card.title, card.data) == (None, 0, f"#{card.pk}", {})
    assert card.state == "closed" and not card.entries.exists()
    item = quarantine.placement_item(placement)
    assert item.title == f"#{item.pk}" and not item.entries.exists()
    placement.refresh_from_db()
    assert (placement.reason, placement.state) == ("", Placement.State.RELEASED)
    # What the audit log had copied of the erased rows is gone; who did what stays.
    copied = AuditLog.objects.filter(object_type="travel.itinerary").order_by("at").first()
    assert copied.action == "create" and (copied.before, copied.after) == (None, None)
    # A card's page still opens, without a name.
    client.force_login(org.user("group_admin", org.group))
    page = client.get(f"/ledger/item/{card.pk}/")
    assert page.status_code == 200 and "张伟" not in page.content.decode()


def test_the_next_outbreak_and_open_cards_are_untouched(org, lived):
    contact_card = Item.objects.get(kind=CONTACT, person=org.person_b)
    notes = contact_card.entries.count()
    with at(CLOSE + dt.timedelta(days=DAYS)):
        purge_personal_data()
    assert list(Declaration.objects.values_list("day", "person")) == [(NEXT, org.person_b.pk)]
    assert Itinerary.objects.get().to_day == NEXT
    new_card = Item.objects.get(kind=ABNORMAL, person=org.person_b)
    assert new_card.entries.exists() and new_card.title.startswith("李娜")
    # Still open: the contact card keeps its person and history until it is closed out.
    contact_card.refresh_from_db()
    assert contact_card.person == org.person_b and contact_card.entries.count() == notes


def test_a_second_run_finds_nothing_left(org, lived):
    with at(CLOSE + dt.timedelta(days=DAYS)):
        purge_personal_data()
        again = purge_personal_data(dry_run=True)
    assert again.outbreaks and again.total == 0


def test_the_dry_run_counts_and_erases_nothing(org, lived):
    before = personal_rows()
    audit_rows = AuditLog.objects.count()
    out = StringIO()
    with at(CLOSE + dt.timedelta(days=DAYS)):
        dry = purge_personal_data(dry_run=True)
        call_command("purge_personal_data", "--dry-run", stdout=out)
    assert personal_rows() == before
    assert AuditLog.objects.count() == audit_rows  # a dry run changes nothing, not even the log
    assert dry.counts["health.declarations"] == 5 and dry.counts["travel.itineraries"] == 2
    text = out.getvalue()
    assert "Would erase" in text and "health.declarations): 5" in text
    assert "travel.itineraries): 2" in text
    with at(CLOSE + dt.timedelta(days=DAYS)):
        real = purge_personal_data()
    assert real.counts == dry.counts


def test_the_run_is_audited_with_its_counts(org, lived):
    with at(CLOSE + dt.timedelta(days=DAYS)):
        report = purge_personal_data()
    row = AuditLog.objects.get(object_type=PURGE_OBJECT_TYPE)
    assert row.action == "delete" and row.actor is None
    assert row.after["counts"] == report.counts and row.after["outbreaks"] == report.outbreaks
    assert OutbreakProfile.objects.get(pk=report.outbreaks[0]).purged_at is not None


def test_the_purge_is_a_daily_job_on_the_task_queue(org, lived):
    assert ("fangkong.health.tasks.purge_personal_data", 1440) in PERIODIC_JOBS
    with at(CLOSE + dt.timedelta(days=DAYS)):
        async_task("fangkong.health.tasks.purge_personal_data")  # runs inline in tests
    assert not Declaration.objects.filter(day__lte=CLOSE).exists()
    assert AuditLog.objects.filter(object_type=PURGE_OBJECT_TYPE).count() == 1


def test_the_audit_log_has_a_retention_of_its_own(org, settings):
    settings.AUDIT_RETENTION_DAYS = 1095
    now = dt.datetime(2026, 6, 1, 12, tzinfo=SHANGHAI)
    old = AuditLog.objects.create(action="login", object_repr="old")
    kept = AuditLog.objects.create(action="login", object_repr="kept")
    AuditLog.objects.filter(pk=old.pk).update(at=now - dt.timedelta(days=1096))
    AuditLog.objects.filter(pk=kept.pk).update(at=now - dt.timedelta(days=1094))
    assert core_retention.expired_audit_rows(now).count() == 1
    with time_machine.travel(now):
        report = purge_personal_data()
    assert report.counts[core_retention.AUDIT_KEY] == 1
    assert not AuditLog.objects.filter(pk=old.pk).exists()
    assert AuditLog.objects.filter(pk=kept.pk).exists()


# ------------------------------------------------------------------ closing


def close_post(profile, **changes):
    data = {
        "save": "close",
        "close-outbreak": profile.pk,
        "close-purge_after_days": 180,
        "close-confirm": "on",
    }
    data.update(changes)
    return data


def test_a_group_admin_closes_the_outbreak_and_the_next_one_starts_tomorrow(client, org):
    profile = OutbreakProfile.current()
    with at(CLOSE):  # logged in that day: a session begun at the real "now" may have expired
        client.force_login(org.user("group_admin", org.group))
        response = client.post(URL, close_post(profile, **{"close-purge_after_days": 90}))
    assert response.status_code == 302
    profile.refresh_from_db()
    assert (profile.closed_on, profile.purge_due_on) == (CLOSE, CLOSE + dt.timedelta(days=90))
    successor = OutbreakProfile.current()
    assert successor.pk != profile.pk and successor.started_on == NEXT
    assert successor.fever_threshold == profile.fever_threshold
    assert successor.closed_on is None and successor.purge_after_days == 90
    row = AuditLog.objects.get(object_type="health.outbreakprofile", action="close")
    assert row.before["closed_on"] is None and row.after["purge_due_on"] == "2026-06-03"
    with at(CLOSE):
        page = client.get(URL).content.decode()
    assert 'id="closed-outbreaks"' in page and "2026-06-03" in page and "结束日期" in page
    # The next outbreak starts tomorrow: no close form today, a sentence says when instead.
    assert 'id="close-form"' not in page and 'id="close-not-yet"' in page
    with at(NEXT):
        assert 'id="close-form"' in client.get(URL).content.decode()


def test_closing_needs_the_confirmation(client, org):
    client.force_login(org.user("group_admin", org.group))
    profile = OutbreakProfile.current()
    data = close_post(profile)
    del data["close-confirm"]
    refused = client.post(URL, data)
    assert refused.status_code == 422 and "请勾选确认" in refused.content.decode()
    assert (
        client.post(URL, close_post(profile, **{"close-purge_after_days": "0"})).status_code == 422
    )
    assert OutbreakProfile.objects.filter(closed_on__isnull=False).count() == 0


def test_a_second_submission_does_not_close_the_next_outbreak(client, org):
    client.force_login(org.user("group_admin", org.group))
    profile = OutbreakProfile.current()
    assert client.post(URL, close_post(profile)).status_code == 302
    response = client.post(URL, close_post(profile))
    assert response.status_code == 409
    assert OutbreakProfile.objects.filter(closed_on__isnull=False).count() == 1


def test_only_who_manages_the_outbreak_may_close_it(client, org):
    client.force_login(org.user("unit_admin", org.ent_a))
    profile = OutbreakProfile.current()
    assert client.post(URL, close_post(profile)).status_code == 403
    assert OutbreakProfile.current().pk == profile.pk and profile.closed_on is None
    assert not AuditLog.objects.filter(action="close").exists()


def test_an_audit_retention_below_six_months_is_refused_before_anything_is_erased(org, settings):
    settings.AUDIT_RETENTION_DAYS = 30
    AuditLog.objects.create(action="login", object_repr="five months old")
    AuditLog.objects.update(at=dt.datetime(2026, 1, 1, tzinfo=SHANGHAI))
    june = dt.datetime(2026, 6, 1, 12, tzinfo=SHANGHAI)
    with time_machine.travel(june), pytest.raises(ImproperlyConfigured):
        purge_personal_data()
    assert AuditLog.objects.filter(object_repr="five months old").exists()
