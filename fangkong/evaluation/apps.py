from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EvaluationConfig(AppConfig):
    name = "fangkong.evaluation"
    label = "evaluation"
    verbose_name = _("Service evaluation")

    def ready(self) -> None:
        from . import ledger_kind, receivers  # noqa: F401  (a problem accepted → 追评)

        ledger_kind.register_kind()
