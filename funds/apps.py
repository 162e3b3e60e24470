from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from khuyenhoc.imports import register


class FundsConfig(AppConfig):
    name = "funds"
    verbose_name = _("Funds")

    def ready(self):
        # The adapter uses the models: it can be imported only once the registry is ready.
        from funds.imports import DonationImport

        register(DonationImport)
