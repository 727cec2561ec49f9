"""The symptom list and the status rules are configured here by the prevention office."""

from django.contrib import admin

from .models import Declaration, HealthRule, OutbreakProfile, Symptom


@admin.register(Symptom)
class SymptomAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "name_en", "order", "is_active"]
    list_editable = ["order", "is_active"]


@admin.register(HealthRule)
class HealthRuleAdmin(admin.ModelAdmin):
    list_display = ["condition", "symptom", "colour", "is_active"]
    list_editable = ["colour", "is_active"]
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


@admin.register(OutbreakProfile)
class OutbreakProfileAdmin(admin.ModelAdmin):
    list_display = ["disease_name", "lookback_days", "fever_threshold", "updated_at"]

    def has_add_permission(self, request) -> bool:
        return not OutbreakProfile.objects.exists()

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
