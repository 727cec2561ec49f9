"""Demo rectification problems on 山东铝业 (SDLY): one in every state and colour.

- 修复厂区路灯: 698 street lamps, 300 done at 58 % of its time — yellow, with photos;
- 整修职工卫生间: 217 toilets nearly done, 2 working days left — blue;
- 规范停车位: 446 parking spaces, past its day — red;
- 会议室空调漏水: registered, not yet assigned; 安全警示标识缺失: waiting for acceptance;
- 配电室防鼠设施: accepted 31 days ago, its effectiveness check due;
- 公车使用管理不规范: accepted, checked and closed out, vehicle costs 40 % lower and
  hospitality 24 % lower;
- 仓库消防通道堵塞: closed out, then came back (a recurrence, in progress again).

The assigning unit is the enterprise (its supervisor, 纪委督办, accepts); the work is the
workshop reporter's and the enterprise's unit admin's. Dates count back from today, so the
colours hold whatever day the demo is loaded. Evidence photos are small generated PNGs.
The import of an audit report's list belongs to the import (``audit_import`` hook).
"""

import datetime as dt
import struct
import zlib
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone

from fangkong.accounts.models import User
from fangkong.core import calendar
from fangkong.orgs.models import OrgUnit

from . import services
from .models import ColourCount, Problem, ProblemClass, Severity, Source

ENTERPRISE, PLANT, WORKSHOP = "SDLY", "SDLY-P1", "SDLY-P1-W1"
HISTORY_DAYS = 14


