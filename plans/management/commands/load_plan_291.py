from django.core.management.base import BaseCommand, CommandError

from plans.services import plan_291_load


class Command(BaseCommand):
    help = (
        "Create Hanoi's Plan 291/KH-UBND (2021–2030) and its targets for 2025 and 2030, entered from "
        "public reporting of the plan (idempotent; see docs/decisions/plan-291-data.md)."
    )

    def handle(self, *args, **options):
        plan = plan_291_load()
        if plan is None:
            raise CommandError("The association tree is not loaded: run `manage.py load_hanoi_map` first.")
        self.stdout.write(f"{plan.code}: {plan.targets.count()} targets")
