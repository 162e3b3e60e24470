from smtplib import SMTPException

from celery import shared_task
from django.utils import timezone

from reporting import services


@shared_task(
    autoretry_for=(SMTPException, ConnectionError),
    retry_backoff=60,
    max_retries=3,
    time_limit=600,
    soft_time_limit=540,
)
def reminders_send() -> int:
    """The daily reminders (reporting.services.reminders): run twice a day, it sends nothing more."""
    return services.reminders_send(today=timezone.localdate())
