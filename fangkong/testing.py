"""The project's test base: a small org tree with people in it, and users per role."""

import datetime as dt
import itertools
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from fangkong.accounts.models import RoleAssignment, User
from fangkong.core.calendar import LOCAL_TZ
from fangkong.orgs.models import OrgUnit, Person, UnitKind
from fangkong.orgs.services import person_create, unit_create
from fangkong.orgs.validators import resident_id_check_char

_serial = itertools.count(1)
PASSWORD = "pw-Test-123"  # every ``OrgFixture.user``
# Browser tests drive Debian's Chromium (never a downloaded one) through Playwright.
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE = {"width": 390, "height": 844}  # a common phone's viewport


def valid_resident_id(
    seed: int | None = None, *, region: str = "370303", birth: str = "19850312"
) -> str:
    """Return a resident ID number with a correct GB 11643 check digit."""
    n = next(_serial) if seed is None else seed
    first17 = f"{region}{birth}{n % 1000:03d}"
    return first17 + resident_id_check_char(first17)


def make_id_pool(count: int, *, region: str = "370303") -> list[str]:
    """Return ``count`` distinct valid resident IDs."""
    ids = []
    for i in range(count):
        year = 1960 + i // 365000 % 40
        day = i // 1000 % 365
        first17 = f"{region}{year}{1 + day // 28:02d}{1 + day % 28:02d}{i % 1000:03d}"
        ids.append(first17 + resident_id_check_char(first17))
    return ids


@dataclass
class OrgFixture:
    """Group G with enterprises A and B; A has a plant and a workshop; a community."""

    group: OrgUnit
    ent_a: OrgUnit
    plant_a: OrgUnit
    shop_a: OrgUnit
    ent_b: OrgUnit
    plant_b: OrgUnit
    community: OrgUnit
    household: OrgUnit
    person_a: Person
    person_b: Person
    users: dict[tuple[str, int], User] = field(default_factory=dict)

    def user(self, role: str, unit: OrgUnit) -> User:
        key = (role, unit.pk)
        if key not in self.users:
            user = User.objects.create_user(
                username=f"{role}-{unit.code}".lower(), password=PASSWORD
            )
            RoleAssignment.objects.create(user=user, role=role, unit=unit)
            self.users[key] = user
        return self.users[key]


def build_org() -> OrgFixture:
    unit: Any = unit_create
    group = unit(
        actor=None, code="G", name="中国铝业集团有限公司", kind=UnitKind.GROUP, parent=None
    )
    ent_a = unit(
        actor=None, code="A", name="山东铝业有限公司", kind=UnitKind.ENTERPRISE, parent=group
    )
    plant_a = unit(actor=None, code="A1", name="电解铝厂", kind=UnitKind.PLANT, parent=ent_a)
    shop_a = unit(actor=None, code="A1W1", name="一车间", kind=UnitKind.WORKSHOP, parent=plant_a)
    ent_b = unit(
        actor=None, code="B", name="山西铝业有限公司", kind=UnitKind.ENTERPRISE, parent=group
    )
    plant_b = unit(actor=None, code="B1", name="氧化铝厂", kind=UnitKind.PLANT, parent=ent_b)
    community = unit(actor=None, code="C", name="翠溪北区", kind=UnitKind.COMMUNITY, parent=ent_b)
    household = unit(
        actor=None, code="CH1", name="1单元101室", kind=UnitKind.HOUSEHOLD, parent=community
    )
    person_a = person_create(
        actor=None, unit=shop_a, name="张伟", id_number=valid_resident_id(1), phone="13800138001"
    )
    person_b = person_create(
        actor=None, unit=plant_b, name="李娜", id_number=valid_resident_id(2), phone="13900139002"
    )
    return OrgFixture(
        group, ent_a, plant_a, shop_a, ent_b, plant_b, community, household, person_a, person_b
    )


@contextmanager
def script_page(*scripts: str) -> Iterator[str]:
    """Serve a blank page loading the static ``scripts`` (``"js/passverify.js"``); yield its URL.

    For a script that needs no server of ours (the pass verifier): a thread on 127.0.0.1,
    which the browser counts as a secure context (WebCrypto), serves the page and the files
    Django's static finders name, and nothing else, so a test needs no database. The page is
    cross-origin isolated, which gives ``performance.now()`` its fine resolution.
    """
    from django.contrib.staticfiles import finders

    files = {f"/static/{name}": Path(str(finders.find(name))).read_bytes() for name in scripts}
    tags = "".join(f'<script src="/static/{name}"></script>' for name in scripts)
    files["/"] = f"<!doctype html><meta charset=utf-8><title>fangkong</title>{tags}".encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = files.get(self.path)
            self.send_response(200 if body is not None else 404)
            kind = "text/html" if self.path == "/" else "text/javascript"
            self.send_header("Content-Type", f"{kind}; charset=utf-8")
            self.send_header("Cross-Origin-Opener-Policy", "same-origin")
            self.send_header("Cross-Origin-Embedder-Policy", "require-corp")
            self.send_header("Content-Length", str(len(body or b"")))
            self.end_headers()
            self.wfile.write(body or b"")

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/"
    finally:
        server.shutdown()
        server.server_close()


def at(day: str, hhmm: str = "09:00") -> dt.datetime:
    """An aware instant in Asia/Shanghai: ``at("2026-09-30", "10:00")``."""
    return dt.datetime.fromisoformat(f"{day}T{hhmm}:00").replace(tzinfo=LOCAL_TZ)


@contextmanager
def travel(day: str, hhmm: str = "09:00") -> Iterator[dt.datetime]:
    """Stand still at a fixed local instant: the suite also runs with its clock moved to
    awkward instants (FANGKONG_TEST_NOW), so a test with a schedule pins its own."""
    import time_machine

    instant = at(day, hhmm)
    with time_machine.travel(instant, tick=False):
        yield instant


def until_true(page: Any, expression: str, *, seconds: float = 10) -> None:
    """Wait until ``expression``, which may give a promise, is truthy in ``page``.

    Playwright's ``wait_for_function`` does not wait for a promise: a pending one is
    already truthy. ``evaluate`` waits for it, so it is polled here instead.
    """
    for _ in range(int(seconds * 10)):
        if page.evaluate(expression):
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"never true in {seconds} s: {expression}")


def read_qr_codes(image: Any) -> list[str]:
    """The texts of the QR codes in ``image`` (PNG bytes, a path, a file or a PIL image).

    Only QR codes are looked for, as a pass or badge scanner does: with every format
    allowed the decoder now and then also "finds" a short 1D barcode in a QR code's
    modules (a pass's text changes with the clock, so the tests failed some hours only).
    """
    import io

    import zxingcpp
    from PIL import Image

    if isinstance(image, bytes):
        image = io.BytesIO(image)
    if not isinstance(image, Image.Image):
        image = Image.open(image)
    only_qr = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)
    results = zxingcpp.read_barcodes(image, formats=only_qr)
    return [result.text for result in results]
