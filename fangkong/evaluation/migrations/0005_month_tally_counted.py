"""Count the months of the cases and ratings already stored (a database made before the
tallies existed)."""

from django.db import migrations


def forwards(apps, schema_editor):
    from fangkong.evaluation.tally import rebuild

    rebuild()


class Migration(migrations.Migration):
    dependencies = [("evaluation", "0004_month_tally")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
