"""Send today's report reminders now (the beat runs them daily at 07:00). Under `make run`
the e-mail backend is the console's: the messages are printed."""

from django.core.management.base import BaseCommand
from django.utils import timezone

from reporting import services


class Command(BaseCommand):
    help = "E-mail the clerks whose half-year or year report is due within 7 days or late (once a day)."

    def handle(self, *args, **options):
        sent = services.reminders_send(today=timezone.localdate())
        self.stdout.write(f"{sent} reminder(s) sent.")
