"""Prepare the embedded portal for a first look: Hanoi's maps, a synthetic sample of every
district, Hanoi's three reorganisations applied with the demo's decisions (today's map with its
history), centres, Plans 99 and 291 with their indicators, the 2026 report periods, and one demo
account per role.

Idempotent: a second run changes nothing and prints the same counts and logins. Refuses to run with
DEBUG off, since the demo accounts share a published password.
"""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from demo.accounts import DEMO_PASSWORD
from demo.services import demo_data_counts, demo_setup


class Command(BaseCommand):
    help = (
        "Load Hanoi's maps and synthetic demo data, apply Hanoi's reorganisations with the demo's decisions, "
        "load centres, plans and report periods, and create demo accounts for each role (development only)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="Run even with DEBUG off.")
        parser.add_argument(
            "--url", default="http://127.0.0.1:8000/", help="Where the portal will be served (printed for the user)."
        )

    def handle(self, *args, **options):
        if not settings.DEBUG and not options["force"]:
            raise CommandError("demo_setup creates accounts with a published password; refusing with DEBUG off.")
        accounts = demo_setup()
        self.stdout.write("")
        self.stdout.write("Demo data (generated: every name, address and ID is synthetic)")
        for item in demo_data_counts():
            self.stdout.write(f"  {item.label:<56} {item.count:>8}")
        self.stdout.write("")
        self.stdout.write(f"Demo accounts (password for all: {DEMO_PASSWORD})")
        for account in accounts:
            note = f" ({account.note})" if account.note else ""
            self.stdout.write(f"  {account.username:<22} {account.role:<28} {account.branch}{note}")
        self.stdout.write("")
        self.stdout.write(f"Open {options['url']} and sign in with one of them.")
