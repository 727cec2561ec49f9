"""Three indexes fewer on declarations: each one is written by every declaration.

A person's rows are found through (person, day); a division's and a proxy's only when one
is deleted, and a proxy is set on few rows (a partial index keeps those). The indexes are
dropped by name rather than by altering the fields: on SQLite an altered field copies the
whole table, here three times.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

# The indexes Django created for the three keys (same names on both databases; PostgreSQL
# also has a pattern index for the division's text key).
DROPPED = {
    "health_declaration_person_id_99ec9d36": '("person_id")',
    "health_declaration_division_id_ae3bc92e": '("division_id")',
    "health_declaration_division_id_ae3bc92e_like": '("division_id" varchar_pattern_ops)',
    "health_declaration_proxy_id_c6fd34ab": '("proxy_id")',
}


def _drop(apps, schema_editor):
    for name in DROPPED:
        schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')


def _recreate(apps, schema_editor):
    postgresql = schema_editor.connection.vendor == "postgresql"
    for name, columns in DROPPED.items():
        if name.endswith("_like") and not postgresql:
            continue
        schema_editor.execute(f'CREATE INDEX "{name}" ON "health_declaration" {columns}')


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0006_audit_scope"),
        ("health", "0007_subtree_tally"),
        ("orgs", "0007_rollup_covering_indexes"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="declaration",
                    name="division",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        to="core.division",
                        verbose_name="current location",
                    ),
                ),
                migrations.AlterField(
                    model_name="declaration",
                    name="person",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="declarations",
                        to="orgs.person",
                        verbose_name="person",
                    ),
                ),
                migrations.AlterField(
                    model_name="declaration",
                    name="proxy",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="filed on behalf by",
                    ),
                ),
            ],
            database_operations=[migrations.RunPython(_drop, _recreate)],
        ),
        migrations.AddIndex(
            model_name="declaration",
            index=models.Index(
                condition=models.Q(("proxy__isnull", False)),
                fields=["proxy"],
                name="declaration_proxy",
            ),
        ),
    ]
