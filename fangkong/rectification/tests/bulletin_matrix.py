"""The weekly bulletin's endpoints for the permission matrix (``api/tests``): a bulletin of
each side's enterprise, made afresh for every request (the case's savepoint drops it)."""

import datetime as dt
from typing import Any

from django.core.files.base import ContentFile

from fangkong.accounts.roles import Perm
from fangkong.rectification.bulletin import bulletin_figures
from fangkong.rectification.models import Bulletin

from .helpers import at

# A Monday long past at any instant the suite runs at.
WEEK = dt.date(2026, 1, 5)


def matrix_bulletin(side: Any, status: str = Bulletin.Status.DRAFT) -> Bulletin:
    """A bulletin of the side's enterprise, with small stand-in files (no rendering)."""
    now = at("2026-01-12", "07:00")
    bulletin = Bulletin(
        unit=side.enterprise,
        unit_path=side.enterprise.path,
        week_start=WEEK,
        version=(Bulletin.objects.filter(unit=side.enterprise).count() + 1),
        status=status,
        figures=bulletin_figures(side.enterprise, WEEK, now),
        generated_at=now,
    )
    bulletin.pdf.save("matrix.pdf", ContentFile(b"%PDF-1.7 matrix"), save=False)
    bulletin.xlsx.save("matrix.xlsx", ContentFile(b"PK matrix"), save=False)
    bulletin.save()
    return bulletin


ENDPOINTS = [
    (
        "bulletins list",
        Perm.VIEW_PROBLEMS,
        lambda s: ("get", f"/rectification/bulletins?unit_id={matrix_bulletin(s).unit_id}", None),
    ),
    (
        "bulletin get",
        Perm.VIEW_PROBLEMS,
        lambda s: ("get", f"/rectification/bulletins/{matrix_bulletin(s).pk}", None),
    ),
    (
        "bulletin generate",
        Perm.SUPERVISE,
        lambda s: (
            "post",
            "/rectification/bulletins",
            {"unit_id": s.enterprise.pk, "week_start": WEEK.isoformat()},
        ),
    ),
    (
        "bulletin paragraph",
        Perm.SUPERVISE,
        lambda s: (
            "patch",
            f"/rectification/bulletins/{matrix_bulletin(s).pk}",
            {"preface": "本周通报"},
        ),
    ),
    (
        "bulletin sign",
        Perm.SUPERVISE,
        lambda s: ("post", f"/rectification/bulletins/{matrix_bulletin(s).pk}/sign", {}),
    ),
    (
        "bulletin send",
        Perm.SUPERVISE,
        lambda s: (
            "post",
            f"/rectification/bulletins/{matrix_bulletin(s, Bulletin.Status.SIGNED).pk}/send",
            {},
        ),
    ),
    (
        "bulletin pdf",
        Perm.VIEW_PROBLEMS,
        lambda s: ("get", f"/rectification/bulletins/{matrix_bulletin(s).pk}/pdf", None),
    ),
    (
        "bulletin xlsx",
        Perm.VIEW_PROBLEMS,
        lambda s: ("get", f"/rectification/bulletins/{matrix_bulletin(s).pk}/xlsx", None),
    ),
]
