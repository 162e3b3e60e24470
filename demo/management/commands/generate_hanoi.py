"""Generate a synthetic Hanoi (money 2015–2020, learning titles 2021–2026) into an empty
registry, then apply Hanoi's three reorganisation rounds at their dates (`--rounds N`: only the
first N, 0 stays on the 2017 map).

    python manage.py generate_hanoi --scale full --seed 2017

The 2017 map is loaded first if it is missing. The same seed gives the same rows.
"""

import time

from django.core.management.base import BaseCommand, CommandError

from associations.maps import HANOI_MAPS, hanoi_map_load
from demo.generator import SCALES, GeneratorError, generate_hanoi


class Command(BaseCommand):
    help = "Generate a synthetic Hanoi-sized dataset (PostgreSQL COPY; SQLite works for --scale small)."

    def add_arguments(self, parser):
        parser.add_argument("--scale", choices=sorted(SCALES), default="small")
        parser.add_argument("--seed", type=int, default=2017)
        parser.add_argument(
            "--rounds",
            type=int,
            choices=range(4),
            default=3,
            help="How many of Hanoi's three reorganisation rounds to apply (0: stay on the 2017 map).",
        )

    def handle(self, *args, **options):
        started = time.perf_counter()
        for vintage in HANOI_MAPS:
            hanoi_map_load(vintage=vintage)
        try:
            summary = generate_hanoi(
                scale=options["scale"],
                seed=options["seed"],
                log=self.stdout.write,
                rounds=options["rounds"],
            )
        except GeneratorError as error:
            raise CommandError(str(error)) from error
        for label, count in summary.rows.items():
            self.stdout.write(f"  {label:<40} {count:>15,}")
        self.stdout.write(f"Done in {time.perf_counter() - started:.1f} s")
