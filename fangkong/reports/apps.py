from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    name = "fangkong.reports"
    label = "reports"
    verbose_name = _("Daily reports")

    def ready(self) -> None:
        from fangkong.accounts.audit_display import register_type_label

        from . import receivers  # noqa: F401  (keeps the reports' unit paths with their units)
        from .models import ReportPlan
        from .plans import active_plans

        register_type_label("reports.rollup", _("Roll-up"))
        active_plans.watch([ReportPlan])
