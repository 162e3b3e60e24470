"""Background work of the registry: large list exports, and removing them after some days.

Thin tasks: they call associations.services and hold no logic of their own.
"""

from __future__ import annotations

import datetime

from celery import shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.utils import translation

from associations import services

TRANSIENT = (OperationalError, InterfaceError, ConnectionError)


@shared_task(autoretry_for=TRANSIENT, retry_backoff=5, max_retries=3, soft_time_limit=25 * 60, time_limit=30 * 60)
def export_job_run(job_id: int, language: str = "vi") -> None:
    """Write one queued list export (associations.ExportJob) to its file."""
    with translation.override(language):
        services.export_job_run(job_id=job_id)


@shared_task(autoretry_for=TRANSIENT, retry_backoff=5, max_retries=3, soft_time_limit=300, time_limit=360)
def export_jobs_purge() -> int:
    """Periodic (CELERY_BEAT_SCHEDULE): remove exports older than settings.EXPORT_KEEP_DAYS days."""
    return services.export_jobs_purge(older_than=datetime.timedelta(days=settings.EXPORT_KEEP_DAYS))
