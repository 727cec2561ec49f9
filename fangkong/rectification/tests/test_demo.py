"""The demo's problems: every state and colour, evidence with its hash, a 40 % saving."""

import datetime as dt
from decimal import Decimal

import pytest

from fangkong.orgs.demo import DEMO_PASSWORD, seed
from fangkong.rectification.demo import seed_rectification
from fangkong.rectification.models import (
    Bulletin,
    Colour,
    Evidence,
    Problem,
    Saving,
    SupervisionOrder,
)
from fangkong.testing import travel

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _wednesday_afternoon():
    """The demo dates its problems back from 16:00 on Wednesday 18 November 2026: the
    toilets due on Friday (2 working days, blue), last week's bulletin of 9–15 November."""
    with travel("2026-11-18", "16:00"):
        yield


def test_the_demo_has_a_problem_in_every_state_and_colour(client):
    seed("small")
    counts = seed_rectification()
    assert counts["problems"] == 8 and counts["imported"] == 6
    # The audit list came in through the import, and its first finding is assigned.
    imported = Problem.objects.filter(source_ref="审计报告〔2026〕5号").order_by("pk")
    assert imported.count() == 6 and imported[0].item.state == "assigned"
    # The overdue parking problem is under supervision (列入督办).
    order = SupervisionOrder.objects.get()
    assert order.item.problem.title == "规范停车位" and order.is_active
    # Last week's bulletin is there to open as a PDF.
    bulletin = Bulletin.objects.get(pk=counts["bulletin"])
    assert bulletin.pdf.read().startswith(b"%PDF")
    assert bulletin.week_start == dt.date(2026, 11, 9)
    problems = {
        p.title: p
        for p in Problem.objects.exclude(source_ref="审计报告〔2026〕5号").select_related("item")
    }
    assert problems["修复厂区路灯"].colour == Colour.YELLOW
    assert problems["修复厂区路灯"].targets.get().target == 698
    assert problems["整修职工卫生间"].colour == Colour.BLUE
    assert problems["规范停车位"].colour == Colour.RED
    states = {p.item.state for p in problems.values()}
    assert states >= {"registered", "in_progress", "submitted", "accepted", "closed"}
    recurred = problems["仓库消防通道堵塞"]
    assert recurred.recurrences == 1 and recurred.item.is_open
    assert not problems["公车使用管理不规范"].item.is_open
    vehicles = Saving.objects.get(label="公车运行费用")
    assert (vehicles.baseline - vehicles.current) / vehicles.baseline == Decimal("0.4")
    photo = Evidence.objects.first()
    assert photo.file.read().startswith(b"\x89PNG") and len(photo.sha256) == 64
    # The enterprise's supervisor (纪委督办) sees them on the list and the figures.
    client.login(username="supervisor", password=DEMO_PASSWORD)
    assert client.get("/rectification/?state=").context["page_obj"].paginator.count == 14
    figures = client.get("/rectification/figures/").context["total"]
    assert figures.overdue == 1
    assert figures.saved_percent == Decimal("35.3")  # 1.7 million a year down to 1.1
