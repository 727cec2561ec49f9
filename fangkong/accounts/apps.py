from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "fangkong.accounts"
    label = "accounts"
    verbose_name = _("Accounts")

    def ready(self) -> None:
        from fangkong.core.access import install_checker

        from .roles import Perm
        from .selectors import user_has_perm_anywhere

        install_checker(lambda user, perm: user_has_perm_anywhere(user, Perm(perm)))
