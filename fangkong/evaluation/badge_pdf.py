"""Printable badges (工牌二维码): one badge, or a sheet of a whole centre's or station's badges
on A4, several per page. Each shows the name, the staff number, the window, the QR code of
the badge's signed link and one line of instruction, always in Chinese (a paper for the
counter, whatever language the clerk's screen uses).

The QR code is embedded as a PNG (a data URI) so WeasyPrint draws it as an image; the same
PNG is what ``badge_qr_png`` returns, which the tests decode back to the link.
"""

import base64
from collections.abc import Iterable
from typing import Any

from django.template.loader import render_to_string
from django.utils import translation

from fangkong.core.qr import qr_png

from .models import Badge
from .selectors import badge_path

BADGE_LANGUAGE = "zh-hans"
INSTRUCTION = "请扫码对我的服务进行评价"
STATION_INSTRUCTION = "请扫码对本站的服务进行评价"


def badge_url(badge: Badge, base: str) -> str:
    """The absolute address a badge's QR code carries; ``base`` is the site's origin."""
    return base.rstrip("/") + badge_path(badge)


def badge_qr_png(badge: Badge, base: str) -> bytes:
    return qr_png(badge_url(badge, base))


def _card(badge: Badge, base: str) -> dict[str, Any]:
    png = badge_qr_png(badge, base)
    staff, window = badge.staff, badge.window
    if staff is not None:
        title, instruction = staff.name, INSTRUCTION
    elif window is not None:
        title, instruction = f"{window.number}号窗口 {window.name}".strip(), INSTRUCTION
    else:
        title, instruction = badge.unit.name, STATION_INSTRUCTION
    return {
        "badge": badge,
        "title": title,
        "staff_number": staff.staff_number if staff else "",
        "window": str(window) if window else "",
        "unit": badge.unit.name,
        "qr": "data:image/png;base64," + base64.b64encode(png).decode(),
        "instruction": instruction,
        "account": badge.channel == "account",
    }


def badges_pdf(badges: Iterable[Badge], base: str, *, title: str = "") -> bytes:
    """The badges as a PDF: A4 pages of badge-sized cards (one card for a single badge)."""
    from weasyprint import HTML  # imported here: loading Pango takes a moment

    cards = [_card(badge, base) for badge in badges]
    with translation.override(BADGE_LANGUAGE):
        html = render_to_string("evaluation/badge_pdf.html", {"cards": cards, "title": title})
    return bytes(HTML(string=html).write_pdf())
