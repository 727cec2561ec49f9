"""Demo data of service evaluation: the 淄博保税物流园区便民服务中心 (ZBSC, built by the orgs
demo with its 11 village and community stations) gets windows, a window-staff account for
each window with its badge, a badge per window and station and the official-account link,
a catalogue of 30 real service items offered at the centre (the stations offer the common
ones), and a month of cases and ratings: mostly good, some bad, with bad reviews at every
stage (waiting for the callback, overdue, called back, rectifying with a rectification
problem, appealed, an upheld appeal, explained, waiting for the 追评, closed after it).

Fast: the good ratings, cases, accounts and badges are written in bulk; only the bad
reviews go through the services (they open ledger items and rectification problems). The
accounts share one password hash, computed once.
"""

import datetime as dt
import random
from typing import Any

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from fangkong.accounts.models import RoleAssignment, User
from fangkong.accounts.roles import Role
from fangkong.orgs.models import OrgUnit

from . import services, tally
from .models import Badge, Case, Channel, Level, Offering, Rating, Service, Staff, TagSet, Window

CENTRE = "ZBSC"
SEED = 15
DAYS = 30
CASES_PER_WINDOW_DAY = (0, 3)  # a station window: 0 to 3 cases a day; the centre's: x4

# (code, name, category); the first ten are offered at every station too.
CATALOGUE = [
    ("SB001", "城乡居民养老保险参保登记", "社保"),
    ("YB001", "城乡居民医疗保险参保登记", "医保"),
    ("YB002", "医疗费用手工报销", "医保"),
    ("MZ001", "最低生活保障申请", "民政"),
    ("MZ002", "高龄津贴申领", "民政"),
    ("CL001", "残疾人证申领", "残联"),
    ("TY001", "退役军人优待证申领", "退役军人"),
    ("HJ001", "居民身份证申领", "户籍"),
    ("JS001", "生育登记服务", "卫健"),
    ("ZM001", "居住证明开具", "综合"),
    ("SB002", "城乡居民养老保险待遇申领", "社保"),
    ("SB003", "社会保障卡申领", "社保"),
    ("SB004", "失业保险金申领", "社保"),
    ("SB005", "灵活就业人员参保登记", "社保"),
    ("YB003", "异地就医备案", "医保"),
    ("YB004", "门诊慢特病待遇认定", "医保"),
    ("HJ002", "户口迁移（迁入）", "户籍"),
    ("HJ003", "新生儿入户", "户籍"),
    ("HJ004", "户籍证明开具", "户籍"),
    ("MZ003", "特困人员救助供养申请", "民政"),
    ("MZ004", "临时救助申请", "民政"),
    ("MZ005", "婚姻登记预约", "民政"),
    ("BDC001", "不动产登记资料查询", "不动产"),
    ("BDC002", "不动产抵押登记", "不动产"),
    ("BDC003", "二手房转移登记", "不动产"),
    ("CL002", "困难残疾人生活补贴申请", "残联"),
    ("CL003", "重度残疾人护理补贴申请", "残联"),
    ("TY002", "退役军人信息采集", "退役军人"),
    ("TY003", "优抚对象抚恤补助申领", "退役军人"),
    ("JY001", "就业创业证申领", "就业"),
]
STATION_SERVICES = 10
CENTRE_WINDOWS = [
    ("1", "综合受理窗口"),
    ("2", "社保医保窗口"),
    ("3", "户籍窗口"),
    ("4", "民政窗口"),
    ("5", "不动产窗口"),
    ("6", "残联退役军人窗口"),
]
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
GIVEN = [
    "晓红",
    "丽娜",
    "建国",
    "海燕",
    "志强",
    "秀英",
    "文静",
    "国庆",
    "春梅",
    "玉兰",
    "俊杰",
    "婷婷",
    "立新",
    "雪梅",
    "鹏飞",
    "桂芳",
    "明华",
    "淑珍",
]
# Good ratings mostly; basically satisfied now and then; the bad ones are made by hand.
GOOD_WEIGHTS = ((Level.VERY_SATISFIED, 70), (Level.SATISFIED, 22), (Level.BASICALLY, 8))
CHANNEL_WEIGHTS = (
    (Channel.BADGE, 45),
    (Channel.KIOSK, 35),
    (Channel.ACCOUNT, 12),
    (Channel.ONLINE, 8),
)