def png(rgb: tuple[int, int, int], size: int = 16) -> bytes:
    """A small solid-colour PNG (a stand-in for a site photo)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    row = b"\x00" + bytes(rgb) * size
    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row * size))
        + chunk(b"IEND", b"")
    )


def _at(days_ago: int, hhmm: str = "09:00") -> dt.datetime:
    day = timezone.localdate() - dt.timedelta(days=days_ago)
    return dt.datetime.fromisoformat(f"{day}T{hhmm}:00").replace(tzinfo=calendar.LOCAL_TZ)


class _Demo:
    def __init__(self, units: dict[str, OrgUnit], users: dict[str, User]) -> None:
        self.units, self.users = units, users
        self.made: list[Problem] = []

    def register(
        self,
        title: str,
        *,
        ago: int,
        due: dt.date,
        unit: str = WORKSHOP,
        source: str = Source.AUDIT,
        ref: str = "审计报告〔2026〕3号",
        severity: str = Severity.GENERAL,
        problem_class: str = ProblemClass.DEADLINE,
        targets: tuple[tuple[str, str, int], ...] = (),
        milestones: tuple[tuple[str, dt.date], ...] = (),
        description: str = "",
    ) -> Problem:
        problem = services.problem_register(
            actor=None,
            new=services.NewProblem(
                title=title,
                unit=self.units[unit],
                assigning_unit=self.units[ENTERPRISE],
                source=source,
                source_ref=ref,
                description=description,
                severity=severity,
                problem_class=problem_class,
                due_on=due,
                responsible_name="王建军",
                leader_name="刘志刚",
                targets=[(label, uom, Decimal(n)) for label, uom, n in targets],
                milestones=list(milestones),
            ),
            now=_at(ago),
        )
        self.made.append(problem)
        return problem

    def owner(self, problem: Problem) -> User:
        key = "reporter" if problem.item and problem.item.unit.code == WORKSHOP else "unit_admin"
        return self.users.get(key) or self.users["unit_admin"]

    def assign(self, problem: Problem) -> User:
        owner = self.owner(problem)
        services.problem_assign(actor=None, problem=problem, owners=[owner])
        return owner

    def progress(
        self,
        problem: Problem,
        done: int,
        *,
        ago: int,
        note: str,
        photos: int = 0,
        milestones: bool = False,
    ) -> None:
        target = problem.targets.first()
        files = [
            SimpleUploadedFile(
                f"现场照片{n + 1}.png", png((40 * n % 256, 120, 200)), content_type="image/png"
            )
            for n in range(photos)
        ]
        services.problem_progress(
            actor=self.owner(problem),
            problem=problem,
            note=note,
            done={target.pk: done} if target else {},
            files=files,
            milestones_done=problem.milestones.values_list("pk", flat=True) if milestones else (),
            now=_at(ago, "16:00"),
        )

    def to_closed(self, problem: Problem, *, measures: str, reason: str) -> None:
        owner = self.assign(problem)
        self.progress(problem, 0, ago=47, note="制定整改方案", photos=1, milestones=True)
        services.problem_submit(
            actor=owner,
            problem=problem,
            measures=measures,
            root_cause="制度执行不严，台账管理缺位",
            preventive="纳入月度检查，纪委每季度抽查",
            now=_at(45),
        )
        services.problem_accept(actor=None, problem=problem, note="验收合格", now=_at(44))
        services.problem_check_effect(
            actor=None, problem=problem, effective=True, note="回头看无反弹", now=_at(10)
        )
        services.problem_close_out(actor=None, problem=problem, reason=reason)


@transaction.atomic
def seed_rectification() -> dict[str, int]:
    """Seed the demo problems on SDLY, import an audit report's list as a user would and
    assign its first finding, and write last week's bulletin. Returns counts."""
    units = {u.code: u for u in OrgUnit.objects.filter(code__in=[ENTERPRISE, PLANT, WORKSHOP])}
    if len(units) < 3:
        return {"problems": 0}
    users = {u.username: u for u in User.objects.filter(username__in=["reporter", "unit_admin"])}
    if "unit_admin" not in users:
        return {"problems": 0}
    demo = _Demo(units, users)
    today = timezone.localdate()

    lamps = demo.register(
        "修复厂区路灯",
        ago=24,
        due=today + dt.timedelta(days=16),
        targets=(("修复路灯", "盏", 698),),
        description="厂区主干道及生活区路灯损坏较多，夜间照明不足。",
    )
    demo.assign(lamps)
    demo.progress(lamps, 150, ago=12, note="完成一期线路检修", photos=2)
    demo.progress(lamps, 300, ago=2, note="更换灯具300盏", photos=1)

    toilets = demo.register(
        "整修职工卫生间",
        ago=10,
        due=calendar.add_working_days(today, 2),
        source=Source.INSPECTION,
        ref="专项检查〔2026〕12号",
        targets=(("整修卫生间", "间", 217),),
    )
    demo.assign(toilets)
    demo.progress(toilets, 200, ago=1, note="已整修200间", photos=1)

    parking = demo.register(
        "规范停车位",
        ago=30,
        due=today - dt.timedelta(days=3),
        unit=PLANT,
        source=Source.SUPERVISION,
        ref="督导组反馈意见〔2026〕5号",
        severity=Severity.SERIOUS,
        targets=(("施划停车位", "个", 446),),
    )
    demo.assign(parking)
    demo.progress(parking, 100, ago=20, note="完成东区停车位施划", photos=1)

    demo.register(
        "会议室空调漏水",
        ago=0,
        due=calendar.add_working_days(today, 1),
        source=Source.SUGGESTION,
        ref="金点子〔2026〕21号",
        problem_class=ProblemClass.IMMEDIATE,
    )

    signs = demo.register(
        "安全警示标识缺失",
        ago=8,
        due=today + dt.timedelta(days=6),
        source=Source.MEETING,
        ref="安全生产例会纪要",
    )
    owner = demo.assign(signs)
    demo.progress(signs, 0, ago=3, note="补设警示标识56处", photos=1)
    services.problem_submit(
        actor=owner, problem=signs, measures="补设警示标识，建立巡查制度", now=_at(1)
    )

    rats = demo.register("配电室防鼠设施", ago=60, due=today - dt.timedelta(days=32), unit=PLANT)
    owner = demo.assign(rats)
    services.problem_submit(
        actor=owner, problem=rats, measures="加装挡鼠板，封堵电缆孔洞", now=_at(33)
    )
    services.problem_accept(actor=None, problem=rats, note="验收合格", now=_at(31))

    cars = demo.register(
        "公车使用管理不规范",
        ago=70,
        due=today - dt.timedelta(days=40),
        unit=ENTERPRISE,
        ref="审计报告〔2026〕3号 第4条",
        severity=Severity.MAJOR,
        problem_class=ProblemClass.LONG_TERM,
        milestones=(
            ("建立派车审批制度", today - dt.timedelta(days=60)),
            ("车辆统一调度平台上线", today - dt.timedelta(days=45)),
        ),
    )
    demo.to_closed(cars, measures="公车统一调度，油卡一车一卡", reason="整改到位，予以销号")
    for label, base, current in (
        ("公车运行费用", 1_200_000, 720_000),
        ("招待费", 500_000, 380_000),
    ):
        services.saving_record(
            actor=None,
            problem=cars,
            label=label,
            unit_of_measure="元/年",
            baseline=base,
            current=current,
            now=_at(10),
        )

    exits = demo.register(
        "仓库消防通道堵塞",
        ago=70,
        due=today - dt.timedelta(days=40),
        unit=PLANT,
        source=Source.SELF_FOUND,
        ref="",
    )
    demo.to_closed(exits, measures="清理通道杂物，划定禁停区", reason="通道畅通")
    services.problem_recur(
        actor=None,
        problem=exits,
        reason="复查发现通道再次堆放物料",
        due_on=today + dt.timedelta(days=10),
    )

    now = timezone.now()
    for problem in demo.made:  # today's colours (the steps above were dated in the past)
        services.recolour(problem, now=now)
    _colour_history(units[ENTERPRISE], today)
    _supervise(parking, units[ENTERPRISE], today)
    imported = _audit_list(demo)
    bulletin = _last_weeks_bulletin(units[ENTERPRISE], today)
    return {"problems": len(demo.made), "imported": imported, "bulletin": bulletin}


