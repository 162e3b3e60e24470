from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PlansConfig(AppConfig):
    name = "plans"
    verbose_name = _("Plans and targets")

    def ready(self):
        from khuyenhoc.signals import centres_changed, money_changed, registry_changed, titles_changed
        from plans.receivers import data_changed

        registry_changed.connect(data_changed, dispatch_uid="plans.registry_changed")
        money_changed.connect(data_changed, dispatch_uid="plans.money_changed")
        titles_changed.connect(data_changed, dispatch_uid="plans.titles_changed")
        centres_changed.connect(data_changed, dispatch_uid="plans.centres_changed")