def _at_work(day: dt.date, rng: random.Random) -> dt.datetime:
    minute = rng.randrange(8 * 60 + 30, 17 * 60 + 30)
    return timezone.make_aware(dt.datetime.combine(day, dt.time(minute // 60, minute % 60)))


def _pick(rng: random.Random, weighted: tuple[tuple[Any, int], ...]) -> Any:
    values, weights = zip(*weighted, strict=True)
    return rng.choices(values, weights=weights)[0]


@transaction.atomic
def seed_evaluation(*, now: dt.datetime | None = None) -> dict[str, Any]:
    """Build the centre's evaluation data; return counts and the accounts to print."""
    centre = OrgUnit.objects.filter(code=CENTRE).first()
    if centre is None:
        return {"ratings": 0, "bad_reviews": 0, "accounts": []}
    now = now or timezone.now()
    rng = random.Random(SEED)
    stations = list(OrgUnit.objects.filter(parent=centre, kind="service_station").order_by("code"))
    services_ = _catalogue(centre, stations)
    windows = _windows(centre, stations)
    staff, accounts = _staff(centre, windows)
    _badges(centre, stations, windows, staff)
    tag_set = TagSet.objects.order_by("-version").first()
    ratings = _month(rng, windows, staff, services_, tag_set, now)
    bad = _bad_reviews(rng, centre, windows, staff, services_, now)
    tally.rebuild()  # the month's cases and ratings went in in bulk
    return {"ratings": ratings + bad, "bad_reviews": bad, "accounts": accounts}


def _catalogue(centre: OrgUnit, stations: list[OrgUnit]) -> list[Service]:
    made = Service.objects.bulk_create(
        [Service(code=code, name=name, category=category) for code, name, category in CATALOGUE]
    )
    offerings = [Offering(service=s, unit=centre, unit_path=centre.path) for s in made]
    offerings += [
        Offering(service=s, unit=station, unit_path=station.path)
        for station in stations
        for s in made[:STATION_SERVICES]
    ]
    Offering.objects.bulk_create(offerings)
    return made


def _windows(centre: OrgUnit, stations: list[OrgUnit]) -> list[Window]:
    rows = [
        Window(unit=centre, unit_path=centre.path, number=n, name=name)
        for n, name in CENTRE_WINDOWS
    ]
    rows += [
        Window(unit=station, unit_path=station.path, number=str(n), name=name)
        for station in stations
        for n, name in ((1, "综合窗口"), (2, "便民代办窗口"))
    ]
    return Window.objects.bulk_create(rows)


def _staff(
    centre: OrgUnit, windows: list[Window]
) -> tuple[list[Staff], list[tuple[str, str, str]]]:
    """One window-staff account per window; the demo's ``window_staff`` takes the centre's
    first window (and the role at the centre, where its window is)."""
    from fangkong.orgs.demo import DEMO_PASSWORD

    password = make_password(DEMO_PASSWORD)
    users: list[User] = []
    names: list[str] = []
    existing = User.objects.filter(username="window_staff").first()
    for index, window in enumerate(windows):
        name = SURNAMES[index % len(SURNAMES)] + GIVEN[(index * 7) % len(GIVEN)]
        names.append(name)
        if index == 0 and existing is not None:
            existing.display_name = f"{name}（{window}）"  # as on the badge, like the others
            existing.save(update_fields=["display_name"])
            users.append(existing)
            continue
        station = "" if window.unit_id == centre.pk else f"_s{window.unit.code[-2:]}"
        users.append(
            User(
                username=f"zbsc{station}_w{window.number}",
                display_name=f"{name}（{window}）",
                password=password,
            )
        )
    created = User.objects.bulk_create([u for u in users if u.pk is None])
    by_name = {u.username: u for u in created}
    users = [u if u.pk else by_name[u.username] for u in users]
    RoleAssignment.objects.bulk_create(
        [
            RoleAssignment(user=user, role=Role.WINDOW_STAFF, unit_id=window.unit_id)
            for user, window in zip(users, windows, strict=True)
        ],
        ignore_conflicts=True,
    )
    staff = Staff.objects.bulk_create(
        [
            Staff(user=user, window=window, name=name, staff_number=f"ZB{index + 1:04d}")
            for index, (user, window, name) in enumerate(zip(users, windows, names, strict=True))
        ]
    )
    shown = [
        (users[0].username, str(Role.WINDOW_STAFF.label), f"{windows[0].unit.name} {windows[0]}")
    ]
    station_window = next((w for w in windows if w.unit_id != centre.pk), None)
    if station_window is not None:
        i = windows.index(station_window)
        shown.append(
            (
                users[i].username,
                str(Role.WINDOW_STAFF.label),
                f"{station_window.unit.name} {station_window}",
            )
        )
    return staff, shown


def _badges(
    centre: OrgUnit, stations: list[OrgUnit], windows: list[Window], staff: list[Staff]
) -> None:
    rows = [
        Badge(
            holder=Badge.Holder.STAFF,
            unit_id=m.window.unit_id,
            unit_path=m.window.unit_path,
            window=m.window,
            staff=m,
        )
        for m in staff
    ]
    rows += [
        Badge(holder=Badge.Holder.WINDOW, unit_id=w.unit_id, unit_path=w.unit_path, window=w)
        for w in windows
    ]
    for unit in [centre, *stations]:
        rows.append(Badge(holder=Badge.Holder.STATION, unit=unit, unit_path=unit.path))
        rows.append(
            Badge(
                holder=Badge.Holder.STATION, unit=unit, unit_path=unit.path, channel=Channel.ACCOUNT
            )
        )
    Badge.objects.bulk_create(rows)


def _month(
    rng: random.Random,
    windows: list[Window],
    staff: list[Staff],
    catalogue: list[Service],
    tag_set: TagSet | None,
    now: dt.datetime,
) -> int:
    """A month of face-to-face cases with good (or middling) ratings, in bulk; some cases
    go unrated (主动评价率 below 100%)."""
    by_window = {m.window_id: m for m in staff}
    today = timezone.localtime(now).date()
    cases: list[Case] = []
    levels: list[tuple[int, dt.datetime]] = []
    for back in range(DAYS, -1, -1):
        day = today - dt.timedelta(days=back)
        if day.weekday() == 6:  # closed on Sundays
            continue
        for window in windows:
            offered = (
                catalogue
                if window.unit_path == windows[0].unit_path
                else catalogue[:STATION_SERVICES]
            )
            factor = 4 if window.unit_path == windows[0].unit_path else 1
            for _ in range(rng.randint(*CASES_PER_WINDOW_DAY) * factor):
                at = _at_work(day, rng)
                if at > now - dt.timedelta(minutes=5):
                    continue
                cases.append(
                    Case(
                        service=rng.choice(offered),
                        unit_id=window.unit_id,
                        unit_path=window.unit_path,
                        window=window,
                        staff=by_window.get(window.pk),
                        channel=_pick(rng, CHANNEL_WEIGHTS),
                        created_at=at,
                    )
                )
                levels.append((_pick(rng, GOOD_WEIGHTS), at))
    cases = Case.objects.bulk_create(cases, batch_size=2000)
    ratings = []
    for case, (level, at) in zip(cases, levels, strict=True):
        if rng.random() < 0.12:  # not rated
            continue
        offered_tags = services.tags_for(tag_set, level)
        tags = rng.sample(offered_tags, k=min(len(offered_tags), rng.randint(0, 2)))
        ratings.append(
            Rating(
                case=case,
                level=level,
                tags=tags,
                tag_set=tag_set,
                channel=case.channel,
                unit_path=case.unit_path,
                window_id=case.window_id,
                staff_id=case.staff_id,
                service_id=case.service_id,
                rated_at=min(at + dt.timedelta(minutes=rng.randint(1, 20)), now),
            )
        )
    Rating.objects.bulk_create(ratings, batch_size=2000)
    return len(ratings)


# (stage, level, tags, text, hours before now)
BAD = [
    ("waiting", Level.VERY_DISSATISFIED, ["态度不好"], "窗口人员一直在玩手机，问了两遍才理我。", 2),
    ("overdue", Level.DISSATISFIED, ["等候时间长"], "排了一个多小时的队。", 50),
    ("handling", Level.DISSATISFIED, ["材料要求不清"], "材料清单和网上写的不一样。", 20),
    (
        "rectifying",
        Level.VERY_DISSATISFIED,
        ["多次跑腿", "材料要求不清"],
        "为了一个证明跑了三趟。",
        96,
    ),
    ("appealed", Level.VERY_DISSATISFIED, ["态度不好"], "", 30),
    ("upheld", Level.VERY_DISSATISFIED, ["推诿扯皮"], "", 200),
    ("explained", Level.DISSATISFIED, ["办事效率低"], "系统太慢。", 150),
    ("awaiting", Level.DISSATISFIED, ["办事效率低"], "等了很久才办好。", 28),
    ("closed", Level.VERY_DISSATISFIED, ["态度不好", "办事效率低"], "工作人员不耐烦。", 300),
    ("closed", Level.DISSATISFIED, ["等候时间长"], "中午没人办理。", 400),
]


def _bad_reviews(
    rng: random.Random,
    centre: OrgUnit,
    windows: list[Window],
    staff: list[Staff],
    catalogue: list[Service],
    now: dt.datetime,
) -> int:
    """Bad reviews at every stage, through the services, as the head and the supervisor."""
    head = User.objects.filter(username="service_head").first()
    supervisor = User.objects.filter(username="supervisor").first()
    by_window = {m.window_id: m for m in staff}
    made = 0
    for index, (stage, level, tags, text, hours) in enumerate(BAD):
        window = windows[0] if index % 3 == 0 else windows[6 + (index * 5) % (len(windows) - 6)]
        offered = catalogue if window.unit_id == centre.pk else catalogue[:STATION_SERVICES]
        at = now - dt.timedelta(hours=hours)
        case = Case.objects.create(
            service=rng.choice(offered),
            unit_id=window.unit_id,
            unit_path=window.unit_path,
            window=window,
            staff=by_window.get(window.pk),
            channel=Channel.BADGE,
            created_at=at - dt.timedelta(minutes=15),
        )
        rating = services.rate(
            case=case, new=services.NewRating(level=level, tags=tags, text=text), now=at
        )
        made += 1
        if stage in ("waiting", "overdue"):
            continue
        bad = rating.bad_review
        services.callback_record(
            actor=head,
            bad_review=bad,
            how="phone",
            reached=True,
            said="已向办事群众致歉并了解情况，群众表示理解。",
            at=at + dt.timedelta(hours=3),
        )
        if stage == "handling":
            continue
        if stage == "rectifying":
            services.outcome_set(
                actor=head,
                bad_review=bad,
                outcome="rectify",
                text="梳理办事材料清单，统一窗口与网上公示口径。",
                reply="已统一材料清单并在大厅公示。",
                now=at + dt.timedelta(hours=4),
            )
        elif stage in ("appealed", "upheld"):
            services.outcome_set(
                actor=head,
                bad_review=bad,
                outcome="appeal",
                text="调取监控录像，工作人员全程规范服务，群众因不符合条件未能办理。",
                now=at + dt.timedelta(hours=4),
            )
            if stage == "upheld" and supervisor is not None:
                services.appeal_decide(
                    actor=supervisor,
                    bad_review=bad,
                    upheld=True,
                    note="经核实录像，属于误评，申诉成立。",
                    now=at + dt.timedelta(hours=30),
                )
        elif stage == "explained":
            services.outcome_set(
                actor=head,
                bad_review=bad,
                outcome="explained",
                text="当日省级系统故障，已向群众说明情况。",
                reply="系统故障已排除，给您带来不便深表歉意。",
                now=at + dt.timedelta(hours=4),
            )
        else:  # fixed at once: waiting for the 追评, or closed after it
            services.outcome_set(
                actor=head,
                bad_review=bad,
                outcome="fixed",
                text="当场为群众加急办理并致歉。",
                reply="已加急办结，并对窗口人员进行提醒。",
                now=at + dt.timedelta(hours=4),
            )
            if stage == "closed":
                services.follow_up_review(
                    bad_review=bad,
                    level=Level.VERY_SATISFIED if index % 2 else Level.SATISFIED,
                    text="问题已解决，态度很好。",
                    now=at + dt.timedelta(hours=30),
                )
    return made


def demo_follow_up_path() -> str:
    """The 追评 link of the demo's bad review waiting for it (printed by seed_demo)."""
    from .ledger_kind import AWAITING_REVIEW
    from .models import BadReview
    from .selectors import follow_up_path

    bad = BadReview.objects.filter(item__state=AWAITING_REVIEW, follow_up_at__isnull=True).first()
    return follow_up_path(bad) if bad is not None else ""
