from django.contrib import admin

from .models import AuditLog, Division


@admin.register(AuditLog)
class AuditLogAdmin(admin.ModelAdmin):
    list_display = ["at", "actor", "action", "object_type", "object_repr", "ip_address"]
    list_filter = ["action", "object_type"]
    search_fields = ["object_repr", "actor__username"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Division)
class DivisionAdmin(admin.ModelAdmin):
    list_display = ["code", "full_name", "level"]
    list_filter = ["level"]
    search_fields = ["code", "full_name", "initials"]
