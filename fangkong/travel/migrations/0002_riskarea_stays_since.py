"""Risk areas say from which day stays count ("applies to stays since").

Existing rows keep their behaviour: stays counted from the day the level took effect.
"""

from django.db import migrations, models


def stays_since_effective_from(apps, schema_editor):
    RiskArea = apps.get_model("travel", "RiskArea")
    RiskArea.objects.update(stays_since=models.F("effective_from"))


class Migration(migrations.Migration):
    dependencies = [("travel", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="riskarea",
            name="stays_since",
            field=models.DateField(null=True, verbose_name="applies to stays since"),
        ),
        migrations.RunPython(stays_since_effective_from, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="riskarea",
            name="stays_since",
            field=models.DateField(
                help_text="Stays in the region from this day on count at this level.",
                verbose_name="applies to stays since",
            ),
        ),
        migrations.AddConstraint(
            model_name="riskarea",
            constraint=models.CheckConstraint(
                condition=models.Q(("stays_since__lte", models.F("effective_from"))),
                name="risk_area_stays_before_effect",
            ),
        ),
    ]
