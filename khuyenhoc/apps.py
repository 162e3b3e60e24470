from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class KhuyenhocConfig(AppConfig):
    name = "khuyenhoc"
    verbose_name = _("Khuyến học portal")

    def ready(self):
        from django.db.backends.signals import connection_created

        from khuyenhoc import security  # noqa: F401  (a signed-in session starts its idle clock)
        from khuyenhoc.db import sqlite_collation_register

        connection_created.connect(sqlite_collation_register, dispatch_uid="khuyenhoc.sqlite_collation")
