from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LedgerConfig(AppConfig):
    name = "fangkong.ledger"
    label = "ledger"
    verbose_name = _("Tracking ledgers")

    def ready(self) -> None:
        from . import receivers  # noqa: F401  (keeps items with their people and units)

        _name_codes_in_the_audit_log()


def _name_codes_in_the_audit_log() -> None:
    """The audit log page shows an item's kind and state by their labels, not their keys."""
    from fangkong.accounts.audit_display import register_value_label

    from . import kinds

    def kind_label(key: Any) -> Any:
        kind = kinds.find(str(key))
        return kind.label if kind else None

    def state_label(key: Any) -> Any:
        # An update row names no kind: a state key reads the same in every kind that has it.
        labels = (kind.state_labels.get(str(key)) for kind in kinds.all_kinds())
        return next((label for label in labels if label is not None), None)

    register_value_label("ledger.item", "kind", kind_label)
    register_value_label("ledger.item", "state", state_label)
