from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PlansConfig(AppConfig):
    name = "plans"
    verbose_name = _("Plans and targets")

    def ready(self):
        from khuyenhoc.page_cache import PLANS, tables_register
        from khuyenhoc.signals import centres_changed, money_changed, registry_changed, titles_changed
        from plans import models
        from plans.receivers import data_changed

        registry_changed.connect(data_changed, dispatch_uid="plans.registry_changed")
        money_changed.connect(data_changed, dispatch_uid="plans.money_changed")
        titles_changed.connect(data_changed, dispatch_uid="plans.titles_changed")
        centres_changed.connect(data_changed, dispatch_uid="plans.centres_changed")
        # Every write to the plans' tables moves the stamp of the dashboards (khuyenhoc/page_cache.py).
        tables_register(
            PLANS,
            (
                models.IndicatorDefinition,
                models.Plan,
                models.Target,
                models.TargetMilestone,
                models.IndicatorValue,
                models.MoneyYearTotal,
                models.ScholarshipYearTotal,
                models.RecomputeRun,
                models.OnDemandDate,
            ),
        )
