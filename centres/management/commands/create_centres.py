"""Create a community learning centre for every active commune branch that has none. Safe to
run again: it creates nothing the second time."""

import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from centres.services import centres_create_for_communes


class Command(BaseCommand):
    help = "Create one community learning centre for every commune association active on a date that has none."

    def add_arguments(self, parser):
        parser.add_argument("--as-of", default="", help="The date, dd/mm/yyyy or yyyy-mm-dd (default: today).")

    def handle(self, *args, **options):
        as_of = timezone.localdate()
        if options["as_of"]:
            for pattern in ("%d/%m/%Y", "%Y-%m-%d"):
                try:
                    as_of = datetime.datetime.strptime(options["as_of"], pattern).date()
                    break
                except ValueError:
                    continue
            else:
                raise CommandError(f"Not a date: {options['as_of']!r} (write dd/mm/yyyy).")
        created = centres_create_for_communes(actor=None, as_of=as_of)
        self.stdout.write(f"{created} community learning centre(s) created for {as_of:%d/%m/%Y}.")
