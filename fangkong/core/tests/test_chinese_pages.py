"""Every page each role can reach reads in Chinese: no English word reaches a zh-Hans user.

The crawl starts at the home page and the navigation, follows the pages' own links (a
few per route pattern, so detail pages are opened too) and fails on any Latin word that
is not a brand, a technical term or a unit.
"""

import re
from collections import deque
from html.parser import HTMLParser
from urllib.parse import urldefrag, urlsplit

import pytest
from django.urls import Resolver404, resolve

from fangkong.accounts.roles import Role
from fangkong.core.models import AuditLog
from fangkong.core.schedules import ensure_schedules
from fangkong.health import services as health
from fangkong.health.tests.factories import raw_declaration
from fangkong.orgs.services import person_update
from fangkong.quarantine.models import Mode
from fangkong.quarantine.services import placement_start, placement_test
from fangkong.quarantine.tests.factories import make_site
from fangkong.travel.tests.factories import days_ago, trip

# Brand and technical words a Chinese page may carry, and units.
ALLOWED = {
    "fangkong",
    "api",
    "excel",
    "csv",
    "xlsx",
    "wecom",
    "dingtalk",
    "feishu",
    "qr",
    "id",
    "pdf",
    "km",
    "kg",
    "ms",
    "url",
    "http",
    "https",
    "json",
    "token",
    "bearer",
    "english",  # the language switcher names itself
    "webhook",  # a robot's address: the catalogue itself says "Webhook 地址"
    # Pinyin initials and codes typed in lower case, as search hints show them.
    "sdly",
    "zd",
    "wh",
}
# A word of Latin letters; codes with digits (SDLY-P1, A1W1) and units such as °C do not
# count, nor do all-capital codes (SDLY) or a single letter.
WORD = re.compile(r"(?<![\w./@-])[A-Za-z][a-z]+(?:[’'][a-z]+)?(?![\w/@-])")

# Links that are not pages: downloads, the API, the admin, leaving the session.
SKIP = re.compile(r"^/(api|admin|static|media|i18n)/|/logout|export|download|\.(xlsx|csv|pdf)|/qr")
PER_PATTERN = 3  # pages opened per URL pattern (list filters and details)
PER_ROLE = 120

ROLES = [
    (Role.GROUP_ADMIN, "group"),
    (Role.UNIT_ADMIN, "ent_a"),
    (Role.REPORTER, "shop_a"),
    (Role.GRID_WORKER, "community"),
    (Role.TRACKER, "ent_a"),
    (Role.GUARD, "ent_a"),
    (Role.SERVICE_HEAD, "ent_a"),
    (Role.SUPERVISOR, "ent_a"),
    (Role.WINDOW_STAFF, "ent_a"),
    (Role.VIEWER, "group"),
]


