from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class KhuyenhocConfig(AppConfig):
    name = "khuyenhoc"
    verbose_name = _("Khuyến học portal")

    def ready(self):
        from django.db import connections
        from django.db.backends.signals import connection_created

        from khuyenhoc import security  # noqa: F401  (a signed-in session starts its idle clock)
        from khuyenhoc.db import sqlite_collation_register
        from khuyenhoc.page_cache import writes_watch

        connection_created.connect(sqlite_collation_register, dispatch_uid="khuyenhoc.sqlite_collation")
        # Writes to the tables the apps register bump the page cache's stamps (khuyenhoc/page_cache.py).
        connection_created.connect(writes_watch, dispatch_uid="khuyenhoc.page_cache.writes_watch")
        for opened in connections.all(initialized_only=True):
            writes_watch(connection=opened)
