import datetime as dt

from django.db import migrations

# Enterprises, their plants / branches and residential communities report every day: the
# levels at which the source documents' daily report ran. Editable in the admin.
DEFAULT_KINDS = ["enterprise", "plant", "community"]


def create_default_plan(apps, schema_editor):
    plan_model = apps.get_model("reports", "ReportPlan")
    if not plan_model.objects.exists():
        plan_model.objects.create(
            name="每日报告（企业、厂矿、社区）",
            unit_kinds=DEFAULT_KINDS,
            depths=[],
            valid_from=dt.date(2020, 1, 1),
            deadline=dt.time(10, 0),
            grace_minutes=120,
        )


class Migration(migrations.Migration):
    dependencies = [("reports", "0001_initial")]

    operations = [migrations.RunPython(create_default_plan, migrations.RunPython.noop)]
