from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from khuyenhoc.imports import register


class LearningConfig(AppConfig):
    name = "learning"
    verbose_name = _("Learning titles")

    def ready(self):
        # The adapters use the models: they can be imported only once the registry is ready.
        from learning.imports import CitizenImport, ClanImport, CommunityImport, HouseholdImport
        from learning.measures import measures_register

        register(HouseholdImport)
        register(ClanImport)
        register(CommunityImport)
        register(CitizenImport)
        measures_register()
