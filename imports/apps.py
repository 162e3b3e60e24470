from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ImportsConfig(AppConfig):
    name = "imports"
    verbose_name = _("Excel imports")

    def ready(self):
        # The home page's check uses the models: imported once the registry is ready.
        from associations.home import attention_register
        from imports.home import imports_with_errors

        attention_register(imports_with_errors)
