"""/api/v1/rectification/bulletins: the weekly bulletin's list, generation, paragraph,
sign-off, sending and downloads (mounted on the rectification router)."""

import datetime as dt
from typing import Any

from django.http import FileResponse, HttpRequest
from ninja import Router, Schema, Status
from ninja.pagination import paginate

from fangkong.accounts.roles import Perm
from fangkong.core.errors import NotFound
from fangkong.core.pagination import MappedQuerySet
from fangkong.core.schema import Day, ObjectId, Pages
from fangkong.orgs.selectors import unit_get

from . import bulletin as bulletins
from .models import Bulletin

router = Router(tags=["rectification"])


class BulletinOut(Schema):
    id: int
    unit_id: int
    unit_name: str
    week_start: dt.date
    version: int
    status: str
    preface: str
    generated_at: dt.datetime
    signed_at: dt.datetime | None
    sent_at: dt.datetime | None
    figures: dict[str, Any]
    pdf_url: str
    xlsx_url: str


class BulletinIn(Schema):
    unit_id: ObjectId
    week_start: Day


class BulletinPrefaceIn(Schema):
    preface: str


def bulletin_out(bulletin: Bulletin) -> dict[str, Any]:
    return {
        "id": bulletin.pk,
        "unit_id": bulletin.unit_id,
        "unit_name": bulletin.unit.name,
        "week_start": bulletin.week_start,
        "version": bulletin.version,
        "status": bulletin.status,
        "preface": bulletin.preface,
        "generated_at": bulletin.generated_at,
        "signed_at": bulletin.signed_at,
        "sent_at": bulletin.sent_at,
        "figures": bulletin.figures,
        "pdf_url": f"/api/v1/rectification/bulletins/{bulletin.pk}/pdf",
        "xlsx_url": f"/api/v1/rectification/bulletins/{bulletin.pk}/xlsx",
    }


@router.get("/rectification/bulletins", response=list[BulletinOut])
@paginate(Pages, page_size=50)
def list_bulletins(request: HttpRequest, unit_id: ObjectId | None = None) -> Any:
    """Weekly bulletins in scope, newest week first (every version)."""
    rows = bulletins.bulletins_visible(request.user)
    if unit_id is not None:
        rows = rows.filter(unit=unit_get(request.user, unit_id, Perm.VIEW_PROBLEMS))
    return MappedQuerySet(rows, bulletin_out)


@router.get("/rectification/bulletins/{bulletin_id}", response=BulletinOut)
def get_bulletin(request: HttpRequest, bulletin_id: ObjectId) -> Any:
    return bulletin_out(bulletins.bulletin_get(request.user, bulletin_id))


@router.post("/rectification/bulletins", response={201: BulletinOut})
def generate_bulletin(request: HttpRequest, payload: BulletinIn) -> Any:
    """Generate the next version of a unit's bulletin for the week from ``week_start``."""
    unit = unit_get(request.user, payload.unit_id, Perm.VIEW_PROBLEMS)
    made = bulletins.bulletin_generate(actor=request.user, unit=unit, week_start=payload.week_start)
    return Status(201, bulletin_out(made))


@router.patch("/rectification/bulletins/{bulletin_id}", response=BulletinOut)
def set_bulletin_preface(
    request: HttpRequest, bulletin_id: ObjectId, payload: BulletinPrefaceIn
) -> Any:
    """Write the office's paragraph on a draft (its files are drawn again)."""
    bulletin = bulletins.bulletin_get(request.user, bulletin_id)
    return bulletin_out(
        bulletins.bulletin_preface_set(
            actor=request.user, bulletin=bulletin, preface=payload.preface
        )
    )


@router.post("/rectification/bulletins/{bulletin_id}/sign", response=BulletinOut)
def sign_bulletin(request: HttpRequest, bulletin_id: ObjectId) -> Any:
    bulletin = bulletins.bulletin_get(request.user, bulletin_id)
    return bulletin_out(bulletins.bulletin_sign_off(actor=request.user, bulletin=bulletin))


@router.post("/rectification/bulletins/{bulletin_id}/send", response=BulletinOut)
def send_bulletin(request: HttpRequest, bulletin_id: ObjectId) -> Any:
    """Send a signed-off bulletin to the heads of the units it names."""
    bulletin = bulletins.bulletin_get(request.user, bulletin_id)
    bulletins.bulletin_send(actor=request.user, bulletin=bulletin)
    return bulletin_out(bulletins.bulletin_get(request.user, bulletin_id))


@router.get("/rectification/bulletins/{bulletin_id}/{file_format}")
def download_bulletin(request: HttpRequest, bulletin_id: ObjectId, file_format: str) -> Any:
    """The stored PDF or Excel workbook (``pdf`` or ``xlsx``); each download is audited."""
    bulletin = bulletins.bulletin_get(request.user, bulletin_id)
    stored = {"pdf": bulletin.pdf, "xlsx": bulletin.xlsx}.get(file_format)
    if not stored:
        raise NotFound()
    bulletins.bulletin_download_audit(request.user, bulletin, file_format)
    return FileResponse(
        stored.open("rb"),
        as_attachment=file_format == "xlsx",
        filename=f"{bulletins.file_stem(bulletin)}.{file_format}",
    )
