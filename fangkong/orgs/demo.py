"""Deterministic demo organisation from the source documents, at three scales.

``seeds`` matches the documents' numbers: 548 enterprises, 170,000 employees, 13,000
households, 1 service centre with 11 stations, 5 checkpoints. ``small`` is what
``make demo`` loads in seconds; ``10x`` multiplies enterprises and people by ten.
Ids are assigned here so paths are known before insert (one bulk insert per table).
"""

import datetime as dt
import random
from collections.abc import Iterator
from dataclasses import dataclass

from django.db import connection, transaction

from fangkong.accounts.models import RoleAssignment, User
from fangkong.accounts.roles import Role
from fangkong.core.pinyin import name_initials, name_pinyin

from . import headcount
from .models import OrgUnit, Person, UnitKind
from .validators import (
    birth_date_from_resident_id,
    gender_from_resident_id,
    resident_id_check_char,
)

DEMO_PASSWORD = "fangkong-demo"
START = dt.date(2020, 1, 1)


@dataclass(frozen=True)
class Scale:
    enterprises: int
    plants: int
    workshops: int
    teams: int
    employees: int
    households: int
    residents: int


SCALES = {
    "small": Scale(
        enterprises=8,
        plants=2,
        workshops=2,
        teams=2,
        employees=1_500,
        households=240,
        residents=300,
    ),
    "seeds": Scale(
        enterprises=548,
        plants=3,
        workshops=3,
        teams=3,
        employees=170_000,
        households=13_000,
        residents=8_000,
    ),
    "10x": Scale(
        enterprises=5_480,
        plants=3,
        workshops=3,
        teams=3,
        employees=1_700_000,
        households=130_000,
        residents=80_000,
    ),
}

SEGMENTS = [
    ("SEG-AL", "铝业板块"),
    ("SEG-CU", "铜业板块"),
    ("SEG-RE", "稀土板块"),
    ("SEG-EN", "工程技术板块"),
    ("SEG-SV", "服务保障板块"),
]
NAMED_ENTERPRISES = [
    ("SDLY", "山东铝业有限公司", "370303"),
    ("SXXCL", "中铝山西新材料有限公司", "140882"),
    ("SXLY", "山西铝业有限公司", "140882"),
    ("HNFGS", "中铝河南分公司", "410181"),
    ("GZFGS", "中铝贵州分公司", "520102"),
    ("GXFGS", "中铝广西分公司", "451002"),
    ("QHFGS", "中铝青海分公司", "630102"),
    ("BTLY", "包头铝业有限公司", "150204"),
]
CITIES = [
    "兰州",
    "连城",
    "抚顺",
    "遵义",
    "郑州",
    "洛阳",
    "昆明",
    "西宁",
    "重庆",
    "长沙",
    "沈阳",
    "太原",
    "济南",
    "南宁",
    "贵阳",
    "呼和浩特",
    "银川",
    "乌鲁木齐",
    "成都",
    "西安",
]
TRADES = ["铝业", "铝材", "碳素", "铜业", "稀土", "物流", "机电", "建设", "热电", "矿业"]
PLANTS = ["氧化铝厂", "电解铝厂", "热电厂", "动力厂", "碳素厂", "机关部门"]
WORKSHOPS = ["一车间", "二车间", "三车间", "检修车间"]
TEAMS = ["甲班", "乙班", "丙班", "丁班"]
COMMUNITIES = ["翠溪北区", "翠微小区", "翠溪南区", "翠峰小区", "铝城花园", "东风小区"]
STATIONS = [
    "南定村",
    "北定村",
    "湖田村",
    "马尚村",
    "东风社区",
    "铝城社区",
    "四宝山村",
    "沣水村",
    "北营社区",
    "南营社区",
    "刘家村",
]
SURNAMES = (
    "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑"
    "谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎"
)
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国志红玉兰海波宁鹏辉斌浩宇欣怡晨阳"


