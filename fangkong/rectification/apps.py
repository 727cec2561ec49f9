from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RectificationConfig(AppConfig):
    name = "fangkong.rectification"
    label = "rectification"
    verbose_name = _("Rectification")

    def ready(self) -> None:
        from . import ledger_kind

        ledger_kind.register_kind()

        from . import supervision

        supervision.connect()  # colour notices, orders ended with their items, item action
