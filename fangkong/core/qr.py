"""QR codes of links (declaration, visitor, rating and badge links), as inline SVG data URIs
(no files to serve)."""

import segno


def qr_data_uri(text: str, *, scale: int = 4) -> str:
    """Return an SVG data URI of the QR code for ``text``, readable by any phone camera."""
    return str(segno.make(text, error="m").svg_data_uri(scale=scale, border=2))
