from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LedgerConfig(AppConfig):
    name = "fangkong.ledger"
    label = "ledger"
    verbose_name = _("Tracking ledgers")

    def ready(self) -> None:
        from . import receivers  # noqa: F401  (keeps items with their people and units)
