from celery import shared_task
from django.core.management import call_command


@shared_task(time_limit=600, soft_time_limit=540)
def sessions_clear_expired() -> None:
    """Delete expired sessions (Django's clearsessions); running it twice changes nothing more."""
    call_command("clearsessions")
