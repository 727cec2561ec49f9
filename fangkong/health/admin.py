"""The symptom list and the status rules are configured here by the prevention office."""

from django.contrib import admin

from .models import Declaration, HealthRule, Symptom


@admin.register(Symptom)
class SymptomAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "name_en", "order", "is_active"]
    list_editable = ["order", "is_active"]


@admin.register(HealthRule)
class HealthRuleAdmin(admin.ModelAdmin):
    list_display = ["condition", "threshold", "symptom", "colour", "is_active"]
    list_editable = ["threshold", "colour", "is_active"]
    list_filter = ["condition", "colour", "is_active"]


@admin.register(Declaration)
class DeclarationAdmin(admin.ModelAdmin):
    """Read-only: declarations are records; corrections are new declarations."""

    list_display = ["person", "day", "temperature", "status", "filed_by", "is_current"]
    list_filter = ["status", "filed_by", "is_current", "day"]
    raw_id_fields = ["person", "proxy", "division"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
