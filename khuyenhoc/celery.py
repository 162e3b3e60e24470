import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "khuyenhoc.settings")

# PortalTask hands eager tasks to a background thread in the embedded mode (khuyenhoc.background).
app = Celery("khuyenhoc", task_cls="khuyenhoc.background:PortalTask")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