def _supervise(problem: Problem, enterprise: OrgUnit, today: dt.date) -> None:
    """The enterprise's 纪委 puts the overdue parking problem under key supervision."""
    from .models import SupervisionLevel
    from .supervision import order_issue

    if problem.item is not None:
        order_issue(
            actor=None,
            item=problem.item,
            supervising_unit=enterprise,
            level=SupervisionLevel.KEY,
            due_on=today + dt.timedelta(days=5),
            note="每周五前报送整改进展",
        )


def _audit_list(demo: _Demo) -> int:
    """审计报告〔2026〕5号 imported through the import (template, check, commit), and its
    first finding assigned, as the office would on the day it arrives."""
    from .importing import demo_import

    units = demo.units
    outcome = demo_import(None, units[ENTERPRISE], [units[PLANT], units[WORKSHOP]])
    if outcome.created:
        demo.assign(outcome.created[0])
    return len(outcome.created)


def _last_weeks_bulletin(enterprise: OrgUnit, today: dt.date) -> int:
    """Monday's bulletin of the week before, as the Monday job writes it (a draft)."""
    from .bulletin import bulletin_generate

    monday = today - dt.timedelta(days=today.weekday() + 7)
    return bulletin_generate(actor=None, unit=enterprise, week_start=monday).pk


def _colour_history(enterprise: OrgUnit, today: dt.date) -> None:
    """Two weeks of nightly colour counts before today, so the chart has a shape (the
    nightly job writes today's and every later day's)."""
    rows = []
    for ago in range(HISTORY_DAYS, 0, -1):
        day = today - dt.timedelta(days=ago)
        counts = {
            "": 3 + ago % 3,
            "blue": 1 if ago % 4 == 0 else 0,
            "yellow": 1 if ago <= 8 else 0,
            "red": 1 if ago <= 3 else 0,
        }
        rows += [
            ColourCount(day=day, unit_path=enterprise.path, colour=colour, n=n)
            for colour, n in counts.items()
            if n
        ]
    ColourCount.objects.bulk_create(rows, ignore_conflicts=True)
