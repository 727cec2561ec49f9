"""Gender and date of birth agree with a resident ID (GB 11643), or are read from it.

A resident ID carries the date of birth in digits 7-14 and the gender in digit 17 (odd for
men). 男 typed for a woman's number is refused wherever a person is written: the service,
the page, the import and the API.
"""

import datetime as dt
import io

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation

from fangkong.core.errors import InvalidInput
from fangkong.orgs import importing, services
from fangkong.orgs.models import Person
from fangkong.orgs.validators import identity_from_document
from fangkong.testing import valid_resident_id

pytestmark = pytest.mark.django_db

WOMAN = valid_resident_id(4, birth="19900215")  # 17th digit 4: even
MAN = valid_resident_id(7, birth="19781103")  # 17th digit 7: odd


def test_gender_and_birth_date_are_read_from_a_resident_id_left_empty(org):
    person = services.person_create(actor=None, unit=org.shop_a, name="王芳", id_number=WOMAN)

    assert person.gender == "female"
    assert person.birth_date == dt.date(1990, 2, 15)


def test_a_gender_or_birth_date_the_resident_id_contradicts_is_refused(org):
    with pytest.raises(InvalidInput) as error:
        services.person_create(
            actor=None,
            unit=org.shop_a,
            name="王芳",
            id_number=WOMAN,
            gender="male",
            birth_date=dt.date(1990, 2, 16),
        )

    assert set(error.value.detail) == {"gender", "birth_date"}
    assert "1990-02-15" in error.value.detail["birth_date"][0]
    assert not Person.objects.filter(id_number=WOMAN).exists()


def test_matching_values_and_other_documents_are_kept_as_given(org):
    man = services.person_create(
        actor=None,
        unit=org.shop_a,
        name="刘洋",
        id_number=MAN,
        gender="male",
        birth_date=dt.date(1978, 11, 3),
    )
    visitor = services.person_create(
        actor=None,
        unit=org.shop_a,
        name="Anna",
        id_type="passport",
        id_number="E12345678",
        gender="female",
        birth_date=dt.date(1990, 1, 1),
    )

    assert (man.gender, man.birth_date) == ("male", dt.date(1978, 11, 3))
    assert (visitor.gender, visitor.birth_date) == ("female", dt.date(1990, 1, 1))


def test_a_new_number_brings_its_own_gender_and_birth_date(org):
    person = services.person_create(actor=None, unit=org.shop_a, name="王芳", id_number=WOMAN)

    services.person_update(actor=None, person=person, id_number=MAN)

    assert (person.gender, person.birth_date) == ("male", dt.date(1978, 11, 3))


def test_a_record_from_before_the_check_can_still_change_its_phone(org):
    """Old rows may disagree with their number; a phone change must not be refused for it."""
    Person.objects.filter(pk=org.person_b.pk).update(gender="male", birth_date=None)
    person = Person.objects.get(pk=org.person_b.pk)  # valid_resident_id(2): a woman's

    services.person_update(actor=None, person=person, phone="13900000009")

    person.refresh_from_db()
    assert person.phone == "13900000009"
    assert person.gender == "male"  # kept: correcting it is a deliberate edit
    assert person.birth_date == dt.date(1985, 3, 12)  # the empty one is filled in


def test_the_register_form_refuses_a_gender_the_number_contradicts(client, org, login_as):
    login_as("unit_admin")
    url = reverse("orgs:unit_action", args=[org.shop_a.pk, "add-person"])
    form = {"name": "王芳", "id_type": "resident_id", "id_number": WOMAN, "category": "employee"}

    refused = client.post(url, {**form, "gender": "male"}, follow=True)

    assert not Person.objects.filter(id_number=WOMAN).exists()
    with translation.override("zh-hans"):
        message = translation.gettext(
            "The gender does not match the resident ID, which says %(gender)s."
        ) % {"gender": translation.gettext("Female")}
    assert message in refused.content.decode()

    client.post(url, {**form, "gender": ""})

    person = Person.objects.get(id_number=WOMAN)
    assert (person.gender, person.birth_date) == ("female", dt.date(1990, 2, 15))


