from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from khuyenhoc import imports, measures


class CentresConfig(AppConfig):
    name = "centres"
    verbose_name = _("Community learning centres")

    def ready(self):
        # The adapter and the measures use the models: imported once the registry is ready.
        from centres.imports import ActivityImport
        from centres.measures import MEASURES

        imports.register(ActivityImport)
        for measure in MEASURES:
            measures.register(measure)
