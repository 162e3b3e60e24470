"""Load Hanoi's administrative map into the branch tree. Safe to run again: it changes nothing
the second time."""

from django.core.management.base import BaseCommand

from associations.maps import HANOI_MAPS, hanoi_map_load


class Command(BaseCommand):
    help = (
        "Load Hanoi's 2017 and/or 2025 administrative map into the one branch tree (the 2025 map's "
        "communes are founded on 01/07/2025; moving what lived under the old ones is a reorganisation)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--vintage",
            choices=[*(str(vintage) for vintage in HANOI_MAPS), "all"],
            default="all",
            help="Which map to load (default: all).",
        )

    def handle(self, *args, **options):
        vintages = list(HANOI_MAPS) if options["vintage"] == "all" else [options["vintage"]]
        for vintage in vintages:
            result = hanoi_map_load(vintage=vintage)
            self.stdout.write(
                f"Hanoi {result.vintage} map ({HANOI_MAPS[vintage].source}): "
                f"{result.created} created, {result.updated} updated, {result.unchanged} unchanged."
            )