def test_the_api_refuses_a_mismatch_and_returns_the_birth_date(client, org, login_as):
    login_as("unit_admin")
    body = {"name": "王芳", "id_number": WOMAN, "unit_id": org.shop_a.pk}

    refused = client.post(
        "/api/v1/people",
        {**body, "gender": "male"},
        content_type="application/json",
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    created = client.post("/api/v1/people", body, content_type="application/json")

    assert refused.status_code == 422
    assert set(refused.json()["detail"]) == {"gender"}
    with translation.override("zh-hans"):
        said = translation.gettext("Female")
    assert said in refused.json()["detail"]["gender"][0]  # says what the number carries
    assert created.status_code == 201
    assert created.json()["gender"] == "female"
    assert created.json()["birth_date"] == "1990-02-15"


def test_a_reporter_sees_no_birth_date_beside_a_masked_number(client, org, login_as):
    login_as("reporter")
    item = client.get(f"/api/v1/people/{org.person_a.pk}").json()
    assert item["masked"] is True
    assert item["birth_date"] is None


def _upload(rows: list[dict[str, str]]) -> SimpleUploadedFile:
    headers = importing.template_headers("people")
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(headers)
    for values in rows:
        row = dict.fromkeys(headers, "")
        row.update(values)
        sheet.append([row[h] for h in headers])
    data = io.BytesIO()
    book.save(data)
    return SimpleUploadedFile("people.xlsx", data.getvalue())


def test_an_import_row_with_a_contradicting_gender_is_rejected_with_a_reason(
    org, django_capture_on_commit_callbacks
):
    rows = [
        {"姓名": "王芳", "性别": "男", "证件号码": WOMAN, "所属单位编码": "A1W1"},
        {"姓名": "陈静", "出生日期": "1978-11-04", "证件号码": MAN, "所属单位编码": "A1W1"},
        {"姓名": "刘洋", "性别": "", "证件号码": valid_resident_id(9), "所属单位编码": "A1W1"},
    ]
    with translation.override("zh-hans"), django_capture_on_commit_callbacks(execute=True):
        job = importing.import_job_create(
            actor=org.user("unit_admin", org.group),
            kind="people",
            scope_unit=org.group,
            upload=_upload(rows),
        )
    job.refresh_from_db()

    rejected = {(e["row"], e["column"]): e["message"] for e in job.errors}
    assert set(rejected) == {(2, "性别"), (3, "出生日期")}
    with translation.override("zh-hans"):
        female = str(translation.gettext("Female"))
    assert female in rejected[(2, "性别")]
    assert "1978-11-03" in rejected[(3, "出生日期")]
    assert (job.rows_total, job.rows_bad) == (3, 2)


def test_the_import_templates_sample_row_agrees_with_its_own_number():
    sheet = openpyxl.load_workbook(io.BytesIO(importing.template_workbook("people"))).active
    assert sheet is not None
    headers, sample = [[cell.value for cell in row] for row in sheet.iter_rows(max_row=2)]
    row = dict(zip(headers, sample, strict=True))
    gender = {"男": "male", "女": "female"}[row["性别"]]
    birth = dt.date.fromisoformat(row["出生日期"])

    assert identity_from_document("resident_id", row["证件号码"], gender, birth) == (gender, birth)


def test_the_people_list_heads_its_person_column_as_a_persons_name(client, org, login_as):
    login_as("unit_admin")
    with translation.override("zh-hans"):
        page = client.get(reverse("orgs:people"), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
        persons_name = translation.pgettext("person", "Name")
        units_name = translation.gettext("Name")  # 名称: a unit's name, not a person's

    first_header = page.split("<thead><tr><th>", 1)[1].split("</th>", 1)[0]
    assert first_header == persons_name != units_name
