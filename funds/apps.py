from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from khuyenhoc.imports import register


class FundsConfig(AppConfig):
    name = "funds"
    verbose_name = _("Funds")

    def ready(self):
        # The adapter and the member records use the models: imported once the registry is ready.
        from associations.home import attention_register
        from associations.personal_data import member_records_register
        from funds import models
        from funds.home import funds_near_zero
        from funds.imports import DonationImport
        from funds.list_exports import donation_list_export
        from funds.measures import measures_register
        from funds.personal_data import DONATIONS
        from funds.totals import branch_moved_receiver
        from khuyenhoc.exports import export_register
        from khuyenhoc.page_cache import MONEY, tables_register
        from khuyenhoc.signals import branch_moved

        register(DonationImport)
        member_records_register(DONATIONS)
        measures_register()
        attention_register(funds_near_zero)
        export_register("donations", donation_list_export)
        # A moved subtree's donations and awards roll up under its new ancestors (funds.totals).
        branch_moved.connect(branch_moved_receiver, dispatch_uid="funds.totals.branch_moved")
        # Every write to the money tables moves the stamp of the pages that show them.
        tables_register(
            MONEY,
            (
                models.FundModel,
                models.Fund,
                models.Donation,
                models.Transfer,
                models.Payment,
                models.LedgerEntry,
                models.DonationMonthTotal,
            ),
        )
