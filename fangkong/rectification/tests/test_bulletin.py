"""The weekly bulletin: Monday's draft, its PDF and Excel against the ledger, versions,
sign-off before sending, and the pages. Every instant is fixed (Asia/Shanghai)."""

import datetime as dt
import io

import openpyxl
import pytest
import time_machine
from pypdf import PdfReader

from fangkong.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from fangkong.core.models import AuditLog
from fangkong.core.paths import subtree_q
from fangkong.ledger.models import Item
from fangkong.notify.models import Event, InboxItem, Notification
from fangkong.rectification import bulletin
from fangkong.rectification.models import Bulletin, Problem

from .bulletin_helpers import MONDAY_MORNING, WEEK, signed_bulletin, week_of_problems
from .helpers import at

pytestmark = pytest.mark.django_db


def pdf_text(data: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def generate(org, unit=None, now=MONDAY_MORNING) -> Bulletin:
    return bulletin.bulletin_generate(
        actor=org.user("supervisor", org.ent_a), unit=unit or org.ent_a, week_start=WEEK, now=now
    )


def test_the_monday_pdf_lists_the_red_items_under_their_units(org):
    week_of_problems(org)
    made = generate(org)
    text = pdf_text(made.pdf.read())
    # Each red problem follows its unit's place, with its due day and days overdue.
    plant = text.index("山东铝业有限公司 › 电解铝厂\n") if "电解铝厂\n" in text else None
    assert plant is not None, text
    assert text.index("消防通道堵塞") > plant
    shop = text.index("山东铝业有限公司 › 电解铝厂 › 一车间")
    assert text.index("车间照明不足") > shop
    assert "2026-11-06" in text and "2026-11-12" in text and "李班长" in text
    # Neither what is on time nor another enterprise's overdue problem is on A's red list.
    assert "路灯修复" not in text and "氧化铝厂围墙" not in text
    red = made.figures["red"]
    assert [(e["title"], e["days_overdue"]) for e in red] == [
        ("消防通道堵塞", 10),
        ("车间照明不足", 4),
    ]


def test_the_excel_totals_match_the_ledger(org):
    week_of_problems(org)
    made = generate(org)
    book = openpyxl.load_workbook(io.BytesIO(made.xlsx.read()))
    summary, red, ranking = book.worksheets
    rows = list(summary.iter_rows(values_only=True))
    total = rows[-1]
    # Counted straight from the ledger: A's subtree, the week of 9 to 15 November.
    start, end = at("2026-11-09", "00:00"), at("2026-11-16", "00:00")
    items = Item.objects.filter(subtree_q("unit_path", org.ent_a.path), kind="problem")
    problems = Problem.objects.filter(item__in=items)
    new = items.filter(opened_at__gte=start, opened_at__lt=end).count()
    closed = items.filter(closed_at__gte=start, closed_at__lt=end).count()
    accepted = problems.filter(accepted_at__gte=start, accepted_at__lt=end)
    overdue = [
        p
        for p in problems.select_related("item")
        if p.item.opened_at < end
        and p.due_on < end.date()
        and (p.accepted_at is None or p.accepted_at >= end)
    ]
    assert total[1:6] == (new, closed, accepted.count(), accepted.filter(on_time=True).count(),
                          len(overdue))  # fmt: skip
    assert total[1:7] == (3, 1, 2, 1, 2, 25.0)
    # Every row adds up to the total, and the rows are the enterprise and its plant.
    assert [sum(r[i] for r in rows[1:-1]) for i in range(1, 6)] == list(total[1:6])
    assert [r[0] for r in rows[1:-1]] == [
        bulletin.row_label({"own": True, "name": org.ent_a.name}),
        "电解铝厂",
    ]
    red_rows = list(red.iter_rows(values_only=True))[1:]
    assert [(r[1], r[3]) for r in red_rows] == [("消防通道堵塞", 10), ("车间照明不足", 4)]
    assert list(ranking.iter_rows(values_only=True))[1][:4] == (1, "电解铝厂", 25.0, 2)


def test_generating_again_writes_a_new_version_and_keeps_the_old(org):
    week_of_problems(org)
    first = generate(org)
    bulletin.bulletin_preface_set(
        actor=org.user("supervisor", org.ent_a), bulletin=first, preface="本周整改总体平稳。"
    )
    second = generate(org, now=at("2026-11-17"))
    assert (first.version, second.version) == (1, 2)
    first.refresh_from_db()
    assert first.pdf and first.figures["as_of"] != second.figures["as_of"]
    assert second.preface == "本周整改总体平稳。"  # the paragraph carries over
    assert "本周整改总体平稳。" in pdf_text(second.pdf.read())
    # A day later the old red problem is one day more overdue in the new version only.
    assert second.figures["red"][0]["days_overdue"] == first.figures["red"][0]["days_overdue"] + 1
    assert AuditLog.objects.filter(object_type="rectification.bulletin").count() >= 3


def test_a_signed_bulletin_cannot_be_edited_and_only_the_latest_is_signed(org):
    week_of_problems(org)
    office = org.user("supervisor", org.ent_a)
    first = generate(org)
    second = generate(org)
    with pytest.raises(Conflict):
        bulletin.bulletin_sign_off(actor=office, bulletin=first)
    signed = bulletin.bulletin_sign_off(actor=office, bulletin=second, now=MONDAY_MORNING)
    assert office.username in pdf_text(signed.pdf.read())  # the paper names who signed it off
    with pytest.raises(Conflict) as refused:
        bulletin.bulletin_preface_set(actor=office, bulletin=signed, preface="改一下")
    assert "已签发" in str(refused.value.message)
    signed.refresh_from_db()
    assert signed.preface == "" and signed.status == Bulletin.Status.SIGNED


def test_sending_needs_sign_off_and_reaches_the_heads_of_the_units(org):
    week_of_problems(org)
    office = org.user("supervisor", org.ent_a)
    plant_head = org.user("unit_admin", org.plant_a)
    draft = generate(org)
    with pytest.raises(Conflict) as refused:
        bulletin.bulletin_send(actor=office, bulletin=draft)
    assert "先签发" in str(refused.value.message)
    assert not Notification.objects.filter(event=Event.WEEKLY_BULLETIN).exists()

    with time_machine.travel(at("2026-11-16", "09:00"), tick=False):
        signed = bulletin.bulletin_sign_off(actor=office, bulletin=draft)
        assert bulletin.bulletin_send(actor=office, bulletin=signed) == 2  # enterprise, plant
    signed.refresh_from_db()
    assert signed.status == Bulletin.Status.SENT
    assert signed.sent_at == signed.signed_at == at("2026-11-16", "09:00")
    inbox = InboxItem.objects.get(user=plant_head, notification__event=Event.WEEKLY_BULLETIN)
    assert inbox.notification.link == f"/rectification/bulletins/{signed.pk}/bulletin.pdf"
    with pytest.raises(Conflict):
        bulletin.bulletin_send(actor=office, bulletin=signed)


def test_only_the_office_generates_signs_and_sends(org):
    week_of_problems(org)
    made = generate(org)
    with pytest.raises(PermissionDenied):  # a viewer sees it but is not the office
        bulletin.bulletin_sign_off(actor=org.user("viewer", org.ent_a), bulletin=made)
    with pytest.raises(NotFound):  # enterprise B's office does not even see it
        bulletin.bulletin_sign_off(actor=org.user("supervisor", org.ent_b), bulletin=made)
    with pytest.raises(NotFound):
        generate_as(org, org.user("supervisor", org.ent_b))


def generate_as(org, actor):
    return bulletin.bulletin_generate(
        actor=actor, unit=org.ent_a, week_start=WEEK, now=MONDAY_MORNING
    )


@pytest.mark.parametrize(
    "week_start, reason",
    [
        (dt.date(2026, 11, 10), "周一"),  # a Tuesday
        (dt.date(2026, 11, 16), "尚未结束"),  # the week under way
        ("2026-11-09", "周一"),  # not a date
        (dt.date(2099, 12, 28), "2099"),
    ],
)
def test_a_bad_week_is_refused_with_its_reason(org, week_start, reason):
    with pytest.raises(InvalidInput) as refused:
        bulletin.bulletin_generate(
            actor=None, unit=org.ent_a, week_start=week_start, now=MONDAY_MORNING
        )
    assert reason in str(refused.value.message) and "week_start" in refused.value.detail
    assert not Bulletin.objects.exists()


def test_the_monday_job_writes_drafts_at_seven_and_tells_the_office(org):
    week_of_problems(org)
    office = org.user("supervisor", org.ent_a)
    assert bulletin.weekly_drafts(at("2026-11-16", "06:59")) == []
    created = bulletin.weekly_drafts(at("2026-11-16", "07:00"))
    drafts = Bulletin.objects.filter(pk__in=created)
    # The group (a root) and the two enterprises that assigned problems, each once.
    assert sorted(d.unit.code for d in drafts) == ["A", "B", "G"]
    assert all(d.status == Bulletin.Status.DRAFT and d.week_start == WEEK for d in drafts)
    waiting = InboxItem.objects.get(user=office, notification__event=Event.WEEKLY_BULLETIN)
    assert "待签发" in waiting.notification.subject
    # The next runs, the same Monday or later in the week, find nothing left to do.
    assert bulletin.weekly_drafts(at("2026-11-16", "07:05")) == []
    assert bulletin.weekly_drafts(at("2026-11-18", "12:00")) == []
    # The Monday after, the next week's drafts.
    assert len(bulletin.weekly_drafts(at("2026-11-23", "07:00"))) == 3


def test_the_job_is_scheduled():
    from fangkong.core.schedules import PERIODIC_JOBS

    assert ("fangkong.rectification.bulletin.weekly_drafts", 5) in PERIODIC_JOBS


# ------------------------------------------------------------------ pages


def test_the_pages_show_the_figures_and_take_the_office_through_sign_off(client, org, login_as):
    week_of_problems(org)
    with time_machine.travel(MONDAY_MORNING, tick=False):
        login_as("supervisor")  # the session is opened at the instant it is used
        response = client.post(
            "/rectification/bulletins/", {"unit": org.ent_a.pk, "week_start": "2026-11-09"}
        )
        made = Bulletin.objects.get()
        assert response.status_code == 302 and response["Location"].endswith(f"/{made.pk}/")
        page = client.get(response["Location"]).content.decode()
        assert "消防通道堵塞" in page and "25.0%" in page
        counted = f"/rectification/bulletins/{made.pk}/units/{org.plant_a.pk}/overdue/"
        assert counted in page  # the overdue figure links to the problems it counts
        listed = client.get(counted).content.decode()
        assert "消防通道堵塞" in listed and "车间照明不足" in listed and "路灯修复" not in listed

        client.post(
            f"/rectification/bulletins/{made.pk}/preface/", {"preface": "请各单位抓紧整改。"}
        )
        client.post(f"/rectification/bulletins/{made.pk}/send/")  # refused: not signed off
        made.refresh_from_db()
        assert made.preface == "请各单位抓紧整改。" and made.status == Bulletin.Status.DRAFT
        client.post(f"/rectification/bulletins/{made.pk}/sign/")
        client.post(f"/rectification/bulletins/{made.pk}/send/")
        made.refresh_from_db()
        assert made.status == Bulletin.Status.SENT
        page = client.get(f"/rectification/bulletins/{made.pk}/").content.decode()
        assert 'id="preface-form"' not in page and "请各单位抓紧整改。" in page

        client.post(f"/rectification/bulletins/{made.pk}/regenerate/")
        assert list(Bulletin.objects.values_list("version", "status")) == [
            (2, "draft"),
            (1, "sent"),
        ]
        archive = client.get("/rectification/bulletins/").content.decode()
        assert archive.count("2026-11-09") >= 2


def test_downloads_are_audited_and_bad_input_is_answered_clearly(client, org, login_as):
    week_of_problems(org)
    made = generate(org)
    login_as("viewer")
    response = client.get(f"/rectification/bulletins/{made.pk}/bulletin.xlsx")
    assert response.status_code == 200
    openpyxl.load_workbook(io.BytesIO(response.content))
    assert client.get(f"/rectification/bulletins/{made.pk}/bulletin.pdf").status_code == 200
    exports = AuditLog.objects.filter(action=AuditLog.Action.EXPORT, object_id=str(made.pk))
    assert sorted(exports.values_list("after__format", flat=True)) == ["pdf", "xlsx"]
    # A viewer may not generate; a bad week is a message, never a 500.
    with time_machine.travel(MONDAY_MORNING, tick=False):
        login_as("supervisor")
        for week in ("2026-11-10", "明天", "2026-13-40"):
            response = client.post(
                "/rectification/bulletins/", {"unit": org.ent_a.pk, "week_start": week}, follow=True
            )
            assert response.status_code == 200 and "周一" in response.content.decode()
    assert Bulletin.objects.count() == 1
    login_as("unit_admin", org.ent_b)
    assert client.get(f"/rectification/bulletins/{made.pk}/").status_code == 404
    assert client.get(f"/rectification/bulletins/{made.pk}/bulletin.pdf").status_code == 404


def test_a_paragraph_too_long_is_refused_at_its_field_with_the_text_kept(client, org, login_as):
    # The textarea's maxlength stops a browser; a pasted text or another client is not.
    week_of_problems(org)
    made = generate(org)
    typed = "各单位要高度重视整改工作。" * 400  # 5,200 characters
    with time_machine.travel(MONDAY_MORNING, tick=False):
        login_as("supervisor")
        response = client.post(f"/rectification/bulletins/{made.pk}/preface/", {"preface": typed})
    page = response.content.decode()
    assert response.status_code == 400
    assert 'id="preface-error"' in page and "5000" in page  # the problem, at the field
    assert f">{typed}</textarea>" in page  # what was typed is still there to shorten
    made.refresh_from_db()
    assert made.preface == ""


def test_signed_bulletin_helper_for_the_matrix(org):
    signed = signed_bulletin(org)
    assert signed.status == Bulletin.Status.SIGNED and signed.pdf and signed.xlsx
