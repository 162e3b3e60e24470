from django.core.management.base import BaseCommand, CommandError

from plans.services import plan_99_load


class Command(BaseCommand):
    help = "Create Plan 99/KH-KHHN of Hanoi's association and its two targets (idempotent)."

    def handle(self, *args, **options):
        plan = plan_99_load()
        if plan is None:
            raise CommandError("Hanoi's 2017 map is not loaded: run `manage.py load_hanoi_map` first.")
        self.stdout.write(f"{plan.code}: {plan.targets.count()} targets")