class DemoBuilder:
    def __init__(self, scale: Scale, seed: int = 20200315) -> None:
        self.scale, self.rng = scale, random.Random(seed)
        self.units: list[OrgUnit] = []
        self.next_id = (
            OrgUnit.objects.order_by("-id").values_list("id", flat=True).first() or 0
        ) + 1
        self.used_ids: set[str] = set()
        self.phone_seq = 0

    # ---------------------------------------------------------- units
    def unit(self, code: str, name: str, kind: str, parent: OrgUnit | None) -> OrgUnit:
        pk = self.next_id
        self.next_id += 1
        unit = OrgUnit(
            id=pk,
            code=code,
            name=name,
            kind=kind,
            parent=parent,
            path=f"{parent.path if parent else '/'}{pk}/",
            depth=parent.depth + 1 if parent else 0,
            name_initials=name_initials(name),
            name_pinyin=name_pinyin(name),
            valid_from=START,
        )
        self.units.append(unit)
        return unit

    def enterprise_names(self) -> Iterator[tuple[str, str, str]]:
        yield from NAMED_ENTERPRISES[: self.scale.enterprises]
        for i in range(len(NAMED_ENTERPRISES), self.scale.enterprises):
            city = CITIES[i % len(CITIES)]
            trade = TRADES[(i // len(CITIES)) % len(TRADES)]
            yield f"E{i + 1:05d}", f"中铝{city}{trade}第{i // 200 + 1}有限公司", "110105"

    def build_tree(self) -> dict[str, object]:
        group = self.unit("CHALCO", "中国铝业集团有限公司", UnitKind.GROUP, None)
        segments = [self.unit(code, name, UnitKind.SEGMENT, group) for code, name in SEGMENTS]
        teams: list[tuple[OrgUnit, str]] = []
        enterprises: dict[str, OrgUnit] = {}
        for index, (code, name, region) in enumerate(self.enterprise_names()):
            ent = self.unit(code, name, UnitKind.ENTERPRISE, segments[index % len(segments)])
            enterprises[code] = ent
            for p in range(self.scale.plants):
                plant = self.unit(f"{code}-P{p + 1}", PLANTS[p % len(PLANTS)], UnitKind.PLANT, ent)
                for w in range(self.scale.workshops):
                    shop = self.unit(
                        f"{plant.code}-W{w + 1}",
                        WORKSHOPS[w % len(WORKSHOPS)],
                        UnitKind.WORKSHOP,
                        plant,
                    )
                    for t in range(self.scale.teams):
                        team = self.unit(
                            f"{shop.code}-T{t + 1}", TEAMS[t % len(TEAMS)], UnitKind.TEAM, shop
                        )
                        teams.append((team, region))
        households = self.build_communities(enterprises.get("SXXCL") or group)
        self.build_services(enterprises.get("SDLY") or group)
        return {
            "group": group,
            "teams": teams,
            "households": households,
            "enterprises": enterprises,
        }

    def build_communities(self, owner: OrgUnit) -> list[OrgUnit]:
        households: list[OrgUnit] = []
        communities = [
            self.unit(f"C{i + 1:02d}", name, UnitKind.COMMUNITY, owner)
            for i, name in enumerate(COMMUNITIES)
        ]
        per_building = 24
        buildings = max(1, self.scale.households // per_building)
        for b in range(buildings):
            community = communities[b % len(communities)]
            number = b // len(communities) + 1
            building = self.unit(
                f"{community.code}-B{number:03d}", f"{number}号楼", UnitKind.BUILDING, community
            )
            for h in range(per_building):
                if len(households) >= self.scale.households:
                    break
                unit_no, floor = h % 2 + 1, h // 2 + 1
                households.append(
                    self.unit(
                        f"{building.code}-H{h + 1:02d}",
                        f"{unit_no}单元{floor}0{unit_no}室",
                        UnitKind.HOUSEHOLD,
                        building,
                    )
                )
        for i in range(5):
            self.unit(f"CK{i + 1}", f"{i + 1}号卡口", UnitKind.CHECKPOINT, communities[0])
        self.unit("QS1", "铝城宾馆集中隔离观察点", UnitKind.QUARANTINE_SITE, owner)
        self.unit("QS2", "职工培训中心集中隔离观察点", UnitKind.QUARANTINE_SITE, owner)
        return households

    def build_services(self, owner: OrgUnit) -> None:
        # The centre and its stations; their windows are the evaluation's own (its demo makes
        # them, with their staff): window units here too showed as empty rows beside them.
        centre = self.unit("ZBSC", "淄博保税物流园区便民服务中心", UnitKind.SERVICE_CENTRE, owner)
        for i, name in enumerate(STATIONS):
            self.unit(f"ZBSC-S{i + 1:02d}", f"{name}便民服务站", UnitKind.SERVICE_STATION, centre)

    # ---------------------------------------------------------- people
    def resident_id(self, region: str) -> str:
        while True:
            birth = dt.date(1960, 1, 1) + dt.timedelta(days=self.rng.randrange(0, 40 * 365))
            first17 = f"{region}{birth:%Y%m%d}{self.rng.randrange(0, 1000):03d}"
            number = first17 + resident_id_check_char(first17)
            if number not in self.used_ids:
                self.used_ids.add(number)
                return number

    def phone(self) -> str:
        self.phone_seq += 1
        prefix = ("138", "139", "150", "186", "137", "159")[self.phone_seq % 6]
        return f"{prefix}{(self.phone_seq * 7919) % 100_000_000:08d}"

    def name(self) -> str:
        given = "".join(self.rng.choice(GIVEN) for _ in range(self.rng.choice((1, 2, 2))))
        return self.rng.choice(SURNAMES) + given

    def people(
        self, teams: list[tuple[OrgUnit, str]], households: list[OrgUnit]
    ) -> Iterator[Person]:
        for i in range(self.scale.employees):
            team, region = teams[i % len(teams)]
            yield self.person(team, region, "employee", households, i)
        anchor = teams[0][0]
        for i in range(self.scale.residents):
            household = households[i % len(households)] if households else None
            yield self.person(
                household.parent if household and household.parent else anchor,
                "140882",
                "retiree" if i % 3 == 0 else "resident",
                households,
                i,
                household=household,
            )

    def person(
        self,
        unit: OrgUnit,
        region: str,
        category: str,
        households: list[OrgUnit],
        i: int,
        household: OrgUnit | None = None,
    ) -> Person:
        number = self.resident_id(region)
        if household is None and households and region == "140882" and i % 4 == 0:
            household = households[(i // 4) % len(households)]
        name = self.name()
        return Person(
            name=name,
            name_initials=name_initials(name),
            gender=gender_from_resident_id(number),
            birth_date=birth_date_from_resident_id(number),
            id_type="resident_id",
            id_number=number,
            phone=self.phone(),
            category=category,
            unit=unit,
            unit_path=unit.path,
            household=household,
            is_party_member=self.rng.random() < 0.47,
            joined_on=START - dt.timedelta(days=self.rng.randrange(0, 30 * 365)),
        )


DEMO_ACCOUNTS = [
    # (username, display name, role, unit code)
    ("group_admin", "集团防控办管理员", Role.GROUP_ADMIN, "CHALCO"),
    ("unit_admin", "山东铝业防控办", Role.UNIT_ADMIN, "SDLY"),
    ("reporter", "电解铝厂一车间填报员", Role.REPORTER, "SDLY-P1-W1"),
    ("grid_worker", "翠溪北区网格员", Role.GRID_WORKER, "C01"),
    ("tracker", "山西新材料跟踪员", Role.TRACKER, "SXXCL"),
    ("guard", "1号卡口值守", Role.GUARD, "CK1"),
    ("service_head", "便民服务中心主任", Role.SERVICE_HEAD, "ZBSC"),
    ("supervisor", "山东铝业纪委督办", Role.SUPERVISOR, "SDLY"),
    ("window_staff", "便民服务中心窗口工作人员", Role.WINDOW_STAFF, "ZBSC"),
    ("viewer", "集团领导小组观察员", Role.VIEWER, "CHALCO"),
]


def create_demo_accounts() -> list[tuple[str, str, str]]:
    """Create one account per role (and a superuser); return (username, role, unit)."""
    units = {u.code: u for u in OrgUnit.objects.filter(code__in=[a[3] for a in DEMO_ACCOUNTS])}
    created = []
    admin = User(username="admin", display_name="系统管理员", is_superuser=True, is_staff=True)
    admin.set_password(DEMO_PASSWORD)
    admin.save()
    created.append(("admin", "superuser", "—"))
    for username, display, role, code in DEMO_ACCOUNTS:
        unit = units.get(code)
        if unit is None:
            continue
        user = User(username=username, display_name=display)
        user.set_password(DEMO_PASSWORD)
        user.save()
        RoleAssignment.objects.create(user=user, role=role, unit=unit)
        created.append((username, str(Role(role).label), unit.name))
    return created


def _reset_sequences() -> None:
    if connection.vendor != "postgresql":
        return
    from django.core.management.color import no_style

    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_sql(no_style(), [OrgUnit, Person]):
            cursor.execute(sql)


def seed(scale_name: str, *, batch: int = 5000) -> dict[str, object]:
    """Build the demo organisation, its people and accounts; return what was made."""
    builder = DemoBuilder(SCALES[scale_name])
    with transaction.atomic():
        tree = builder.build_tree()
        OrgUnit.objects.bulk_create(builder.units, batch_size=batch)
        # Employees are dealt round the teams, so every batch would update every team's
        # head-count row again (on PostgreSQL, 36 dead versions of each row at seeds
        # scale, which the pages then read). Count once at the end instead, as the
        # import's single COPY does.
        headcount.uninstall()
        people_made = 0
        chunk: list[Person] = []
        for person in builder.people(tree["teams"], tree["households"]):  # type: ignore[arg-type]
            chunk.append(person)
            if len(chunk) >= batch:
                Person.objects.bulk_create(chunk)
                people_made += len(chunk)
                chunk = []
        Person.objects.bulk_create(chunk)
        people_made += len(chunk)
        headcount.install()  # the triggers again, and a recount
        _reset_sequences()
        accounts = create_demo_accounts()
    return {"units": len(builder.units), "people": people_made, "accounts": accounts}
