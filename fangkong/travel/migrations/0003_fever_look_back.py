"""The fever question covers the outbreak profile's look-back window, not a fixed 14 days."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("travel", "0002_riskarea_stays_since"),
    ]

    operations = [
        migrations.AlterField(
            model_name="returneecard",
            name="fever",
            field=models.BooleanField(
                blank=True, null=True, verbose_name="fever in the look-back window"
            ),
        ),
    ]
