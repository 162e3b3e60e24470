"""Background work of the Excel imports: checking and applying them, and giving up lost ones.

The tasks take the job's id and the language the uploader used (for the error messages),
call the import services and hold no logic of their own. Both are idempotent: the engine
runs a job only from the status that calls for it. Only transient database or broker
errors are retried, with backoff; the apply's single transaction guarantees that a retried
or interrupted apply has written nothing.
"""

from __future__ import annotations

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.db import InterfaceError, OperationalError
from django.utils import translation
from django.utils.translation import gettext as _

from imports import services

TRANSIENT = (OperationalError, InterfaceError, ConnectionError)
# 200 000 rows check in a few minutes; the limits leave room and stop a runaway job.
SOFT_LIMIT = 25 * 60
HARD_LIMIT = 30 * 60
# Both passes: retried with backoff on a lost database or broker; acknowledged only once done,
# so a worker that dies mid-pass leaves the message for another.
PASS_OPTIONS = {
    "bind": True,
    "autoretry_for": TRANSIENT,
    "retry_backoff": 5,
    "retry_backoff_max": 120,
    "retry_jitter": True,
    "max_retries": 3,
    "soft_time_limit": SOFT_LIMIT,
    "time_limit": HARD_LIMIT,
    "acks_late": True,
}


@shared_task(**PASS_OPTIONS)
def job_check(self, job_id: int, language: str = "vi") -> None:
    with translation.override(language):
        try:
            services.job_check(job_id)
        except SoftTimeLimitExceeded:
            services.job_fail(job_id, _("The check took too long and was stopped. Split the file and retry."))


@shared_task(**PASS_OPTIONS)
def job_apply(self, job_id: int, language: str = "vi") -> None:
    with translation.override(language):
        try:
            services.job_apply(job_id)
        except SoftTimeLimitExceeded:
            services.job_fail(job_id, _("Applying took too long and was stopped: nothing was written."))


@shared_task(autoretry_for=TRANSIENT, retry_backoff=5, max_retries=3, soft_time_limit=120, time_limit=180)
def jobs_sweep_stuck() -> int:
    """Periodic (CELERY_BEAT_SCHEDULE): give up the imports whose task was lost."""
    return services.jobs_sweep_stuck()
