from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotifyConfig(AppConfig):
    name = "fangkong.notify"
    label = "notify"
    verbose_name = _("Notifications")

    def ready(self) -> None:
        from fangkong.accounts.audit_display import register_object_page
        from fangkong.accounts.roles import Perm

        register_object_page("notify.channel", "notify:channel", Perm.MANAGE_NOTIFY)
