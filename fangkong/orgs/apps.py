from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrgsConfig(AppConfig):
    name = "fangkong.orgs"
    label = "orgs"
    verbose_name = _("Organisation and people")

    def ready(self) -> None:
        from fangkong.accounts.audit_display import register_object_page
        from fangkong.accounts.roles import Perm

        # The audit log links its rows to these pages.
        register_object_page("orgs.orgunit", "orgs:unit", Perm.VIEW_UNITS)
        register_object_page("orgs.person", "orgs:person", Perm.VIEW_PEOPLE)
        register_object_page("orgs.importjob", "orgs:import_detail", Perm.IMPORT)
