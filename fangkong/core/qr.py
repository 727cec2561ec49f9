"""QR codes of links (declaration, visitor, rating and badge links), as inline SVG data URIs
(no files to serve)."""

import io

import segno


def qr_data_uri(text: str, *, scale: int = 4) -> str:
    """Return an SVG data URI of the QR code for ``text``, readable by any phone camera."""
    return str(segno.make(text, error="m").svg_data_uri(scale=scale, border=2))


def qr_png(text: str, *, scale: int = 8) -> bytes:
    """Return the QR code for ``text`` as PNG bytes with a wide quiet zone (for print)."""
    buffer = io.BytesIO()
    segno.make(text, error="m").save(buffer, kind="png", scale=scale, border=4)
    return buffer.getvalue()
