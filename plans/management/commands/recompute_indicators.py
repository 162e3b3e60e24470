from django.core.management.base import BaseCommand

from plans.models import RecomputeRun
from plans.services import recompute_run_execute


class Command(BaseCommand):
    help = "Compute and store every indicator value now, in this process (what the nightly task does)."

    def handle(self, *args, **options):
        run = recompute_run_execute(run_id=None, trigger=RecomputeRun.Trigger.MANUAL)
        self.stdout.write(f"{run.rows_written} values written")
