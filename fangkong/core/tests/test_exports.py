"""Exports carry no formulas (OWASP CSV injection): text that a spreadsheet would run is
quoted in .csv and .xlsx, .xlsx cells are strings, numbers stay numbers."""

import csv
import datetime as dt
import io
from decimal import Decimal

import openpyxl
import pytest
from django.urls import reverse

from fangkong.core.exports import csv_text, safe_cell, xlsx_bytes
from fangkong.core.models import AuditLog
from fangkong.orgs.models import Person
from fangkong.orgs.services import unit_create

HYPERLINK = '=HYPERLINK("http://evil.example","x")'
HOSTILE = [HYPERLINK, "+1+1", "-2+3", "@SUM(1,1)", "\t=1+1", "\r=1+1", "-张伟"]


def sheet_cells(content: bytes) -> list[list[openpyxl.cell.Cell]]:
    return [list(row) for row in openpyxl.load_workbook(io.BytesIO(content)).active.iter_rows()]


def csv_rows(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


@pytest.mark.parametrize("text", HOSTILE)
def test_text_that_would_start_a_formula_is_quoted(text):
    assert safe_cell(text) == "'" + text


@pytest.mark.parametrize(
    "value",
    [-1, -0.4, Decimal("-36.5"), 0, dt.date(2020, 2, 15), dt.datetime(2020, 2, 15, 9, 30)],
)
def test_numbers_and_dates_stay_typed(value):
    assert safe_cell(value) == value


def test_ordinary_text_is_unchanged_and_control_characters_are_dropped():
    assert safe_cell("张伟 138****8001") == "张伟 138****8001"
    assert safe_cell("2020-02-15") == "2020-02-15"
    assert safe_cell(None) == ""
    assert safe_cell("a\x00b\x1fc") == "abc"
    assert safe_cell("\x01=1+1") == "'=1+1"  # dropped first, then quoted


def test_xlsx_writes_strings_never_formulas_and_keeps_negative_numbers():
    rows = [[text, -0.4] for text in HOSTILE]
    cells = sheet_cells(xlsx_bytes(["Name", "Delta"], rows))
    assert all(cell.data_type != "f" for row in cells for cell in row)
    for text, (name, delta) in zip(HOSTILE, cells[1:], strict=True):
        # XML reads a carriage return back as a line feed.
        assert name.data_type == "s" and name.value == "'" + text.replace("\r", "\n")
        assert delta.data_type == "n" and delta.value == -0.4


def test_csv_quotes_every_hostile_cell():
    rows = csv_rows(csv_text(["Name", "Delta"], [[text, -0.4] for text in HOSTILE]).encode())
    assert [row[0] for row in rows[1:]] == ["'" + text for text in HOSTILE]
    assert {row[1] for row in rows[1:]} == {"-0.4"}


@pytest.fixture
def hostile_person(org):
    return Person.objects.create(
        name=HYPERLINK, unit=org.plant_a, unit_path=org.plant_a.path, phone="13800138009"
    )


@pytest.mark.django_db
def test_people_export_neutralises_a_formula_name_in_xlsx_and_csv(
    client, org, login_as, hostile_person
):
    login_as("reporter", org.ent_a)
    xlsx = client.get(reverse("orgs:people_export"), {"format": "xlsx"})
    cells = sheet_cells(xlsx.content)
    assert all(cell.data_type != "f" for row in cells for cell in row)
    names = {row[0].value for row in cells[1:]}
    assert "'" + HYPERLINK in names and HYPERLINK not in names
    text_rows = csv_rows(client.get(reverse("orgs:people_export"), {"format": "csv"}).content)
    hostile = next(row for row in text_rows if HYPERLINK in row[0])
    assert hostile[0] == "'" + HYPERLINK and hostile[4] == "138****8009"  # quoted and masked


@pytest.mark.django_db
def test_units_export_quotes_a_formula_name_and_keeps_head_counts_numeric(client, org, login_as):
    unit_create(actor=None, code="X9", name="@SUM(A1:A9)", kind="plant", parent=org.ent_a)
    login_as("viewer", org.group)
    cells = sheet_cells(client.get(reverse("orgs:units_export"), {"format": "xlsx"}).content)
    by_code = {row[0].value: row for row in cells[1:]}
    assert by_code["X9"][1].value == "'@SUM(A1:A9)" and by_code["X9"][1].data_type == "s"
    assert by_code["G"][-1].data_type == "n"


@pytest.mark.django_db
def test_the_audit_log_export_quotes_what_users_typed(client, org, login_as, hostile_person):
    AuditLog.objects.create(action="update", object_repr="-1+1", scope_path=org.plant_a.path)
    login_as("unit_admin", org.ent_a)
    text_rows = csv_rows(client.get(reverse("accounts:audit"), {"format": "csv"}).content)
    objects = {row[5] for row in text_rows[1:]}
    assert "'-1+1" in objects and "-1+1" not in objects
