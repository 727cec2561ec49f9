"""The quarantine notice (隔离告知书) handed to the person, as a PDF.

WeasyPrint lays out an HTML template with Pango; the Chinese text is drawn with the Noto
CJK fonts found through fontconfig and embedded as a subset with a ToUnicode map, so the
text can be searched and copied out of the PDF. The notice is always written in Chinese:
it is an official paper for the person, whatever language the clerk's screen uses.
"""

import datetime as dt
from typing import Any

from django.template.loader import render_to_string
from django.utils import timezone, translation

from fangkong.core.paths import ancestor_paths
from fangkong.health.models import OutbreakProfile
from fangkong.orgs.models import OrgUnit, UnitKind
from fangkong.orgs.selectors import mask_id_number

from .models import Mode, Placement

NOTICE_LANGUAGE = "zh-hans"
# The unit that issues a home-quarantine notice: the person's nearest unit of these kinds.
ISSUING_KINDS = (UnitKind.ENTERPRISE, UnitKind.COMMUNITY, UnitKind.GROUP)


def issuing_unit(placement: Placement) -> OrgUnit:
    """Return the site's unit, or for home quarantine the person's enterprise or community."""
    if placement.mode == Mode.CENTRALISED and placement.site is not None:
        return placement.site.unit
    person_unit = placement.person.unit
    ancestors = OrgUnit.objects.filter(
        path__in=ancestor_paths(person_unit.path), kind__in=ISSUING_KINDS
    ).order_by("-depth")
    return ancestors.first() or person_unit


def notice_context(
    placement: Placement, *, full_id: bool = False, today: dt.date | None = None
) -> dict[str, Any]:
    person = placement.person
    return {
        "placement": placement,
        "person": person,
        "id_number": person.id_number if full_id else mask_id_number(person.id_number),
        "disease": OutbreakProfile.current().disease_name,
        "issuer": issuing_unit(placement),
        "issued_on": today or timezone.localdate(),
        "centralised": placement.mode == Mode.CENTRALISED,
    }


def notice_pdf(placement: Placement, *, full_id: bool = False) -> bytes:
    """Return the person's quarantine notice as PDF bytes (document number masked by default)."""
    from weasyprint import HTML  # imported here: loading Pango takes a moment

    with translation.override(NOTICE_LANGUAGE):
        html = render_to_string(
            "quarantine/notice.html", notice_context(placement, full_id=full_id)
        )
    return bytes(HTML(string=html).write_pdf())
