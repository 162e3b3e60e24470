from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class KhuyenhocConfig(AppConfig):
    name = "khuyenhoc"
    verbose_name = _("Khuyến học portal")

    def ready(self):
        from khuyenhoc import security  # noqa: F401  (a signed-in session starts its idle clock)
