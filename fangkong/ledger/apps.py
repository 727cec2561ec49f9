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
        from .person_section import register_section

        register_section()  # the person page's cards


def _name_codes_in_the_audit_log() -> None:
    """The audit log page shows an item's kind and state by their labels, not their keys."""
    from django.utils.translation import ngettext

    from fangkong.accounts.audit_display import (
        register_object_page,
        register_object_text,
        register_type_label,
        register_value_label,
    )
    from fangkong.accounts.roles import Perm

    from . import kinds

    def kind_label(key: Any) -> Any:
        kind = kinds.find(str(key))
        return kind.label if kind else None

    def state_label(key: Any) -> Any:
        # An update row names no kind: a state key reads the same in every kind that has it.
        labels = (kind.state_labels.get(str(key)) for kind in kinds.all_kinds())
        return next((label for label in labels if label is not None), None)

    def item_text(entry: Any) -> str | None:
        # Stored as "<kind key> #<id> <title>" or "<kind key>: N item(s) opened".
        after = entry.after if isinstance(entry.after, dict) else {}
        kind = kinds.find(str(after.get("kind", "")))
        ids = after.get("ids")
        if kind is not None and isinstance(ids, list) and len(ids) > 1:
            return ngettext(
                "%(kind)s: %(count)d item opened", "%(kind)s: %(count)d items opened", len(ids)
            ) % {"kind": kind.label, "count": len(ids)}
        key, _hash, rest = entry.object_repr.partition(" #")
        kind = kinds.find(key)
        if kind is not None and rest:
            return f"{kind.label} #{rest}"
        return None

    register_value_label("ledger.item", "kind", kind_label)
    register_value_label("ledger.item", "state", state_label)
    register_object_text("ledger.item", item_text)
    register_object_page("ledger.item", "ledger:item", Perm.VIEW_HEALTH)
    register_type_label("ledger.sweep", _("Overdue sweep"))
