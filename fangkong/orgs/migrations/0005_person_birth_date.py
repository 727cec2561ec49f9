import datetime as dt

from django.db import migrations, models

BATCH = 2000


def birth_dates_from_resident_ids(apps, schema_editor):
    """Fill the new column for everyone registered with a resident ID (digits 7-14)."""
    Person = apps.get_model("orgs", "Person")
    people = Person.objects.filter(id_type="resident_id", birth_date__isnull=True).only(
        "id", "id_number"
    )
    batch = []
    for person in people.iterator(chunk_size=BATCH):
        number = person.id_number
        try:
            person.birth_date = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
        except (ValueError, IndexError):
            continue
        batch.append(person)
        if len(batch) == BATCH:
            Person.objects.bulk_update(batch, ["birth_date"])
            batch = []
    Person.objects.bulk_update(batch, ["birth_date"])


class Migration(migrations.Migration):
    dependencies = [
        ("orgs", "0004_import_header_row_ignored_columns"),
    ]

    operations = [
        migrations.AddField(
            model_name="person",
            name="birth_date",
            field=models.DateField(blank=True, null=True, verbose_name="date of birth"),
        ),
        migrations.RunPython(birth_dates_from_resident_ids, migrations.RunPython.noop),
    ]
