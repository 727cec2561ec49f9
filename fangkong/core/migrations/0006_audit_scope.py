"""Audit rows about several subtrees, and the unit scope of past exports and views.

``scope_path`` becomes a path column (C collation on PostgreSQL, so subtree ranges hold).
Export and view rows written without a scope get one where it can be derived:

- a view of people: the units of the people seen;
- an export: the subtrees where its actor held, at the time, a role that allows it (an
  assignment that still exists and was made before the export was held then); for a
  superuser, every root unit.

Rows where nothing can be derived (an actor since deleted) stay visible to superusers only.
"""

import django.db.models.deletion
from django.db import migrations

import fangkong.core.paths
from fangkong.core.audit import common_ancestor, minimal_roots

# The roles that carried each permission when this migration was written (accounts.roles).
EXPORTERS = {"group_admin", "unit_admin", "reporter", "service_head", "supervisor", "viewer"}
ROLES_BY_OBJECT_TYPE = {
    "core.auditlog": {"group_admin", "unit_admin", "supervisor"},  # view_audit
    "notify.delivery": {"group_admin", "unit_admin"},  # manage_notify
}


def _people_paths(Person, entry):
    ids = [entry.object_id] if entry.object_id else (entry.after or {}).get("ids", [])
    ids = [int(i) for i in ids if str(i).isdigit()]
    return Person.objects.filter(pk__in=ids).values_list("unit_path", flat=True).distinct()


def _exporter_paths(apps, entry):
    actor = apps.get_model("accounts", "User").objects.filter(pk=entry.actor_id).first()
    if actor is None:
        return []
    if actor.is_superuser:
        units = apps.get_model("orgs", "OrgUnit").objects.filter(parent__isnull=True)
        return list(units.values_list("path", flat=True))
    roles = ROLES_BY_OBJECT_TYPE.get(entry.object_type, EXPORTERS)
    held = apps.get_model("accounts", "RoleAssignment").objects.filter(
        user_id=actor.pk, role__in=roles, created_at__lte=entry.at
    )
    return list(held.values_list("unit__path", flat=True))


def backfill_scopes(apps, schema_editor):
    AuditLog = apps.get_model("core", "AuditLog")
    AuditScope = apps.get_model("core", "AuditScope")
    Person = apps.get_model("orgs", "Person")
    unscoped = AuditLog.objects.filter(scope_path="", action__in=["export", "view_sensitive"])
    for entry in unscoped.iterator(chunk_size=500):
        if entry.action == "view_sensitive" and entry.object_type == "orgs.person":
            roots = minimal_roots(_people_paths(Person, entry))
        elif entry.action == "export":
            roots = minimal_roots(_exporter_paths(apps, entry))
        else:
            continue
        if not roots:
            continue
        AuditLog.objects.filter(pk=entry.pk).update(scope_path=common_ancestor(roots))
        if len(roots) > 1:
            AuditScope.objects.bulk_create(AuditScope(entry_id=entry.pk, path=p) for p in roots)


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0005_throttlebucket"),
        ("accounts", "0002_initial"),
        ("orgs", "0003_rollup_index"),
    ]

    operations = [
        migrations.AlterField(
            model_name="auditlog",
            name="scope_path",
            field=fangkong.core.paths.PathField(
                blank=True, db_index=True, max_length=255, verbose_name="scope path"
            ),
        ),
        migrations.CreateModel(
            name="AuditScope",
            fields=[
                (
                    "id",
                    django.db.models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "path",
                    fangkong.core.paths.PathField(
                        db_index=True, max_length=255, verbose_name="scope path"
                    ),
                ),
                (
                    "entry",
                    django.db.models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="scopes",
                        to="core.auditlog",
                    ),
                ),
            ],
            options={
                "verbose_name": "audit log scope",
                "verbose_name_plural": "audit log scopes",
                "constraints": [
                    django.db.models.UniqueConstraint(
                        fields=("entry", "path"), name="uniq_audit_scope_path"
                    )
                ],
            },
        ),
        migrations.RunPython(backfill_scopes, migrations.RunPython.noop),
    ]
