from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from khuyenhoc.imports import register


class FundsConfig(AppConfig):
    name = "funds"
    verbose_name = _("Funds")

    def ready(self):
        # The adapter and the member records use the models: imported once the registry is ready.
        from associations.personal_data import member_records_register
        from funds.imports import DonationImport
        from funds.measures import measures_register
        from funds.personal_data import DONATIONS

        register(DonationImport)
        member_records_register(DONATIONS)
        measures_register()
