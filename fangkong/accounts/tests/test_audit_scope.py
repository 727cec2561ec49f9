"""Audit rows of exports and views carry the unit scope: whoever may read the audit log of
that subtree sees them on the audit-log page, and nobody else does."""

import datetime as dt
import importlib

import pytest
from django.apps import apps
from django.urls import reverse
from django.utils import timezone

from fangkong.accounts.models import RoleAssignment, User
from fangkong.core.models import AuditLog

pytestmark = pytest.mark.django_db


def audit_page_rows(client, user, **filters):
    client.force_login(user)
    response = client.get(reverse("accounts:audit"), filters)
    assert response.status_code == 200
    return list(response.context["page_obj"])


def export_people_as(client, user):
    client.force_login(user)
    assert client.get(reverse("orgs:people_export"), {"format": "csv"}).status_code == 200
    return AuditLog.objects.get(action="export", object_type="orgs.person", actor=user)


def test_a_plant_reporters_export_is_seen_by_the_enterprise_and_the_group_only(client, org):
    entry = export_people_as(client, org.user("reporter", org.plant_a))
    assert entry.scope_path == org.plant_a.path
    assert entry in audit_page_rows(client, org.user("unit_admin", org.ent_a), action="export")
    assert entry in audit_page_rows(client, org.user("group_admin", org.group), action="export")
    assert entry not in audit_page_rows(client, org.user("unit_admin", org.ent_b))


def test_an_export_filtered_to_one_unit_is_scoped_to_that_unit(client, org):
    user = org.user("reporter", org.ent_a)
    client.force_login(user)
    client.get(reverse("orgs:people_export"), {"format": "csv", "unit": org.shop_a.pk})
    entry = AuditLog.objects.get(action="export", actor=user)
    assert entry.scope_path == org.shop_a.path
    assert entry in audit_page_rows(client, org.user("unit_admin", org.plant_a))


def test_an_export_over_two_enterprises_is_seen_by_both_of_their_admins(client, org):
    user = org.user("reporter", org.plant_a)
    RoleAssignment.objects.create(user=user, role="reporter", unit=org.plant_b)
    entry = export_people_as(client, user)
    assert entry.after["rows"] == 2
    assert entry.scope_path == org.group.path  # their common ancestor
    assert entry in audit_page_rows(client, org.user("unit_admin", org.ent_a))
    assert entry in audit_page_rows(client, org.user("unit_admin", org.ent_b))
    assert entry not in audit_page_rows(client, org.user("unit_admin", org.community))


def test_a_superusers_export_of_everything_is_seen_by_the_group_admin(client, org):
    admin = User.objects.create_superuser(username="root", password="pw-Root-123")
    entry = export_people_as(client, admin)
    assert entry.scope_path == org.group.path
    assert entry in audit_page_rows(client, org.user("group_admin", org.group))
    assert entry not in audit_page_rows(client, org.user("unit_admin", org.ent_a))


def test_viewing_a_list_with_full_numbers_is_seen_where_those_people_belong(client, org):
    tracker = org.user("tracker", org.group)
    client.force_login(tracker)
    client.get(reverse("orgs:people"))
    entry = AuditLog.objects.get(action="view_sensitive", actor=tracker)
    assert entry in audit_page_rows(client, org.user("unit_admin", org.ent_a))
    assert entry in audit_page_rows(client, org.user("unit_admin", org.ent_b))
    assert entry not in audit_page_rows(client, org.user("unit_admin", org.community))


def test_the_migration_scopes_past_exports_and_list_views_where_it_can(org):
    migration = importlib.import_module("fangkong.core.migrations.0006_audit_scope")
    now = timezone.now()
    reporter = org.user("reporter", org.plant_a)
    later_role = RoleAssignment.objects.create(user=reporter, role="reporter", unit=org.plant_b)
    RoleAssignment.objects.filter(pk=later_role.pk).update(created_at=now + dt.timedelta(days=1))
    gone = User.objects.create_user(username="gone")
    export = AuditLog.objects.create(actor=reporter, action="export", object_type="orgs.person")
    orphan = AuditLog.objects.create(actor=gone, action="export", object_type="orgs.person")
    listing = AuditLog.objects.create(
        action="view_sensitive",
        object_type="orgs.person",
        after={"ids": [org.person_a.pk, org.person_b.pk]},
    )
    gone.delete()
    migration.backfill_scopes(apps, None)
    export.refresh_from_db()
    orphan.refresh_from_db()
    listing.refresh_from_db()
    assert export.scope_path == org.plant_a.path  # not plant B: granted after the export
    assert orphan.scope_path == ""
    assert listing.scope_path == org.group.path
    assert sorted(listing.scopes.values_list("path", flat=True)) == sorted(
        [org.person_a.unit_path, org.person_b.unit_path]
    )


EXPORTS = [
    ("/people/export/", {}),
    ("/units/export/", {}),
    ("/health/declarations/export/", {"day": ""}),
    ("/ledger/abnormal/export/", {}),
    ("/ledger/quarantine/export/", {}),
    ("/quarantine/export/", {"state": ""}),
    ("/quarantine/trips/export/", {}),
    ("/reports/export/", {}),
    ("/reports/rollup/", {"format": "csv"}),
    ("/reports/people/export/", {"figure": "not_declared"}),
    ("/tracking/contacts/export/", {}),
    ("/travel/returnees/export/", {}),
    ("/notify/deliveries/", {"format": "csv"}),
    ("/accounts/audit/", {"format": "csv"}),
]


@pytest.mark.parametrize(("url", "params"), EXPORTS)
def test_every_export_is_audited_within_the_exporters_enterprise(client, org, url, params):
    admin = org.user("unit_admin", org.ent_a)
    client.force_login(admin)
    response = client.get(url, {"format": "xlsx", **params})
    assert response.status_code == 200, url
    assert "attachment" in response["Content-Disposition"]
    entry = AuditLog.objects.get(action="export", actor=admin)
    assert entry.scope_path.startswith(org.ent_a.path)
    assert entry in audit_page_rows(client, org.user("group_admin", org.group))
    assert entry not in audit_page_rows(client, org.user("unit_admin", org.ent_b))
