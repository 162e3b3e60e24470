from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _

from khuyenhoc.imports import register


class AssociationsConfig(AppConfig):
    name = "associations"
    verbose_name = _("Associations")

    def ready(self):
        # The adapters use the models: they can be imported only once the registry is ready.
        from associations import models
        from associations.exports import member_list_export, organization_list_export
        from associations.imports import MemberImport, OrganizationImport
        from associations.measures import measures_register
        from associations.sqlite import sqlite_indexes_ensure
        from khuyenhoc.exports import export_register
        from khuyenhoc.page_cache import REGISTRY, tables_register

        register(MemberImport)
        register(OrganizationImport)
        measures_register()
        export_register("members", member_list_export)
        export_register("organizations", organization_list_export)
        # Every write to the registry's tables moves the stamp of the pages that show them.
        tables_register(
            REGISTRY,
            (
                models.Branch,
                models.Organization,
                models.OrganizationHeadcount,
                models.Member,
                models.StaffProfile,
                models.Reorganisation,
                models.LineageEdge,
                models.RecordMove,
            ),
        )
        post_migrate.connect(sqlite_indexes_ensure, sender=self, dispatch_uid="associations.sqlite_indexes")
