from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0004_calendar"),
    ]

    operations = [
        migrations.CreateModel(
            name="ThrottleBucket",
            fields=[
                ("key", models.CharField(max_length=80, primary_key=True, serialize=False)),
                ("hits", models.PositiveIntegerField(default=0)),
                ("expires", models.BigIntegerField(db_index=True)),
            ],
        ),
    ]
