"""The quarantine notice PDF carries real Chinese text (the name can be extracted again)."""

import datetime as dt
import io

import pytest
from pypdf import PdfReader

from fangkong.core.models import AuditLog

from .. import services
from ..models import Mode
from .factories import make_site

pytestmark = pytest.mark.django_db


def pdf_text(data: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


@pytest.fixture
def placement(org):
    _site, rooms = make_site(org.ent_a)
    return services.placement_start(
        actor=None,
        person=org.person_a,
        mode=Mode.CENTRALISED,
        level="high",
        start=dt.date(2020, 2, 1),
        site=rooms["101"].site,
        room=rooms["101"],
    )


def test_notice_pdf_has_the_chinese_name_site_and_a_masked_number(client, org, placement, login_as):
    login_as("tracker")
    response = client.get(f"/quarantine/{placement.pk}/notice.pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    text = pdf_text(response.content)
    assert "张伟" in text
    assert "铝城宾馆集中隔离观察点" in text
    assert org.person_a.id_number not in text
    assert org.person_a.id_number[:4] + "*" in text
    assert "2020年2月15日" in text  # planned release: 14 days after the start


def test_full_number_only_for_who_may_see_it_and_audited(client, org, placement, login_as):
    login_as("reporter")  # sees health data, not full numbers
    assert client.get(f"/quarantine/{placement.pk}/notice.pdf?full_id=1").status_code == 403
    login_as("tracker")
    response = client.get(f"/quarantine/{placement.pk}/notice.pdf?full_id=1")
    assert org.person_a.id_number in pdf_text(response.content)
    assert AuditLog.objects.filter(action=AuditLog.Action.VIEW_SENSITIVE).exists()


def test_notice_outside_the_scope_is_not_found(client, org, placement, login_as):
    login_as("unit_admin", org.ent_b)
    assert client.get(f"/quarantine/{placement.pk}/notice.pdf").status_code == 404
