"""Check or rebuild the stored money totals (funds.totals): donations and award turns per
branch subtree and month.

    python manage.py money_totals           # compare the stored rows with a recount
    python manage.py money_totals --rebuild # recompute them from the records
"""

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from funds.totals import SPECS, totals_check, totals_rebuild


class Command(BaseCommand):
    help = "Check the stored money totals against a recount of the records, or rebuild them."

    def add_arguments(self, parser):
        parser.add_argument("--rebuild", action="store_true", help="Recompute the stored totals from the records.")

    def handle(self, *args, rebuild: bool = False, **options):
        failed = []
        for name, spec in SPECS.items():
            if rebuild:
                with transaction.atomic():
                    rows = totals_rebuild(spec)
                self.stdout.write(f"{name}: {rows} rows rebuilt")
                continue
            differences = totals_check(spec)
            if differences:
                failed.append(name)
                self.stdout.write(f"{name}: the stored totals differ from a recount, e.g.:")
                for row in differences:
                    self.stdout.write(f"  {row}")
            else:
                self.stdout.write(f"{name}: the stored totals equal a recount")
        if failed:
            raise CommandError(f"Stored totals differ for: {', '.join(failed)}. Run with --rebuild.")