class _Page(HTMLParser):
    """Collect the visible text and the links of a page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.links: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag in ("script", "style", "template"):
            self._hidden += 1
        if tag == "a" and attributes.get("href"):
            self.links.append(attributes["href"])
        # What a user reads without it being text: placeholders, button values, titles.
        for name in ("placeholder", "title", "aria-label", "alt"):
            if attributes.get(name):
                self.text.append(attributes[name])
        if tag == "input" and attributes.get("type") in ("submit", "button"):
            self.text.append(attributes.get("value") or "")

    def handle_endtag(self, tag):
        if tag in ("script", "style", "template") and self._hidden:
            self._hidden -= 1

    def handle_data(self, data):
        if not self._hidden:
            self.text.append(data)


def english_words(text: str) -> set[str]:
    return {w for w in WORD.findall(text) if w.lower() not in ALLOWED}


def _pattern(path: str) -> str | None:
    try:
        match = resolve(path)
    except Resolver404:
        return None
    return match.route


def crawl(client) -> dict[str, set[str]]:
    """Open every page reachable from the home page; return {url: English words}."""
    seen_per_pattern: dict[str, int] = {}
    queued = {"/"}
    queue = deque(["/"])
    found: dict[str, set[str]] = {}
    opened = 0
    while queue and opened < PER_ROLE:
        url = queue.popleft()
        response = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans")
        opened += 1
        if response.status_code != 200 or "text/html" not in response.get("Content-Type", ""):
            continue
        page = _Page()
        page.feed(response.content.decode())
        words = english_words(" ".join(page.text))
        if words:
            found[url] = words
        for href in page.links:
            href = urldefrag(href).url
            parts = urlsplit(href)
            if parts.scheme or parts.netloc or not parts.path.startswith("/"):
                continue
            if href in queued or SKIP.search(href):
                continue
            pattern = _pattern(parts.path)
            if pattern is None:
                continue
            key = pattern + ("?" if parts.query else "")
            if seen_per_pattern.get(key, 0) >= PER_PATTERN:
                continue
            seen_per_pattern[key] = seen_per_pattern.get(key, 0) + 1
            queued.add(href)
            queue.append(href)
    return found


@pytest.fixture
def some_of_everything(org):
    """A fever (a declaration and its card), a placement with a test, a trip, an audit row."""
    admin = org.user(Role.GROUP_ADMIN, org.group)
    health.declarations_submit(
        actor=admin, items=[raw_declaration(org.person_a, temperature="38.6")]
    )
    site, rooms = make_site(org.ent_a)
    placement = placement_start(
        actor=admin,
        person=org.person_b,
        mode=Mode.CENTRALISED,
        level="high",
        site=site,
        room=rooms["101"],
    )
    placement_test(actor=admin, placement=placement, result="negative")
    trip(org.person_a, "420102", 5, 3)
    person_update(actor=admin, person=org.person_a, name="张伟伟")
    ensure_schedules()  # the jobs page lists them


@pytest.mark.parametrize(("role", "unit"), ROLES, ids=[role for role, _u in ROLES])
def test_every_page_a_role_reaches_reads_in_chinese(client, org, some_of_everything, role, unit):
    client.force_login(org.user(role, getattr(org, unit)))
    found = crawl(client)
    assert not found, "\n".join(f"{url}: {sorted(words)}" for url, words in found.items())


def test_the_check_finds_english():
    assert english_words("<b>负责人</b> Return from 2026-01-01") == {"Return", "from"}
    assert not english_words("fangkong API Excel SDLY-P1 36.5°C 12 km WeCom")


def test_the_card_deadline_filter_says_not_overdue_not_on_time(client, org, login_as):
    # "On time" is a daily report's word (按时上报); a card that is not late is 未逾期.
    login_as(Role.GROUP_ADMIN, org.group)
    page = client.get("/ledger/abnormal/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Not overdue" in page and "On time" not in page


def test_the_audit_log_reads_as_fields_and_values_in_local_time(client, org, login_as):
    admin = login_as(Role.GROUP_ADMIN, org.group)
    person_update(actor=admin, person=org.person_a, name="张伟伟", is_party_member=True)
    page = client.get("/accounts/audit/", {"object_type": "orgs.person"}).content.decode()
    assert "orgs.person #" not in page and "{&#x27;" not in page  # no type path, no dict
    assert f'<a href="/people/{org.person_a.pk}/">人员 张伟' in page  # verbose name, linked
    assert "张伟" in page and "→ 张伟伟" in page and "→ 是" in page
    assert "zww" not in page  # the pinyin search key is not shown
    row = AuditLog.objects.filter(object_type="orgs.person", action="update").get()
    row.after = {**row.after, "planned_end": "2026-01-01T16:30:00+00:00"}
    row.save()
    page = client.get("/accounts/audit/", {"object_type": "orgs.person"}).content.decode()
    assert "2026-01-02 00:30:00" in page  # UTC shown as Asia/Shanghai


def test_a_test_result_reads_in_the_readers_language_whatever_the_writers(client, org, login_as):
    from django.utils import translation

    admin = login_as(Role.GROUP_ADMIN, org.group)
    site, rooms = make_site(org.ent_a)
    placement = placement_start(
        actor=admin,
        person=org.person_a,
        mode=Mode.CENTRALISED,
        level="high",
        site=site,
        room=rooms["101"],
    )
    with translation.override("en"):  # written by someone reading English
        entry = placement_test(actor=admin, placement=placement, result="negative", note="ok")
    for url in (f"/quarantine/{placement.pk}/", f"/ledger/item/{entry.item_id}/"):
        page = client.get(url).content.decode()
        assert "核酸检测" in page and "阴性 — ok" in page, url
        assert "Negative" not in page and "Nucleic" not in page, url


def test_a_risk_area_notice_keeps_its_full_width_colon(org):
    from fangkong.core.models import Division
    from fangkong.travel.services import AreaChange, risk_areas_apply

    change = risk_areas_apply(
        actor=None,
        changes=[AreaChange(Division.objects.get(code="420102"), "high", days_ago(0))],
        notice="  国务院联防联控机制：  第 12 号通知 ",
    )
    assert change.batch is not None
    assert change.batch.notice == "国务院联防联控机制： 第 12 号通知"


def test_the_audit_log_names_a_ledger_items_kind_and_state(client, org, login_as):
    login_as(Role.GROUP_ADMIN, org.group)
    admin = org.user(Role.GROUP_ADMIN, org.group)
    health.declarations_submit(
        actor=admin, items=[raw_declaration(org.person_a, temperature="38.6")]
    )
    page = client.get("/accounts/audit/", {"object_type": "ledger.item"}).content.decode()
    assert "类型：异常情况跟踪卡" in page and "：abnormal" not in page and "：open" not in page
    assert "abnormal #" not in page and "异常情况跟踪卡 #" in page


def test_the_audit_log_names_items_opened_together_in_the_readers_language(client, org, login_as):
    admin = login_as(Role.GROUP_ADMIN, org.group)
    declared = [raw_declaration(p, temperature="38.6") for p in (org.person_a, org.person_b)]
    health.declarations_submit(actor=admin, items=declared)
    AuditLog.objects.filter(object_type="ledger.item").update(
        object_repr="abnormal: 2 item(s) opened", after={"kind": "abnormal", "ids": [1, 2]}
    )
    page = client.get(
        "/accounts/audit/", {"object_type": "ledger.item"}, HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()
    assert "Abnormal-person card: 2 items opened" in page and "item(s)" not in page


def test_the_audit_log_says_what_an_export_and_a_list_of_full_numbers_were(client, org, login_as):
    login_as(Role.GROUP_ADMIN, org.group)
    assert client.get("/accounts/audit/", {"format": "csv"}).status_code == 200
    admin = org.user(Role.GROUP_ADMIN, org.group)
    AuditLog.objects.create(
        actor=admin,
        action=AuditLog.Action.VIEW_SENSITIVE,
        object_type="orgs.person",
        object_repr="list (2)",
        scope_path=org.group.path,
        after={"ids": [org.person_a.pk, org.person_b.pk]},
    )
    page = client.get("/accounts/audit/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "A list of 2 people" in page and "list (2)" not in page
    assert "audit log export" not in page and "Full numbers shown" in page


@pytest.mark.django_db
def test_the_language_menu_names_each_language_in_its_own_words(client):
    # A reader of either language finds their own by its name: "English" (was "英语" on
    # the Chinese pages) and 简体中文.
    chinese = client.get("/accounts/login/").content.decode()
    assert '<option value="en">English</option>' in chinese
    assert '<option value="zh-hans" selected>简体中文</option>' in chinese
    english = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<option value="zh-hans">简体中文</option>' in english
    assert '<option value="en" selected>English</option>' in english
