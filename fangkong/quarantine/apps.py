from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class QuarantineConfig(AppConfig):
    name = "fangkong.quarantine"
    label = "quarantine"
    verbose_name = _("Quarantine")

    def ready(self) -> None:
        from fangkong.accounts.audit_display import register_object_page
        from fangkong.accounts.roles import Perm

        for object_type, url_name in (
            ("quarantine.placement", "quarantine:placement"),
            ("quarantine.trip", "quarantine:trip"),
        ):
            register_object_page(object_type, url_name, Perm.VIEW_HEALTH, Perm.MANAGE_QUARANTINE)
        register_object_page(
            "quarantine.site", "quarantine:site", Perm.VIEW_ROLLUP, Perm.MANAGE_QUARANTINE
        )
        from . import receivers  # noqa: F401  (path copies; placements follow their items)
        from .ledger_kind import register_kind

        register_kind()
        from . import retention

        retention.register()  # erasing quarantine checks of a past outbreak
        from .person_section import register_section

        register_section()  # the person page's placements
