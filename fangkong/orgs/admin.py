from django.contrib import admin

from .models import ImportJob, OrgUnit


@admin.register(OrgUnit)
class OrgUnitAdmin(admin.ModelAdmin):
    """Read-only here: the tree changes through the services (paths must stay consistent)."""

    list_display = ["code", "name", "kind", "depth", "valid_from", "valid_to"]
    list_filter = ["kind"]
    search_fields = ["code", "name", "name_initials"]

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    list_display = ["original_name", "kind", "status", "rows_total", "rows_bad", "created_by"]
