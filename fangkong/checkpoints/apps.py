from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CheckpointsConfig(AppConfig):
    name = "fangkong.checkpoints"
    label = "checkpoints"
    verbose_name = _("Checkpoints")

    def ready(self) -> None:
        from fangkong.accounts.audit_display import register_object_page
        from fangkong.accounts.roles import Perm

        register_object_page(
            "checkpoints.checkpoint",
            "checkpoints:checkpoint",
            Perm.RECORD_GATE,
            Perm.MANAGE_CHECKPOINTS,
        )
        from . import receivers  # noqa: F401  (site paths follow unit moves)
