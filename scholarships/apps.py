from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from khuyenhoc.imports import register


class ScholarshipsConfig(AppConfig):
    name = "scholarships"
    verbose_name = _("Scholarships")

    def ready(self):
        # The adapter uses the models: it can be imported only once the registry is ready.
        from funds.pages import FundLink, fund_link_register
        from khuyenhoc.exports import export_register
        from khuyenhoc.page_cache import MONEY, tables_register
        from scholarships import models
        from scholarships.imports import AwardImport
        from scholarships.list_exports import award_list_export
        from scholarships.measures import measures_register
        from scholarships.totals import AWARDS  # noqa: F401 — registers the award turns' stored totals

        register(AwardImport)
        # A fund's page links to the awards paid from it.
        fund_link_register(FundLink(label=_("Awards paid"), url_name="scholarships:award_list"))
        measures_register()
        export_register("awards", award_list_export)
        # Rounds and awards are money records for the page cache.
        tables_register(MONEY, (models.ScholarshipRound, models.Award, models.AwardMonthTotal))
