"""The printed pass (a card, as PDF) for people without a phone.

Always in Chinese, like the quarantine notice: it is a paper for the holder and the
guard, whatever language the clerk's screen uses. It carries no device key, so it relies
on revocation, and it says "printed" in the pass, so a checkpoint may refuse it.
"""

from django.template.loader import render_to_string
from django.utils import timezone, translation

from . import format as fmt
from . import services
from .models import Pass

CARD_LANGUAGE = "zh-hans"


def card_html(row: Pass) -> str:
    text = services.pass_text(row)
    with translation.override(CARD_LANGUAGE):
        return render_to_string(
            "passes/card.html",
            {
                "row": row,
                "qr": fmt.qr(text).svg_data_uri(scale=4, border=4),
                "valid_from": timezone.localtime(row.valid_from),
                "valid_until": timezone.localtime(row.valid_until),
            },
        )


def card_pdf(row: Pass) -> bytes:
    from weasyprint import HTML  # imported here: loading Pango takes a moment

    return bytes(HTML(string=card_html(row)).write_pdf())
